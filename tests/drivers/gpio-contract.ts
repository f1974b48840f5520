import type { Test } from 'tap';
import { type Bit, GpioError, type GpioPort } from '../../drivers/gpio/port.js';
import { never } from '../helpers/wait.js';

/**
 * The suite every GpioPort implementation runs (sim here, onoff on a Pi). `drive` sets an input's
 * level from outside (the simulator's setInput, or a loopback wire on a test rig); without it the
 * watcher and debounce cases are skipped. Uses BCM 20–26, free on a bare Pi.
 */
export interface PortUnderTest {
  port: GpioPort;
  drive?(pin: number, value: Bit): void;
}

/** How long a watcher may take to hear a change before the suite gives up (a bound, not an assertion). */
const HEAR_WITHIN_MS = 1000;

export function gpioContract(t: Test, name: string, makePort: () => Promise<PortUnderTest>): void {
  t.test(`${name}: GpioPort contract`, async (t) => {
    // Whether this port can drive inputs decides which cases run; ask one instance, then release it.
    const probe = await makePort();
    const canDrive = probe.drive !== undefined;
    await probe.port.close();
    const needsDrive = canDrive ? false : `${name} cannot drive its inputs from outside`;

    const setup = async (t: Test): Promise<PortUnderTest> => {
      const made = await makePort();
      t.teardown(() => made.port.close());
      return made;
    };

    t.test('outputs start at the initial level and read back what was written', async (t) => {
      const { port } = await setup(t);
      const low = await port.open(20, 'out');
      t.equal(low.direction, 'out');
      t.equal(low.pin, 20);
      t.equal(await low.read(), 0, 'initial defaults to 0');
      await low.write(1);
      t.equal(await low.read(), 1);
      await low.write(0);
      t.equal(await low.read(), 0);
      const high = await port.open(21, 'out', { initial: 1 });
      t.equal(await high.read(), 1, 'initial: 1');
    });

    t.test('inputs read their level', async (t) => {
      const { port, drive } = await setup(t);
      const input = await port.open(22, 'in');
      t.equal(input.direction, 'in');
      t.ok([0, 1].includes(await input.read()), 'reads a bit');
      if (!drive) return;
      drive(22, 1);
      await until(async () => (await input.read()) === 1);
      t.equal(await input.read(), 1);
      drive(22, 0);
      await until(async () => (await input.read()) === 0);
      t.equal(await input.read(), 0);
    });

    t.test('watchers hear the edges they were opened for', { skip: needsDrive }, async (t) => {
      const { port, drive } = await setup(t);
      const cases: { pin: number; edge: 'rising' | 'falling' | 'both'; want: Bit[] }[] = [
        { pin: 23, edge: 'rising', want: [1, 1] },
        { pin: 24, edge: 'falling', want: [0, 0] },
        { pin: 25, edge: 'both', want: [1, 0, 1, 0] },
      ];
      for (const { pin, edge, want } of cases) {
        drive!(pin, 0);
        const input = await port.open(pin, 'in', { edge });
        const heard: Bit[] = [];
        input.watch((v) => heard.push(v));
        for (const v of [1, 0, 1, 0] as const) {
          drive!(pin, v);
          // Wait for each change to settle so that a sysfs port sees every edge separately.
          await until(async () => (await input.read()) === v);
        }
        await until(async () => heard.length >= want.length);
        t.same(heard, want, `edge ${edge}`);
        input.unwatchAll();
      }
    });

    t.test('debounce swallows a glitch and reports a level that holds', { skip: needsDrive }, async (t) => {
      const { port, drive } = await setup(t);
      const debounceMs = 20;
      drive!(26, 0);
      const input = await port.open(26, 'in', { edge: 'both', debounceMs });
      const heard: Bit[] = [];
      input.watch((v) => heard.push(v));
      drive!(26, 1);
      drive!(26, 0);
      await until(async () => (await input.read()) === 0);
      await never('the glitch is reported', () => heard.length > 0, debounceMs * 5);
      t.same(heard, [], 'a glitch back to the old level is not reported');
      drive!(26, 1);
      t.same(heard, [], 'not heard before the level has held for debounceMs');
      await until(async () => heard.length > 0);
      t.same(heard, [1], 'a level held longer than debounceMs is reported once');
    });

    t.test('opening a pin twice rejects', async (t) => {
      const { port } = await setup(t);
      await port.open(20, 'out');
      await t.rejects(port.open(20, 'out'), { name: 'GpioError', pin: 20, message: /20.*already open/ });
      await t.rejects(port.open(20, 'in'), GpioError);
    });

    t.test('pins outside BCM 0–53 reject', async (t) => {
      const { port } = await setup(t);
      for (const pin of [-1, 54, 1.5, NaN]) {
        await t.rejects(port.open(pin, 'out'), { name: 'GpioError', message: /not a BCM pin/ }, `pin ${pin}`);
      }
    });

    t.test('inputs cannot be written, outputs cannot be watched', async (t) => {
      const { port } = await setup(t);
      const input = await port.open(22, 'in');
      await t.rejects(input.write(1), { name: 'GpioError', message: /22 is an input/ });
      const output = await port.open(20, 'out');
      t.throws(() => output.watch(() => undefined), { name: 'GpioError', message: /20 is an output/ });
      const quiet = await port.open(23, 'in');
      t.throws(() => quiet.watch(() => undefined), { name: 'GpioError', message: /edge 'none'/ });
    });

    t.test('close releases a pin, is idempotent, and a closed pin rejects', async (t) => {
      const { port } = await setup(t);
      const first = await port.open(20, 'out', { initial: 1 });
      await first.close();
      await first.close();
      await t.rejects(first.read(), { name: 'GpioError', message: /20 is closed/ });
      await t.rejects(first.write(0), { name: 'GpioError', message: /20 is closed/ });
      const again = await port.open(20, 'out');
      await first.close();
      t.equal(await again.read(), 0, 'a stale handle closing again does not release the new one');
      await t.rejects(port.open(20, 'out'), /already open/);
    });

    t.test('port.close() releases every pin', async (t) => {
      const { port } = await setup(t);
      await port.open(20, 'out');
      await port.open(22, 'in');
      await port.close();
      const out = await port.open(20, 'out');
      const input = await port.open(22, 'in');
      t.equal(out.pin, 20);
      t.equal(input.pin, 22);
    });
  });
}

async function until(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + HEAR_WITHIN_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${HEAR_WITHIN_MS} ms`);
    await sleep(2);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
