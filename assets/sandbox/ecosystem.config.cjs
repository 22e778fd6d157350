// Flyer Crawler production, as on the runbook's server. Port: FLYER_API_PORT (default 3001).
'use strict';
const path = require('path');
const env = process.env;
module.exports = {
  apps: [
    {
      name: 'flyer-crawler-api',
      script: path.join(__dirname, 'health-api.js'),
      exec_mode: 'cluster',
      instances: 2,
      env: {
        PORT: env.FLYER_API_PORT || '3001',
        SANDBOX_APP: 'flyer-crawler-api',
        SANDBOX_SERVICES: 'database,redis,storage',
        SANDBOX_CONTROL_FILE: env.FLYER_API_CONTROL_FILE || '',
        SANDBOX_HEALTH_MODE: env.FLYER_API_HEALTH_MODE || 'healthy',
      },
    },
    {
      name: 'flyer-crawler-worker',
      script: path.join(__dirname, 'worker.js'),
      env: { SANDBOX_APP: 'flyer-crawler-worker' },
    },
    {
      name: 'flyer-crawler-analytics-worker',
      script: path.join(__dirname, 'worker.js'),
      env: { SANDBOX_APP: 'flyer-crawler-analytics-worker', SANDBOX_WORKER_MS: '15000' },
    },
  ],
};
