// An app that crashes at start; PM2 gives up after CRASH_MAX_RESTARTS (default 3) -> errored.
'use strict';
const path = require('path');
module.exports = {
  apps: [
    {
      name: 'crash-at-start',
      script: path.join(__dirname, 'crash-at-start.js'),
      max_restarts: parseInt(process.env.CRASH_MAX_RESTARTS || '3', 10),
      min_uptime: 1000,
      restart_delay: 0,
      autorestart: true,
    },
  ],
};
