const m = process.argv[2];
const before = process.memoryUsage().rss;
await import(m);
globalThis.gc?.();
const u = process.memoryUsage();
console.log(m.split('/').slice(-2).join('/'), 'rss', (u.rss/1048576).toFixed(1), 'heapUsed', (u.heapUsed/1048576).toFixed(1), 'heapTotal', (u.heapTotal/1048576).toFixed(1), 'ext', (u.external/1048576).toFixed(1), 'base', (before/1048576).toFixed(1));
