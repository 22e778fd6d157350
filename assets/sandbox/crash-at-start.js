// Sandbox app that fails at start (like a bad deploy: missing config). PM2 restarts it until
// max_restarts, then marks it errored.
'use strict';
console.error('crash-at-start: missing required configuration DATABASE_URL; exiting');
process.exit(1);
