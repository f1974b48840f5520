// Counting for `npm test`: tap's own tally line, turned into passed/failed/skipped per pass and summed
// over the passes (Node 20, Node 24). Pure functions, so tests/scripts checks them without running tap.

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
 * One pass's counts from tap's tally, tap's exit code and how many non-tap steps (build, lint) failed.
 * A crash, a timeout or a missing tally is a failure even if no assertion said so.
 */
export function passCounts({ tally, code, failedSteps = 0 }) {
  const pass = tally?.pass ?? 0;
  const skip = (tally?.skip ?? 0) + (tally?.todo ?? 0);
  let fail = tally?.fail ?? 0;
  if ((code !== 0 || tally === undefined) && fail === 0) fail = 1;
  return { pass, fail: fail + failedSteps, skip };
}

export function sumCounts(counts) {
  return counts.reduce((a, c) => ({ pass: a.pass + c.pass, fail: a.fail + c.fail, skip: a.skip + c.skip }), {
    pass: 0,
    fail: 0,
    skip: 0,
  });
}

/** "N passed, N failed[, N skipped]": the plain line CI and readers look for. */
export function formatCounts({ pass, fail, skip }) {
  return `${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`;
}

/**
 * "node v20.x: 10 passed, 0 failed; node v24.21.0: skipped": each pass on one line, so a failure that
 * happens under one Node only is visible before the summed line. A pass with a `note` (skipped, setup
 * failed) shows the note instead of its counts.
 */
export function formatPasses(passes) {
  return passes.map((p) => `node ${p.version}: ${p.note ?? formatCounts(p.counts)}`).join('; ');
}
