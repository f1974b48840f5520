'use strict';
/* global require, module */
// The compiled N-API addon (node-gyp builds it on `npm install`; `npm rebuild ares-sd-notify` rebuilds it).
// N-API is ABI-stable, so one build keeps loading across Node versions.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node file loads only through require()
module.exports = require('./build/Release/sd_notify.node');
