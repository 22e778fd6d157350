// A stand-in for one inventory process in a sandbox drill (`drill --sandbox`): no npm
// dependencies. With PORT it serves READY_PATH / PING_PATH on 127.0.0.1 in the
// inventory's HEALTH_FORMAT; without, it idles like a worker. When the file CRASH_FLAG
// exists it exits at start (a crash loop PM2 sees for real).
'use strict';
const fs = require('fs');
const http = require('http');
const name = process.env.name || process.env.STANDIN_NAME || 'standin';
if (process.env.CRASH_FLAG && fs.existsSync(process.env.CRASH_FLAG)) {
  console.error(`${name}: ${fs.readFileSync(process.env.CRASH_FLAG, 'utf8') || 'crash flag set'}`);
  process.exit(Number(process.env.CRASH_EXIT || 1));
}
const port = Number(process.env.PORT || 0);
if (port) {
  const ready = process.env.READY_PATH || '/api/health/ready';
  const ping = process.env.PING_PATH || '/api/health/ping';
  const format = process.env.HEALTH_FORMAT || 'runbook';
  http
    .createServer((req, res) => {
      const path = (req.url || '/').split('?')[0];
      if (path === ready) {
        const body =
          format === 'health+json'
            ? { status: 'pass' }
            : format === 'status-2xx'
              ? 'ok'
              : { success: true, data: { status: 'healthy', app: name } };
        res.writeHead(200, {
          'content-type': format === 'health+json' ? 'application/health+json' : 'application/json',
        });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      } else if (path === ping) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ success: true, data: { message: 'pong' } }));
      } else {
        res.writeHead(404);
        res.end();
      }
    })
    .listen(port, '127.0.0.1', () => console.log(`${name} listening on 127.0.0.1:${port}`));
} else {
  setInterval(() => console.log(`${name}: job batch done`), 30000);
}
