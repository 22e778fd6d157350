// A small app for `init` tests, unlike the runbook's site: it serves its health in
// the format named by HEALTH_KIND on PORT (no PORT: a worker that only ticks).
//   runbook      GET /api/health/ready -> {"data":{"status":"healthy"}}
//   health+json  GET /health -> application/health+json {"status":"pass"}
//   2xx          GET /healthz -> 200 "ok" (text/plain)
// Every other path answers 404.
const http = require('http');
const port = process.env.PORT;
const kind = process.env.HEALTH_KIND || '2xx';
if (!port) {
  setInterval(() => {}, 1000);
} else {
  http.createServer((req, res) => {
    if (kind === 'runbook' && req.url === '/api/health/ready') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { status: 'healthy', services: { db: 'ok' } } }));
    } else if (kind === 'health+json' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/health+json' });
      res.end(JSON.stringify({ status: 'pass' }));
    } else if (kind === '2xx' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  }).listen(Number(port), '127.0.0.1');
}
