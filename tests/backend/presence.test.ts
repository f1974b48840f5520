import t from 'tap';
import { PresenceTracker } from '../../backend/mqtt/presence.js';

t.test('sweep returns the devices silent past the limit, once', async (t) => {
  const p = new PresenceTracker(1000);
  p.touch('a', 0);
  p.touch('b', 100);
  p.touch('c', 200);
  p.touch('a', 600); // a spoke again: it is now the youngest
  t.same(p.sweep(1000), [], 'nobody yet');
  t.same(p.sweep(1150), ['b'], 'b: silent 1050 ms');
  t.same(p.sweep(1150), [], 'reported once');
  p.remove('c');
  t.same(p.sweep(5000), ['a'], 'a removed device (disconnected) is never timed out');
  t.equal(p.size, 0);
  p.touch('b', 5000);
  t.same(p.sweep(6500), ['b'], 'a device that spoke again can time out again');
});
