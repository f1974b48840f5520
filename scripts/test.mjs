#!/usr/bin/env node
// `npm test`: type-check, lint, build, then tap, all under the node running this script (tap starts every
// test file with its own process.execPath, so the files run under it too). That node must be >= 22: hubs
// ship Node 24 LTS, and better-sqlite3 13 needs 22. Ends with the plain "N passed, N failed[, N skipped]"
// computed from tap's own TAP stream (scripts/tally.mjs), and a non-zero exit on any failure. Extra
// arguments (test files, tap options) go to tap. Plain JS that an older node still parses, so it can say
// what is wrong instead of failing somewhere in the suite.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatCounts, parseTallyLine, runCounts } from './tally.mjs';

const MIN_NODE_MAJOR = 22;
const root = fileURLToPath(new URL('..', import.meta.url));
const log = (line) => process.stdout.write(`${line}\n`);

if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
  log(
    `npm test needs Node.js >= ${MIN_NODE_MAJOR} (this is ${process.version}, ${process.execPath}): ` +
      'run `bash scripts/install-node.sh` (Node 24, as on the hubs), then `hash -r` and `npm ci`',
  );
  log(formatCounts({ pass: 0, fail: 1, skip: 0 }));
  process.exit(1);
}

function step(label, cmd, args) {
  log(`\n== ${label}`);
  return spawnSync(cmd, args, { stdio: 'inherit', cwd: root }).status === 0;
}

const tsc = resolve(root, 'node_modules/typescript/bin/tsc');
let failedSteps = 0;
if (!step('type-check (tsc --noEmit)', process.execPath, [tsc, '--noEmit'])) failedSteps++;
if (!step('lint (eslint)', process.execPath, [resolve(root, 'node_modules/eslint/bin/eslint.js'), '.'])) failedSteps++;
// The CLI tests run the built `ares`, so build it from the sources under test.
if (!step('build (tsc -p tsconfig.build.json)', process.execPath, [tsc, '-p', 'tsconfig.build.json'])) failedSteps++;

log(`\n== tap (node ${process.version})`);
// tap runs in the checkout's root; test files named relative to where this was started go as absolute paths.
const tapArgs = process.argv.slice(2).map((a) => (!a.startsWith('-') && existsSync(a) ? resolve(a) : a));
const tap = resolve(root, 'node_modules/tap/dist/esm/run.mjs');
const child = spawn(process.execPath, [tap, 'run', '--reporter=tap', ...tapArgs], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let tally;
createInterface({ input: child.stdout }).on('line', (line) => {
  log(line);
  tally = parseTallyLine(line) ?? tally;
});
const code = await new Promise((done) => child.on('close', done));

const counts = runCounts({ tally, code, failedSteps });
log(`\n${formatCounts(counts)}`);
process.exit(counts.fail > 0 ? 1 : 0);
