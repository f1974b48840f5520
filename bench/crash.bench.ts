// The long variant of tests/sync/crash.test.ts: many more SIGKILLs of a hub process under load
// (ARES_CRASH_KILLS, default here 150; the test suite runs 30) and central restarts every 6th.
// Reports whether every acknowledged record reached central exactly once, next to the number of
// records acknowledged in the run. Runs the test file itself, so both exercise the same code.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const KILLS = Number(process.env['ARES_CRASH_KILLS'] ?? 150);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = (m: string) => void process.stderr.write(`[crash] ${m}\n`);

const started = Date.now();
const out = await new Promise<string>((resolve) => {
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url)),
      '--reporter=tap',
      `--timeout=${KILLS * 12}`,
      'tests/sync/crash.test.ts',
    ],
    { cwd: ROOT, env: { ...process.env, ARES_CRASH_KILLS: String(KILLS) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  child.on('close', () => resolve(text));
});
const seconds = (Date.now() - started) / 1000;
const tally = /# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(out);
const failed = tally ? Number(tally[3] ?? 0) : 1;
const acked = Number(/ok \d+ - (\d+) records acknowledged/.exec(out)?.[1] ?? 0);
log(`${KILLS} kills in ${Math.round(seconds)} s: ${acked} records acknowledged, ${failed} failed assertions`);
if (failed > 0)
  log(
    out
      .split('\n')
      .filter((l) => l.includes('not ok'))
      .join('\n'),
  );
process.stdout.write(
  JSON.stringify({
    bench: 'crash',
    results: [
      {
        name: `failed_checks_after_${KILLS}_kills`,
        value: failed,
        unit: 'assertions',
        baseline_name: 'records_acknowledged',
        baseline_value: acked,
        ratio: null,
        target: '== 0',
        pass: failed === 0 && acked > 0,
      },
    ],
  }) + '\n',
);
