#!/usr/bin/env node
// `npm test`: type-check, lint, build, then tap under this machine's node; then (in CI, or with
// ARES_TEST_NODE24=1) build and tap again under Node 24, which hubs run (scripts/node24.mjs). Ends with
// one line per pass and a plain summed "N passed, N failed[, N skipped]" computed from tap's own TAP
// stream, and a non-zero exit on any failure. Extra arguments (test files, tap options) go to both taps.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NODE24_VERSION, SKIP_MESSAGE, node24Enabled, prepareNode24 } from './node24.mjs';
import { formatCounts, formatPasses, parseTallyLine, passCounts, sumCounts } from './tally.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tapArgs = process.argv.slice(2);
const log = (line) => process.stdout.write(`${line}\n`);

function step(label, cmd, args, opts = {}) {
  log(`\n== ${label}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
}

/** Runs tap with `node` in `cwd`, echoing its TAP stream; resolves to tap's tally and exit code. */
async function runTap(node, cwd, args, env = process.env) {
  // tap starts each test file with its own process.execPath, so the files run under `node` too.
  const child = spawn(node, [resolve(cwd, 'node_modules/tap/dist/esm/run.mjs'), 'run', '--reporter=tap', ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let tally;
  createInterface({ input: child.stdout }).on('line', (line) => {
    log(line);
    tally = parseTallyLine(line) ?? tally;
  });
  const code = await new Promise((done) => child.on('close', done));
  return { tally, code };
}

const passes = [];

// Pass 1: this machine's node, with the checks that do not depend on the runtime.
{
  const tsc = resolve(root, 'node_modules/typescript/bin/tsc');
  let failedSteps = 0;
  if (!step('type-check (tsc --noEmit)', process.execPath, [tsc, '--noEmit'])) failedSteps++;
  if (!step('lint (eslint)', process.execPath, [resolve(root, 'node_modules/eslint/bin/eslint.js'), '.']))
    failedSteps++;
  // The CLI tests run the built `ares`, so build it from the sources under test.
  if (!step('build (tsc -p tsconfig.build.json)', process.execPath, [tsc, '-p', 'tsconfig.build.json'])) failedSteps++;
  log(`\n== tap (node ${process.version})`);
  const { tally, code } = await runTap(process.execPath, root, tapArgs.map(pathsIn(root)));
  passes.push({ version: process.version, counts: passCounts({ tally, code, failedSteps }) });
}

// Pass 2: Node 24, in a copy of the checkout with addons built for it. Sequential, so the two passes
// never share ports, files or the PostgreSQL/Redis test databases at the same time.
const v24 = `v${NODE24_VERSION}`;
if (!node24Enabled(process.env)) {
  log(`\n${SKIP_MESSAGE}`);
  passes.push({ version: v24, counts: { pass: 0, fail: 0, skip: 1 }, note: 'skipped' });
} else {
  log(`\n== Node ${v24}: prepare a copy of the checkout`);
  const t0 = Date.now();
  let n24;
  try {
    n24 = prepareNode24({ root, log });
    log(`Node 24: ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  } catch (e) {
    // Asked for (or in CI), a pass that cannot run is a failure, never a silent skip.
    log(`Node 24 setup failed: ${e.message}`);
    passes.push({ version: v24, counts: { pass: 0, fail: 1, skip: 0 }, note: 'setup failed' });
  }
  if (n24) {
    // Type-check and lint do not depend on the runtime; the build does (CLI tests run dist/).
    const tsc = resolve(n24.dir, 'node_modules/typescript/bin/tsc');
    const built = step(`build under ${v24}`, n24.node, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: n24.dir,
      env: n24.env,
    });
    log(`\n== tap (node ${v24})`);
    const { tally, code } = await runTap(n24.node, n24.dir, tapArgs.map(pathsIn(n24.dir)), n24.env);
    passes.push({ version: v24, counts: passCounts({ tally, code, failedSteps: built ? 0 : 1 }) });
  }
}

const total = sumCounts(passes.map((p) => p.counts));
log(`\n${formatPasses(passes)}`);
log(formatCounts(total));
process.exit(total.fail > 0 ? 1 : 0);

/**
 * Test file arguments, relative to where `npm test` was started, as absolute paths in `dir`: tap runs
 * in the checkout's root, and the Node 24 pass runs the copy's files rather than this checkout's.
 */
function pathsIn(dir) {
  return (arg) => {
    const abs = resolve(arg);
    const rel = relative(root, abs);
    if (arg.startsWith('-') || rel.startsWith('..') || !existsSync(abs)) return arg;
    return resolve(dir, rel);
  };
}
