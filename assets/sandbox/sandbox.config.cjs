// Every sandbox app in one file (use `pm2 start sandbox.config.cjs --only a,b` for a subset).
'use strict';
const parts = ['./ecosystem.config.cjs', './ecosystem-test.config.cjs', './stock-alert.config.cjs', './crash.config.cjs'];
module.exports = { apps: parts.flatMap((p) => require(p).apps) };
