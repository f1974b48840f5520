import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { NO_OLDER_NODE, olderNode } from '../helpers/older-node.js';

// `npm test` (scripts/test.mjs) runs tap with the node that runs it, and tap starts every test file with
// its own process.execPath: this file runs under the node the suite was started with.

t.test('the test files run under Node >= 22', async (t) => {
  t.ok(Number(process.versions.node.split('.')[0]) >= 22, `${process.version} (${process.execPath})`);
});

t.test("the native addons in node_modules load under this Node's ABI", async (t) => {
  const require = createRequire(import.meta.url);
  // epoll (nan, for onoff) is compiled for one NODE_MODULE_VERSION: after a change of Node it needs
  // `npm ci` (or `npm rebuild`) with npm_config_nodedir pointing at the new Node (README "Install").
  t.doesNotThrow(() => require('epoll'), `epoll is built for modules ${process.versions.modules}`);
  // Node-API addons load under any Node >= their API version.
  t.doesNotThrow(() => require('ares-sd-notify'), 'ares-sd-notify');
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(':memory:');
  t.same(db.prepare('select 1 as one').get(), { one: 1 }, 'better-sqlite3 opens a database');
  db.close();
});

const older = olderNode();
t.test('npm test under an older Node says what it needs and fails', { skip: !older && NO_OLDER_NODE }, async (t) => {
  const script = fileURLToPath(new URL('../../scripts/test.mjs', import.meta.url));
  const r = spawnSync(older!.path, [script], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 2, 'one line saying why, then the counts');
  t.match(lines[0], `npm test needs Node.js >= 22 (this is ${older!.version}`);
  t.match(lines[0], 'bash scripts/install-node.sh');
  t.equal(lines[1], '0 passed, 1 failed');
});
