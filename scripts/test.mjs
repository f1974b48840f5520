#!/usr/bin/env node
// `npm test`: type-check, lint, then tap; ends with a plain "N passed, N failed[, N skipped]" line
// computed from tap's own TAP stream, and a non-zero exit on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;

function step(label, cmd, args) {
  process.stdout.write(`\n== ${label}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  return r.status === 0;
}

let failedSteps = 0;
if (!step('type-check (tsc --noEmit)', bin('tsc'), ['--noEmit'])) failedSteps++;
if (!step('lint (eslint)', bin('eslint'), ['.'])) failedSteps++;
// The CLI tests run the built `ares`, so build it from the sources under test.
if (!step('build (tsc -p tsconfig.build.json)', bin('tsc'), ['-p', 'tsconfig.build.json'])) failedSteps++;

process.stdout.write('\n== tap\n');
// tap's TAP reporter closes with its own tally, e.g. "# { total: 12, pass: 11, fail: 1, skip: 0 }",
// counted over every assertion of every file; we echo the stream and re-print that tally plainly.
const child = spawn(bin('tap'), ['run', '--reporter=tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let tally;
const rl = createInterface({ input: child.stdout });
rl.on('line', (line) => {
  process.stdout.write(line + '\n');
  const m = /^# \{ (total: \d+.*) \}$/.exec(line);
  if (m)
    tally = Object.fromEntries(
      m[1]
        .split(', ')
        .map((kv) => kv.split(': '))
        .map(([k, v]) => [k, Number(v)]),
    );
});
const code = await new Promise((resolve) => child.on('close', resolve));
const pass = tally?.pass ?? 0;
const skip = (tally?.skip ?? 0) + (tally?.todo ?? 0);
let fail = tally?.fail ?? 0;
// A crash, a timeout or a missing tally is a failure even if no assertion said so.
if ((code !== 0 || tally === undefined) && fail === 0) fail = 1;
fail += failedSteps;
process.stdout.write(`\n${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}\n`);
process.exit(fail > 0 ? 1 : 0);
