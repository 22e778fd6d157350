// A shop: a clustered web app (2 instances) and a queue worker with no port.
const app = require('path').join(__dirname, '..', 'app.js');
const secret = process.env.PM2I_CANARY_SECRET;
module.exports = {
  apps: [
    {
      name: 'shop-web',
      script: app,
      cwd: __dirname,
      exec_mode: 'cluster',
      instances: 2,
      env: { PORT: process.env.SHOP_WEB_PORT, HEALTH_KIND: '2xx', NODE_ENV: 'production', SHOP_API_KEY: secret },
    },
    {
      name: 'shop-queue',
      script: app,
      cwd: __dirname,
      env: { NODE_ENV: 'production', SHOP_API_KEY: secret },
    },
  ],
};
