#!/usr/bin/env node
// `npm run bench [filter]`: runs every bench/*.bench.ts (sorted; an optional argument keeps only the
// names containing it), each in its own node process with tap's TypeScript loader (ts-node fork,
// transpile-only), the same one `npm test` uses. A bench prints, as its last stdout line, one JSON
// object {"bench", "results": [...]}; each result compares a metric with a baseline measured in the
// same run. Prints a table, then `BENCH_JSON <combined JSON>`, writes bench/results/latest.json, and
// exits 1 if any result has pass === false or a bench crashed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';

const root = new URL('..', import.meta.url).pathname;
const benchDir = new URL('../bench/', import.meta.url).pathname;
const resultsDir = new URL('../bench/results/', import.meta.url).pathname;
/** Per-bench hard limit: a bench that hangs is killed and counted as crashed. */
const BENCH_TIMEOUT_MS = 10 * 60 * 1000;
/** tap's typescript plugin registers ts-node's ESM loader through this module (see @tapjs/typescript). */
const TS_LOADER = '@tapjs/typescript/import';

const filter = process.argv[2];
const names = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .filter((n) => filter === undefined || n.includes(filter))
  .sort();

if (names.length === 0) {
  console.error(filter === undefined ? 'no bench/*.bench.ts found' : `no bench matches ${JSON.stringify(filter)}`);
  process.exit(1);
}

// Some benches measure the built daemon (`dist/`) in a child process, as it runs on a Pi.
{
  const r = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error('build failed: benches need a built dist/');
    process.exit(1);
  }
}

function runBench(name) {
  const args = ['--import', TS_LOADER, `bench/${name}.bench.ts`];
  const env = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: `${root}tsconfig.json` };
  delete env.TAP_TYPE_STRIP_ONLY; // would make tap's loader a no-op
  process.stdout.write(`\n== bench ${name}: node ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let last;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.trim() === '') return;
      if (last !== undefined) process.stdout.write(`${last}\n`);
      last = line;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, BENCH_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ bench: name, error: `could not start: ${err.message}`, results: [] });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const crash = (why) => {
        if (last !== undefined) process.stdout.write(`${last}\n`);
        return { bench: name, error: why, results: [] };
      };
      if (timedOut) return resolve(crash(`killed after ${BENCH_TIMEOUT_MS / 1000}s`));
      if (code !== 0) return resolve(crash(`exited with ${signal ?? `code ${code}`}`));
      let parsed;
      try {
        parsed = JSON.parse(last ?? '');
      } catch {
        return resolve(crash('last stdout line is not JSON'));
      }
      if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.results))
        return resolve(crash('last stdout line has no results array'));
      resolve({ ...parsed, bench: parsed.bench ?? name });
    });
  });
}

const benches = [];
for (const name of names) benches.push(await runBench(name));

// --- table
const fmt = (v) => {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : 3);
  return String(v);
};
const header = ['bench', 'metric', 'value', 'unit', 'baseline', 'baseline value', 'ratio', 'target', 'ok'];
const rows = [];
for (const b of benches) {
  if (b.error !== undefined) rows.push([b.bench, '(crashed)', '-', '-', '-', '-', '-', '-', 'FAIL']);
  for (const r of b.results) {
    const ok = r.pass === true ? 'ok' : r.pass === false ? 'FAIL' : '-';
    rows.push([
      b.bench,
      r.name,
      fmt(r.value),
      r.unit,
      fmt(r.baseline_name),
      fmt(r.baseline_value),
      fmt(r.ratio),
      fmt(r.target),
      ok,
    ]);
  }
}
const numeric = new Set([2, 5, 6]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (cells) =>
  cells
    .map((c, i) => (numeric.has(i) ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i])))
    .join('  ')
    .trimEnd();
process.stdout.write(
  `\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
);
for (const b of benches) if (b.error !== undefined) process.stdout.write(`bench ${b.bench} crashed: ${b.error}\n`);

// --- JSON
const failed = benches.some((b) => b.error !== undefined || b.results.some((r) => r.pass === false));
const combined = {
  generated_at: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  cpus: availableParallelism(),
  ok: !failed,
  benches,
};
const json = JSON.stringify(combined);
process.stdout.write(`\nBENCH_JSON ${json}\n`);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}latest.json`, `${json}\n`);
process.exit(failed ? 1 : 0);
