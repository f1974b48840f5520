import t from 'tap';
import { GpioError } from '../../drivers/gpio/port.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';
import { never } from '../helpers/wait.js';
import { gpioContract } from './gpio-contract.js';

gpioContract(t, 'sim', async () => {
  const port = new SimGpioPort();
  return { port, drive: (pin, v) => port.setInput(pin, v) };
});

t.test('sim: the wire level outlives open and close', async (t) => {
  const port = new SimGpioPort();
  t.teardown(() => port.close());
  t.equal(port.level(5), undefined, 'never opened or driven');
  port.setInput(5, 1);
  const input = await port.open(5, 'in');
  t.equal(await input.read(), 1, 'an input opens at the level preset with setInput');
  const out = await port.open(6, 'out', { initial: 1 });
  t.ok(port.isOpen(6));
  await out.write(0);
  await out.write(1);
  await out.close();
  t.notOk(port.isOpen(6));
  t.equal(port.level(6), 1, 'a released output stays where it was');
});

t.test('sim: with debounceMs 0 watchers are called synchronously, only on a change', async (t) => {
  const port = new SimGpioPort();
  t.teardown(() => port.close());
  const input = await port.open(7, 'in', { edge: 'both' });
  const heard: number[] = [];
  input.watch((v) => heard.push(v));
  port.setInput(7, 1);
  t.same(heard, [1]);
  port.setInput(7, 1);
  t.same(heard, [1], 'the same level again is no edge');
  input.unwatchAll();
  port.setInput(7, 0);
  t.same(heard, [1], 'unwatchAll stops the calls');
});

t.test('sim: closing a pin cancels a pending debounce', async (t) => {
  const port = new SimGpioPort();
  t.teardown(() => port.close());
  const input = await port.open(8, 'in', { edge: 'both', debounceMs: 10 });
  const heard: number[] = [];
  input.watch((v) => heard.push(v));
  port.setInput(8, 1);
  await input.close();
  await never('the pending debounce fires after close', () => heard.length > 0, 100);
  t.same(heard, []);
});

t.test('sim: setInput refuses outputs, bad pins and bad levels', async (t) => {
  const port = new SimGpioPort();
  t.teardown(() => port.close());
  await port.open(9, 'out');
  t.throws(() => port.setInput(9, 1), new GpioError('GPIO 9 is an output: setInput drives inputs only', 9));
  t.throws(() => port.setInput(60, 1), { name: 'GpioError', pin: 60 });
  t.throws(() => port.setInput(10, 2 as 0), { name: 'GpioError', message: /0 or 1/ });
});

t.test('sim: open checks its options', async (t) => {
  const port = new SimGpioPort();
  t.teardown(() => port.close());
  await t.rejects(port.open(11, 'in', { debounceMs: -1 }), { name: 'GpioError', message: /debounceMs/ });
  await t.rejects(port.open(11, 'in', { edge: 'up' as 'both' }), { name: 'GpioError', message: /edge/ });
  await t.rejects(port.open(11, 'out', { initial: 3 as 1 }), { name: 'GpioError', message: /initial/ });
  await t.rejects(port.open(11, 'sideways' as 'in'), { name: 'GpioError', message: /direction/ });
  t.notOk(port.isOpen(11), 'a rejected open leaves the pin free');
});
