// What every bench shares: the result row scripts/bench.mjs reads, a prefixed stderr log, rounding, and
// running `main` under a hard time limit with the JSON line printed last on stdout.

/** One measured figure, next to the baseline measured in the same run when there is one. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline_name: string | null;
  baseline_value: number | null;
  ratio: number | null;
  target: string | null;
  /** null: reported, not judged. */
  pass: boolean | null;
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

export function benchLog(bench: string): (msg: string) => void {
  return (msg) => void process.stderr.write(`[${bench}] ${msg}\n`);
}

/** A result row; what is not given is reported without a baseline or target. */
export function result(name: string, value: number, unit: string, extra: Partial<BenchResult> = {}): BenchResult {
  return {
    name,
    value,
    unit,
    baseline_name: null,
    baseline_value: null,
    ratio: null,
    target: null,
    pass: null,
    ...extra,
  };
}

/**
 * Runs `main` and prints `{"bench", "results"}` as the last stdout line (what scripts/bench.mjs reads);
 * exits 1 if it throws and 2 if it is still running after `hardTimeoutMs`.
 */
export function runBench(bench: string, hardTimeoutMs: number, main: () => Promise<BenchResult[]>): void {
  const log = benchLog(bench);
  const hardStop = setTimeout(() => {
    log(`did not finish within ${hardTimeoutMs / 1000}s; giving up`);
    process.exit(2);
  }, hardTimeoutMs);
  hardStop.unref();
  main().then(
    (results) => {
      process.stdout.write(`${JSON.stringify({ bench, results })}\n`, () => process.exit(0));
    },
    (err: unknown) => {
      log(`crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
