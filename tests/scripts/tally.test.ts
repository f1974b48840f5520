import t from 'tap';
import { NODE24_VERSION, node24Enabled } from '../../scripts/node24.mjs';
import { formatCounts, formatPasses, parseTallyLine, passCounts, sumCounts } from '../../scripts/tally.mjs';

t.test('tap tally line parses into numbers; other lines do not', async (t) => {
  t.same(parseTallyLine('# { total: 12, pass: 11, fail: 1, skip: 0 }'), { total: 12, pass: 11, fail: 1, skip: 0 });
  t.same(parseTallyLine('# { total: 194, pass: 194 }'), { total: 194, pass: 194 });
  t.equal(parseTallyLine('# time=5508.181ms'), undefined);
  t.equal(parseTallyLine('    # { total: 3, pass: 3 }'), undefined, 'subtest output is indented');
});

t.test('pass counts: skips and todos are skipped; a crash or missing tally is a failure', async (t) => {
  t.same(passCounts({ tally: { total: 5, pass: 3, skip: 1, todo: 1 }, code: 0 }), { pass: 3, fail: 0, skip: 2 });
  t.same(passCounts({ tally: { total: 4, pass: 4 }, code: 0, failedSteps: 2 }), { pass: 4, fail: 2, skip: 0 });
  t.same(passCounts({ tally: { total: 4, pass: 4 }, code: 1 }), { pass: 4, fail: 1, skip: 0 }, 'exit code counts');
  t.same(passCounts({ tally: { total: 4, pass: 2, fail: 2 }, code: 1 }), { pass: 2, fail: 2, skip: 0 });
  t.same(passCounts({ tally: undefined, code: 0 }), { pass: 0, fail: 1, skip: 0 }, 'no tally at all');
  t.same(passCounts({ tally: undefined, code: null }), { pass: 0, fail: 1, skip: 0 }, 'killed by a signal');
});

t.test('passes sum into one line; each pass is shown on its own', async (t) => {
  const passes = [
    { version: 'v20.20.2', counts: { pass: 10, fail: 1, skip: 2 } },
    { version: 'v24.21.0', counts: { pass: 0, fail: 0, skip: 1 }, note: 'skipped' },
  ];
  t.same(sumCounts(passes.map((p) => p.counts)), { pass: 10, fail: 1, skip: 3 });
  t.equal(formatCounts({ pass: 10, fail: 1, skip: 3 }), '10 passed, 1 failed, 3 skipped');
  t.equal(formatCounts({ pass: 10, fail: 0, skip: 0 }), '10 passed, 0 failed', 'no skipped part when none');
  t.equal(formatPasses(passes), 'node v20.20.2: 10 passed, 1 failed, 2 skipped; node v24.21.0: skipped');
});

t.test('the Node 24 pass runs in CI or on request', async (t) => {
  t.equal(node24Enabled({}), false);
  t.equal(node24Enabled({ CI: 'true' }), true);
  t.equal(node24Enabled({ CI: '1', ARES_TEST_NODE24: '0' }), true, 'CI always does');
  t.equal(node24Enabled({ CI: '' }), false);
  t.equal(node24Enabled({ ARES_TEST_NODE24: '1' }), true);
  t.equal(node24Enabled({ ARES_TEST_NODE24: '0' }), false);
  t.match(NODE24_VERSION, /^24\./);
});
