// Flyer Crawler test environment. Port: FLYER_API_TEST_PORT (default 3002).
'use strict';
const path = require('path');
const env = process.env;
module.exports = {
  apps: [
    {
      name: 'flyer-crawler-api-test',
      script: path.join(__dirname, 'health-api.js'),
      env: {
        PORT: env.FLYER_API_TEST_PORT || '3002',
        SANDBOX_APP: 'flyer-crawler-api-test',
        SANDBOX_SERVICES: 'database,redis,storage',
        SANDBOX_CONTROL_FILE: env.FLYER_API_TEST_CONTROL_FILE || '',
        SANDBOX_HEALTH_MODE: env.FLYER_API_TEST_HEALTH_MODE || 'healthy',
      },
    },
    {
      name: 'flyer-crawler-worker-test',
      script: path.join(__dirname, 'worker.js'),
      env: { SANDBOX_APP: 'flyer-crawler-worker-test' },
    },
    {
      name: 'flyer-crawler-analytics-worker-test',
      script: path.join(__dirname, 'worker.js'),
      env: { SANDBOX_APP: 'flyer-crawler-analytics-worker-test', SANDBOX_WORKER_MS: '15000' },
    },
  ],
};
