import t from 'tap';
import { holds, never, until } from './wait.js';

// The negative-window helpers must be able to fail: a condition that flips in the middle of the window,
// or only at its very end, is caught; one that holds throughout passes, and only after the whole window.

t.test('holds: passes when the condition holds for the whole window, not before the window is over', async (t) => {
  let checks = 0;
  const start = Date.now();
  await holds('always', () => (checks++, true), 100);
  t.ok(Date.now() - start >= 100, 'observed the whole window');
  t.ok(checks >= 2, `checked repeatedly (${checks} times)`);
  await holds('async conditions too', () => Promise.resolve(true), 30);
});

t.test('holds: fails naming what broke when the condition flips mid-window', async (t) => {
  let ok = true;
  const flip = setTimeout(() => (ok = false), 50);
  t.teardown(() => clearTimeout(flip));
  const start = Date.now();
  await t.rejects(
    holds('the LED stayed off', () => ok, 300),
    {
      message: /^did not hold for 300 ms \(broke after \d+ ms\): the LED stayed off$/,
    },
  );
  t.ok(Date.now() - start < 300, 'fails as soon as it sees the flip, without waiting out the window');
});

t.test('holds: a flip late in the window is still caught (the window is checked to its end)', async (t) => {
  // Flips 95 ms in, timed from before the window opens: inside it however late this process's timers run.
  const start = Date.now();
  await t.rejects(
    holds('late flip', () => Date.now() - start < 95, 100),
    { message: /late flip/ },
  );
});

t.test('holds: a condition that is already false fails at once; errors from the condition propagate', async (t) => {
  await t.rejects(
    holds('false from the start', () => false, 10_000),
    { message: /broke after \d ms/ },
  );
  await t.rejects(
    holds('throws', () => Promise.reject(new Error('redis down')), 100),
    { message: 'redis down' },
    'not reported as a broken condition',
  );
});

t.test('never: passes when nothing happens; fails naming what happened when it does', async (t) => {
  await never('nothing', () => false, 50);
  let happened = false;
  const flip = setTimeout(() => (happened = true), 40);
  t.teardown(() => clearTimeout(flip));
  await t.rejects(
    never('a PUBACK before the store', () => happened, 300),
    {
      message: /^happened within 300 ms \(after \d+ ms\): a PUBACK before the store$/,
    },
  );
});

t.test('until: waits for the condition; times out naming it', async (t) => {
  let n = 0;
  await until('three polls', () => ++n >= 3);
  t.equal(n, 3);
  await t.rejects(
    until('never true', () => false, 30),
    { message: 'timed out waiting for: never true' },
  );
});
