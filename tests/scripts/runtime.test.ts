import t from 'tap';

// scripts/test.mjs's Node 24 pass sets ARES_TEST_EXPECT_NODE: tap must have started this file (like
// every test file) with that Node, not the machine's default one, or the pass would test nothing new.
const expected = process.env['ARES_TEST_EXPECT_NODE'];

t.test(
  'test files run under the Node the pass was started for',
  { skip: !expected && 'not in a Node 24 pass' },
  async (t) => {
    t.equal(process.version, expected);
    t.equal(process.versions.modules, '137', "Node 24's ABI, which the copy's addons were built for");
  },
);
