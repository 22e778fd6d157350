// Sandbox background worker: logs a heartbeat; no HTTP. SANDBOX_WORKER_MS sets the interval.
'use strict';
const name = process.env.SANDBOX_APP || process.env.name || 'sandbox-worker';
const every = parseInt(process.env.SANDBOX_WORKER_MS || '5000', 10);
let jobs = 0;
console.log(`${name} started`);
setInterval(() => {
  jobs += 1;
  console.log(`${name} processed job ${jobs}`);
}, every);
process.on('SIGINT', () => process.exit(0));
