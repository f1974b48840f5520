import t from 'tap';
import { formatCounts, parseTallyLine, runCounts } from '../../scripts/tally.mjs';

t.test('tap tally line parses into numbers; other lines do not', async (t) => {
  t.same(parseTallyLine('# { total: 12, pass: 11, fail: 1, skip: 0 }'), { total: 12, pass: 11, fail: 1, skip: 0 });
  t.same(parseTallyLine('# { total: 194, pass: 194 }'), { total: 194, pass: 194 });
  t.equal(parseTallyLine('# time=5508.181ms'), undefined);
  t.equal(parseTallyLine('    # { total: 3, pass: 3 }'), undefined, 'subtest output is indented');
});

t.test('run counts: skips and todos are skipped; a crash, a missing tally or a failed step is a failure', async (t) => {
  t.same(runCounts({ tally: { total: 5, pass: 3, skip: 1, todo: 1 }, code: 0 }), { pass: 3, fail: 0, skip: 2 });
  t.same(runCounts({ tally: { total: 4, pass: 4 }, code: 0, failedSteps: 2 }), { pass: 4, fail: 2, skip: 0 });
  t.same(runCounts({ tally: { total: 4, pass: 4 }, code: 1 }), { pass: 4, fail: 1, skip: 0 }, 'exit code counts');
  t.same(runCounts({ tally: { total: 4, pass: 2, fail: 2 }, code: 1 }), { pass: 2, fail: 2, skip: 0 });
  t.same(runCounts({ tally: undefined, code: 0 }), { pass: 0, fail: 1, skip: 0 }, 'no tally at all');
  t.same(runCounts({ tally: undefined, code: null }), { pass: 0, fail: 1, skip: 0 }, 'killed by a signal');
});

t.test('the closing line', async (t) => {
  t.equal(formatCounts({ pass: 10, fail: 1, skip: 3 }), '10 passed, 1 failed, 3 skipped');
  t.equal(formatCounts({ pass: 10, fail: 0, skip: 0 }), '10 passed, 0 failed', 'no skipped part when none');
  t.equal(formatCounts({ pass: 0, fail: 1, skip: 0 }), '0 passed, 1 failed', 'what a too-old Node gets');
});
