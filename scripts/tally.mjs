// Counting for `npm test` (scripts/test.mjs): tap's own tally line, turned into the plain
// "N passed, N failed[, N skipped]" line. Pure functions, so tests/scripts checks them without running tap.

/**
 * tap's TAP reporter closes with its tally, e.g. "# { total: 12, pass: 11, fail: 1, skip: 0 }", counted
 * over every assertion of every file. Returns the tally as numbers, or undefined for any other line.
 */
export function parseTallyLine(line) {
  const m = /^# \{ (total: \d+.*) \}$/.exec(line);
  if (!m) return undefined;
  return Object.fromEntries(
    m[1]
      .split(', ')
      .map((kv) => kv.split(': '))
      .map(([k, v]) => [k, Number(v)]),
  );
}

/**
 * The run's counts from tap's tally, tap's exit code and how many non-tap steps (type-check, lint, build)
 * failed. A crash, a timeout or a missing tally is a failure even if no assertion said so.
 */
export function runCounts({ tally, code, failedSteps = 0 }) {
  const pass = tally?.pass ?? 0;
  const skip = (tally?.skip ?? 0) + (tally?.todo ?? 0);
  let fail = tally?.fail ?? 0;
  if ((code !== 0 || tally === undefined) && fail === 0) fail = 1;
  return { pass, fail: fail + failedSteps, skip };
}

/** "N passed, N failed[, N skipped]": the plain line CI and readers look for. */
export function formatCounts({ pass, fail, skip }) {
  return `${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`;
}
