import t, { type Test } from 'tap';
import { ManualClock } from '../../core/clock.js';
import { HostRoot } from '../../core/host-root.js';
import { silentLogger } from '../../core/logger.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';
import { DRIVER_LOADERS, loadDriver } from '../../drivers/registry.js';
import type { Driver, DriverDescriptor, DriverOutput } from '../../drivers/types.js';
import type { ComponentSpec } from '../../sync/components.js';
import { never } from '../helpers/wait.js';
import button from '../../drivers/button.js';
import led from '../../drivers/led.js';
import pir from '../../drivers/pir.js';
import pump from '../../drivers/pump.js';
import relay from '../../drivers/relay.js';

type Recorded =
  | { kind: 'reading'; metric: string; value: number }
  | { kind: 'state'; state: string }
  | { kind: 'event'; name: string; data?: Record<string, unknown> };

const spec = (
  component_type: string,
  pin_number: number | null,
  config: Record<string, unknown> | null = null,
  default_state: string | null = null,
): ComponentSpec => ({ id: 1, component_type, name: null, pin_number, pin_mode: null, default_state, config });

/** A sim port, a manual clock and a recording DriverOutput (our own interface) around one driver. */
function rig(t: Test, descriptor: DriverDescriptor, component: ComponentSpec) {
  const gpio = new SimGpioPort();
  t.teardown(() => gpio.close());
  const clock = new ManualClock();
  const seen: Recorded[] = [];
  const out: DriverOutput = {
    reading: (metric, value) => seen.push({ kind: 'reading', metric, value }),
    state: (state) => seen.push({ kind: 'state', state }),
    event: (name, data) => seen.push({ kind: 'event', name, ...(data ? { data } : {}) }),
  };
  t.same(descriptor.check(component), [], 'the component passes check()');
  const driver: Driver = descriptor.create({
    log: silentLogger(),
    clock,
    host: new HostRoot('/nonexistent'),
    gpio,
    component,
    out,
  });
  t.teardown(() => driver.stop());
  const states = () => seen.flatMap((s) => (s.kind === 'state' ? [s.state] : []));
  // Readings count as events here: none of these drivers may produce one.
  const events = () => seen.filter((s) => s.kind !== 'state');
  return { gpio, clock, driver, seen, states, events };
}

