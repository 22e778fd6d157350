// Stock Alert production. Port: STOCK_ALERT_PORT (default 3003).
'use strict';
const path = require('path');
const env = process.env;
module.exports = {
  apps: [
    {
      name: 'stock-alert-api',
      script: path.join(__dirname, 'health-api.js'),
      env: {
        PORT: env.STOCK_ALERT_PORT || '3003',
        SANDBOX_APP: 'stock-alert-api',
        SANDBOX_SERVICES: 'database,market-feed',
        SANDBOX_CONTROL_FILE: env.STOCK_ALERT_CONTROL_FILE || '',
        SANDBOX_HEALTH_MODE: env.STOCK_ALERT_HEALTH_MODE || 'healthy',
      },
    },
  ],
};
