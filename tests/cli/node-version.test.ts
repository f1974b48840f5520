import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { MIN_NODE_MAJOR, nodeVersionProblem } from '../../cli/node-version.js';
import { NO_OLDER_NODE, olderNode } from '../helpers/older-node.js';

// `ares` on a Node older than 22: one line on stderr, exit 2, before any of the CLI loads.
const ARES = fileURLToPath(new URL('../../dist/cli/ares.js', import.meta.url));
if (!existsSync(ARES)) throw new Error(`${ARES} is missing: run \`npx tsc -p tsconfig.build.json\` first`);

t.test('the version check', async (t) => {
  const line = 'Node.js >= 22 is required (this is v20.20.2); hubs ship Node 24 LTS — see README "Install"';
  t.equal(nodeVersionProblem('20.20.2'), line);
  t.match(nodeVersionProblem('21.7.3'), /^Node\.js >= 22 is required \(this is v21\.7\.3\)/);
  t.match(nodeVersionProblem('18.0.0'), /this is v18\.0\.0/);
  for (const ok of ['22.0.0', '22.12.0', '24.21.0', '25.1.0', '100.0.0'])
    t.equal(nodeVersionProblem(ok), undefined, ok);
  t.match(nodeVersionProblem('unknown'), /is required/, 'an unreadable version is not assumed to be enough');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    engines: { node: string };
  };
  t.equal(pkg.engines.node, `>=${MIN_NODE_MAJOR}`, 'the same minimum as package.json "engines"');
});

t.test('under this Node the entry loads the CLI', async (t) => {
  const r = spawnSync(process.execPath, [ARES, '--help'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^Usage: ares <command>/);
});

const older = olderNode();
t.test('under an older Node, dist/cli/ares.js exits 2 with one line', { skip: !older && NO_OLDER_NODE }, async (t) => {
  for (const args of [['--help'], ['hub', '--config', '/nonexistent.yaml']]) {
    const r = spawnSync(older!.path, [ARES, ...args], { encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 2, `exit 2 (${args.join(' ')})`);
    t.equal(r.stdout, '', 'nothing on stdout');
    t.equal(
      r.stderr,
      `ares: Node.js >= 22 is required (this is ${older!.version}); hubs ship Node 24 LTS — see README "Install"\n`,
      'one line on stderr',
    );
  }
});