/** Polls until `cond` holds; the bound is only reached when a test is failing. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 1000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met within 1000 ms');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

t.test('led: on, off, toggle; state once at start and on every change', async (t) => {
  const { gpio, driver, states } = rig(t, led, spec('led', 17));
  await driver.start();
  t.equal(gpio.level(17), 0);
  t.same(await driver.command!({ action: 'on' }), { state: 'ON' });
  t.equal(gpio.level(17), 1);
  t.same(await driver.command!({ action: 'on' }), { state: 'ON' }, 'on again: no change');
  t.same(await driver.command!({ action: 'toggle' }), { state: 'OFF' });
  t.equal(gpio.level(17), 0);
  t.same(await driver.command!({ action: 'toggle' }), { state: 'ON' });
  t.same(await driver.command!({ action: 'off' }), { state: 'OFF' });
  t.same(states(), ['OFF', 'ON', 'OFF', 'ON', 'OFF']);
  await t.rejects(driver.command!({ action: 'blink' }), { code: 'ARES_ERR_UNPROCESSABLE' });
});

t.test('led: default_state ON starts lit', async (t) => {
  const { gpio, driver, states } = rig(t, led, spec('led', 4, null, 'ON'));
  await driver.start();
  t.equal(gpio.level(4), 1);
  t.same(states(), ['ON']);
});

t.test('pump: on with durationS switches off by itself, without a cut-off event', async (t) => {
  const { gpio, driver, states, events } = rig(t, pump, spec('pump', 18));
  await driver.start();
  t.same(await driver.command!({ action: 'on', durationS: 0.05 }), { state: 'ON' });
  t.equal(gpio.level(18), 1);
  await until(() => gpio.level(18) === 0);
  t.same(states(), ['OFF', 'ON', 'OFF']);
  t.same(events(), []);
});

t.test('relay: max_on_s cuts off a plain on and reports it', async (t) => {
  const { gpio, driver, states, events } = rig(t, relay, spec('relay', 27, { max_on_s: 0.05 }));
  await driver.start();
  await driver.command!({ action: 'on' });
  await until(() => events().length > 0);
  t.equal(gpio.level(27), 0);
  t.same(states(), ['OFF', 'ON', 'OFF']);
  t.same(events(), [{ kind: 'event', name: 'max_on_time_cutoff', data: { max_on_s: 0.05 } }]);
});

t.test('pump: max_on_s wins over a longer requested duration', async (t) => {
  const { gpio, driver, events } = rig(t, pump, spec('pump', 22, { max_on_s: 0.05 }));
  await driver.start();
  await driver.command!({ action: 'on', durationS: 3600 });
  await until(() => events().length > 0);
  t.equal(gpio.level(22), 0);
  t.match(events(), [{ name: 'max_on_time_cutoff' }]);
});

t.test('pump: default_state ON is cut off too', async (t) => {
  const { gpio, driver, events } = rig(t, pump, spec('pump', 23, { max_on_s: 0.05 }, 'ON'));
  await driver.start();
  t.equal(gpio.level(23), 1);
  await until(() => events().length > 0);
  t.equal(gpio.level(23), 0);
  t.match(events(), [{ name: 'max_on_time_cutoff' }]);
});

t.test('stop() leaves outputs off, cancels timers and releases the pin', async (t) => {
  const { gpio, driver, states, events } = rig(t, pump, spec('pump', 24, { max_on_s: 0.05 }));
  await driver.start();
  await driver.command!({ action: 'on', durationS: 0.02 });
  await driver.stop();
  t.equal(gpio.level(24), 0, 'off');
  t.notOk(gpio.isOpen(24), 'released');
  await driver.stop();
  // Past both timers (the 20 ms command and the 50 ms cut-off) several times over.
  const stateCount = states().length;
  await never(
    'a timer fires after stop (an event, a state, the pin)',
    () => events().length > 0 || states().length !== stateCount || gpio.level(24) !== 0,
    250,
  );
  t.same(events(), [], 'no timer fired after stop');
  t.same(states(), ['OFF', 'ON', 'OFF']);
  await t.rejects(driver.command!({ action: 'on' }), { code: 'ARES_ERR_UNAVAILABLE' });
  const unstarted = relay.create({ ...rigContext(gpio), component: spec('relay', 25) });
  await unstarted.stop();
  t.pass('stop() of a never-started driver resolves');
});

t.test('button: debounced press and release, long press after long_press_ms', async (t) => {
  const { gpio, clock, driver, states, events } = rig(t, button, spec('button', 5, { debounce_ms: 20 }));
  gpio.setInput(5, 1); // pulled up: idle
  await driver.start();
  t.same(states(), ['RELEASED']);
  gpio.setInput(5, 0);
  gpio.setInput(5, 1);
  gpio.setInput(5, 0);
  t.same(states(), ['RELEASED'], 'not before the level has held for debounce_ms');
  await until(() => states().length === 2);
  t.same(states(), ['RELEASED', 'PRESSED'], 'bounces collapse to one press');
  clock.advance(300);
  gpio.setInput(5, 1);
  await until(() => states().length === 3);
  t.same(events(), [], 'a short press is no long press');
  gpio.setInput(5, 0);
  await until(() => states().length === 4);
  clock.advance(5200);
  gpio.setInput(5, 1);
  await until(() => states().length === 5);
  t.same(states(), ['RELEASED', 'PRESSED', 'RELEASED', 'PRESSED', 'RELEASED']);
  t.same(events(), [{ kind: 'event', name: 'long_press', data: { ms: 5200 } }]);
  await driver.stop();
  t.notOk(gpio.isOpen(5), 'stop releases the pin');
});

t.test('button: active_low false, long_press_ms configured, pressed at start', async (t) => {
  const { gpio, clock, driver, states, events } = rig(
    t,
    button,
    spec('button', 6, { debounce_ms: 0, active_low: false, long_press_ms: 1000 }),
  );
  gpio.setInput(6, 1);
  await driver.start();
  t.same(states(), ['PRESSED']);
  clock.advance(1000);
  gpio.setInput(6, 0);
  t.same(states(), ['PRESSED', 'RELEASED']);
  t.same(events(), [{ kind: 'event', name: 'long_press', data: { ms: 1000 } }]);
});

t.test('pir: motion and clear', async (t) => {
  const { gpio, driver, states, events } = rig(t, pir, spec('pir', 12, { debounce_ms: 10 }));
  await driver.start();
  t.same(states(), ['CLEAR']);
  gpio.setInput(12, 1);
  await until(() => states().length === 2);
  gpio.setInput(12, 0);
  await until(() => states().length === 3);
  t.same(states(), ['CLEAR', 'MOTION', 'CLEAR']);
  t.same(events(), []);
  t.same(pir.actions, []);
});

t.test('check() reports bad pins and config', async (t) => {
  for (const d of [led, relay, pump, button, pir]) {
    t.match(d.check(spec(d.type, null)), [/pin_number is required/], `${d.type}: null pin`);
    t.match(d.check(spec(d.type, 99)), [/pin_number 99 is not a BCM GPIO number \(0–53\)/], `${d.type}: pin 99`);
    t.same(d.check(spec(d.type, 0)), [], `${d.type}: pin 0`);
    t.same(d.check(spec(d.type, 53)), [], `${d.type}: pin 53`);
  }
  for (const d of [relay, pump]) {
    for (const bad of ['600', 0, -1, 0.005, 86401, null, Number.NaN]) {
      t.match(
        d.check(spec(d.type, 17, { max_on_s: bad })),
        [/config\.max_on_s must be a number from 0\.01 to 86400 s/],
        `${d.type} max_on_s ${String(bad)}`,
      );
    }
    t.same(d.check(spec(d.type, 17, { max_on_s: 0.05 })), []);
    t.same(d.check(spec(d.type, 17, { max_on_s: 86400 })), []);
  }
  t.same(led.check(spec('led', 17, { max_on_s: 'whatever' })), [], 'an LED has no cut-off to check');
  for (const d of [button, pir]) {
    t.match(d.check(spec(d.type, 17, { debounce_ms: -5 })), [/config\.debounce_ms/]);
    t.match(d.check(spec(d.type, 17, { debounce_ms: '50' })), [/config\.debounce_ms/]);
    t.match(d.check(spec(d.type, 17, { active_low: 'yes' })), [/config\.active_low must be true or false/]);
  }
  t.match(button.check(spec('button', 17, { long_press_ms: 0 })), [/config\.long_press_ms/]);
  t.match(
    button.check(spec('button', 99, { debounce_ms: -1 })),
    [/pin_number 99/, /debounce_ms/],
    'every problem at once',
  );
});

t.test('registry: every type loads under its own name, unknown types are undefined', async (t) => {
  for (const type of ['led', 'relay', 'pump', 'button', 'pir']) t.ok(Object.hasOwn(DRIVER_LOADERS, type), type);
  // Every line of the table, including other engineers' types: a key must load the driver of that type.
  for (const type of Object.keys(DRIVER_LOADERS)) t.equal((await loadDriver(type))?.type, type, `loads ${type}`);
  t.equal(await loadDriver('laser'), undefined);
  t.equal(await loadDriver('constructor'), undefined, 'no prototype keys');
  t.same(relay.actions, ['on', 'off', 'toggle']);
});

function rigContext(gpio: SimGpioPort) {
  const out: DriverOutput = { reading: () => undefined, state: () => undefined, event: () => undefined };
  return { log: silentLogger(), clock: new ManualClock(), host: new HostRoot('/nonexistent'), gpio, out };
}
