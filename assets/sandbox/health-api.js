// Sandbox HTTP API for drills and tests: serves the runbook's health endpoints.
// No npm dependencies. Configuration (environment):
//   PORT                     port to listen on (required; 127.0.0.1 unless SANDBOX_HOST)
//   SANDBOX_APP              name shown in responses (default: the PM2 name or "sandbox-api")
//   SANDBOX_SERVICES         comma list of services reported by /ready (default "database,redis")
//   SANDBOX_HEALTH_MODE      healthy | unhealthy | slow | html | hang | error500   (default healthy)
//   SANDBOX_SLOW_MS          delay for mode "slow" (default 3000)
//   SANDBOX_CONTROL_FILE     optional file holding a mode; read on every request so all
//                            cluster instances agree; the admin endpoint writes it.
// Admin endpoint (changes behaviour at runtime, from any instance):
//   POST|GET /__sandbox/mode?set=<mode>[&slow_ms=N]   -> {"mode":...}
//   GET      /__sandbox/mode                          -> current mode
'use strict';
const http = require('http');
const fs = require('fs');
const url = require('url');

const MODES = ['healthy', 'unhealthy', 'slow', 'html', 'hang', 'error500'];
const port = parseInt(process.env.PORT || '', 10);
if (!Number.isInteger(port)) {
  console.error('health-api: PORT is not set');
  process.exit(2);
}
const host = process.env.SANDBOX_HOST || '127.0.0.1';
const appName = process.env.SANDBOX_APP || process.env.name || 'sandbox-api';
const services = (process.env.SANDBOX_SERVICES || 'database,redis').split(',').filter(Boolean);
const controlFile = process.env.SANDBOX_CONTROL_FILE || '';
let envMode = process.env.SANDBOX_HEALTH_MODE || 'healthy';
let slowMs = parseInt(process.env.SANDBOX_SLOW_MS || '3000', 10);

function currentMode() {
  if (controlFile) {
    try {
      const m = fs.readFileSync(controlFile, 'utf8').trim().split(/\s+/);
      if (MODES.includes(m[0])) {
        if (m[1]) slowMs = parseInt(m[1], 10) || slowMs;
        return m[0];
      }
    } catch (_) { /* no file yet: fall back to the environment */ }
  }
  return envMode;
}

function json(res, code, body) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readyBody(healthy) {
  const svc = {};
  for (const s of services) {
    svc[s] = { status: healthy ? 'healthy' : 'unhealthy', latency: healthy ? 2 : null };
  }
  return {
    success: healthy,
    data: {
      status: healthy ? 'healthy' : 'unhealthy',
      app: appName,
      instance: process.env.NODE_APP_INSTANCE || '0',
      timestamp: new Date().toISOString(),
      services: svc,
    },
  };
}

function answer(req, res, mode) {
  const path = url.parse(req.url).pathname;
  if (mode === 'hang') return; // never answer: the client must time out
  if (mode === 'html') {
    res.writeHead(502, { 'content-type': 'text/html' });
    return res.end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n');
  }
  if (mode === 'error500') return json(res, 500, { success: false, error: { message: 'Internal Server Error' } });
  if (path === '/api/health/ping') return json(res, 200, { success: true, data: { message: 'pong' } });
  if (path === '/api/health/ready') {
    const healthy = mode !== 'unhealthy';
    return json(res, healthy ? 200 : 503, readyBody(healthy));
  }
  json(res, 404, { success: false, error: { message: 'not found' } });
}

const server = http.createServer((req, res) => {
  const u = url.parse(req.url, true);
  if (u.pathname === '/__sandbox/mode') {
    const set = u.query.set;
    if (set !== undefined) {
      if (!MODES.includes(set)) return json(res, 400, { error: 'unknown mode', modes: MODES });
      if (u.query.slow_ms) slowMs = parseInt(u.query.slow_ms, 10) || slowMs;
      envMode = set;
      if (controlFile) fs.writeFileSync(controlFile, set + ' ' + slowMs + '\n');
    }
    return json(res, 200, { mode: currentMode(), slow_ms: slowMs });
  }
  const mode = currentMode();
  if (mode === 'slow') return setTimeout(() => answer(req, res, 'healthy'), slowMs);
  answer(req, res, mode);
});

server.listen(port, host, () => {
  console.log(`${appName} listening on http://${host}:${port} (instance ${process.env.NODE_APP_INSTANCE || 0})`);
});

process.on('SIGINT', () => server.close(() => process.exit(0)));
