// A stand-in for one inventory process in a sandbox drill (`drill --sandbox`): no npm
// dependencies. With PORT it serves READY_PATH / PING_PATH on 127.0.0.1 in the
// inventory's HEALTH_FORMAT; without, it idles like a worker.
//
// When the file CRASH_FLAG exists it holds a crash program (JSON, written by the sandbox,
// see crates/engine/src/drill/sandbox/plan.rs): this run crashes instead of serving, at once
// while PM2's unstable-restart count is below `fast`, else after `run_ms` (the scenario's
// cadence), by exiting with `exit_code` or by SIGKILL (OOM-style). Unless `persists`, the
// cause is gone for an instance once PM2 gave up on it, or once PM2 stopped or restarted it
// on someone's command (the sandbox's `.cured` marker per instance). SIGURG is the fault
// arriving: a running stand-in reads its program and dies the programmed way at once.
'use strict';
const fs = require('fs');
const http = require('http');
const name = process.env.name || process.env.STANDIN_NAME || 'standin';

function crashProgram() {
  const flag = process.env.CRASH_FLAG;
  if (!flag || !fs.existsSync(flag)) return null;
  let prog;
  try {
    prog = JSON.parse(fs.readFileSync(flag, 'utf8'));
  } catch (e) {
    // An unreadable flag is still a crash: the sandbox wrote it to break this app.
    prog = { fault: 0, death: 'exit', exit_code: 1, reason: 'crash flag set', limit: 15, persists: true, fast: 0, run_ms: 0 };
  }
  const mark = `${flag}.${prog.fault}.${process.env.NODE_APP_INSTANCE || '0'}`;
  // PM2's own count for this run (it resets it on a restart by command and when it gives up).
  const unstable = Number(process.env.unstable_restarts || 0);
  let crashes = 0;
  try {
    crashes = Number(fs.readFileSync(`${mark}.count`, 'utf8')) || 0;
  } catch (e) {}
  const cured = () => {
    if (!prog.persists) fs.writeFileSync(`${mark}.cured`, '');
  };
  if (!prog.persists && (fs.existsSync(`${mark}.cured`) || (crashes > 0 && unstable === 0))) return null;
  fs.writeFileSync(`${mark}.count`, String(crashes + 1));
  // This exit makes PM2 give up: the next start is someone's command.
  if (unstable + 1 >= prog.limit) cured();
  return { prog, cured };
}

function die(prog) {
  console.error(`${name}: ${prog.reason}`);
  if (prog.death === 'sigkill') process.kill(process.pid, 'SIGKILL');
  else process.exit(prog.exit_code);
}

const crash = crashProgram();
if (crash) {
  const { prog, cured } = crash;
  // Stopped or restarted by PM2 on a command while crash-looping: the responder's restart.
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cured();
      process.exit(0);
    });
  }
  const unstable = Number(process.env.unstable_restarts || 0);
  setTimeout(() => die(prog), unstable < prog.fast ? 0 : prog.run_ms);
} else {
  process.on('SIGURG', () => {
    const now = crashProgram();
    if (now) die(now.prog);
  });
  serve();
}

function serve() {
  const port = Number(process.env.PORT || 0);
  if (!port) {
    setInterval(() => console.log(`${name}: job batch done`), 30000);
    return;
  }
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
}
