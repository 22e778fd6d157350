// A stand-in for the server's NGINX: forwards each listening port to an app port on
// 127.0.0.1 and answers 502 Bad Gateway (with NGINX's HTML) when the app is down.
// Usage: node gateway.js LISTEN:UPSTREAM [LISTEN:UPSTREAM ...]   (no npm dependencies)
'use strict';
const http = require('http');

const BAD_GATEWAY =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
  '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

const pairs = process.argv.slice(2).map((a) => a.split(':').map((n) => parseInt(n, 10)));
if (pairs.length === 0 || pairs.some((p) => p.length !== 2 || p.some((n) => !(n > 0)))) {
  console.error('usage: node gateway.js LISTEN:UPSTREAM [LISTEN:UPSTREAM ...]');
  process.exit(2);
}

for (const [listen, upstream] of pairs) {
  const server = http.createServer((req, res) => {
    const fwd = http.request(
      { host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers, timeout: 10000 },
      (up) => {
        res.writeHead(up.statusCode || 502, up.headers);
        up.pipe(res);
      },
    );
    const fail = (code, text) => {
      if (!res.headersSent) {
        res.writeHead(code, { 'content-type': 'text/html' });
        res.end(text);
      } else {
        res.destroy();
      }
    };
    fwd.on('timeout', () => { fwd.destroy(); fail(504, BAD_GATEWAY.replace(/502 Bad Gateway/g, '504 Gateway Time-out')); });
    fwd.on('error', () => fail(502, BAD_GATEWAY));
    req.pipe(fwd);
  });
  server.listen(listen, '127.0.0.1', () => console.log(`gateway 127.0.0.1:${listen} -> 127.0.0.1:${upstream}`));
}
