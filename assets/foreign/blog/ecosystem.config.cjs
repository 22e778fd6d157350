// A blog in two environments: production (health+json) and test (the runbook's shape).
const app = require('path').join(__dirname, '..', 'app.js');
const secret = process.env.PM2I_CANARY_SECRET;
module.exports = {
  apps: [
    {
      name: 'blog',
      script: app,
      cwd: __dirname,
      env: { PORT: process.env.BLOG_PORT, HEALTH_KIND: 'health+json', BLOG_DB_PASSWORD: secret },
    },
    {
      name: 'blog-test',
      script: app,
      cwd: __dirname,
      env: { PORT: process.env.BLOG_TEST_PORT, HEALTH_KIND: 'runbook', NODE_ENV: 'test', BLOG_DB_PASSWORD: secret },
    },
  ],
};
