#!/usr/bin/env node
// Launcher: runs the native binary from the per-platform package npm installed as an
// optional dependency (only the one matching this machine's os/cpu is installed).
'use strict';
const { spawn } = require('child_process');

const PLATFORMS = {
  'linux x64': '@pm2-incident/linux-x64',
  'linux arm64': '@pm2-incident/linux-arm64',
};

function fail(msg) {
  process.stderr.write(`pm2-incident: ${msg}\n`);
  process.exit(1);
}

function binaryPath() {
  // For a binary built by hand (e.g. cargo build): PM2_INCIDENT_BINARY=/path/to/pm2-incident
  if (process.env.PM2_INCIDENT_BINARY) return process.env.PM2_INCIDENT_BINARY;
  const key = `${process.platform} ${process.arch}`;
  const pkg = PLATFORMS[key];
  if (!pkg) {
    fail(`no prebuilt binary for ${key}; supported: ${Object.keys(PLATFORMS).join(', ')}. ` +
      'Build from source: cargo install --locked --path .');
  }
  try {
    return require.resolve(`${pkg}/bin/pm2-incident`);
  } catch (e) {
    fail(`the package ${pkg} is not installed (was npm run with --omit=optional or ` +
      `--no-optional?). Install it: npm i -g ${pkg}`);
  }
}

const child = spawn(binaryPath(), process.argv.slice(2), { stdio: 'inherit' });
child.on('error', (e) => fail(`cannot run the binary: ${e.message}`));
// Ctrl-C reaches the binary from the terminal itself (same process group): the launcher
// only stays alive until it exits. Signals sent to the launcher alone are passed on.
process.on('SIGINT', () => {});
for (const sig of ['SIGTERM', 'SIGHUP', 'SIGQUIT']) {
  process.on(sig, () => child.kill(sig));
}
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code === null ? 1 : code);
  }
});
