import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { AresError } from '../../core/errors.js';
import { HostRoot } from '../../core/host-root.js';
import { createGpioPort } from '../../drivers/gpio/create.js';
import { gpioBase, sysfsNumber } from '../../drivers/gpio/gpiochip.js';
import { OnoffGpioPort } from '../../drivers/gpio/onoff.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';
import { gpioContract } from './gpio-contract.js';

const fixture = (tree: string) => new HostRoot(fileURLToPath(new URL(`../fixtures/gpio/${tree}`, import.meta.url)));

/** onoff always uses the real /sys/class/gpio: the contract runs only where that exists and is writable. */
async function realGpioWritable(): Promise<boolean> {
  try {
    await access('/sys/class/gpio/export', constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

if (await realGpioWritable()) {
  gpioContract(t, 'onoff', async () => ({ port: new OnoffGpioPort(new HostRoot('/')) }));
} else {
  t.test(
    'onoff: GpioPort contract',
    { skip: 'no /sys/class/gpio on this machine: runs on a Raspberry Pi' },
    () => undefined,
  );
}

t.test('gpioBase finds the header controller and ignores other chips', async (t) => {
  t.equal(await gpioBase(fixture('pi4-old-kernel')), 0, 'Pi 4, kernel < 6.6: gpiochip0');
  t.equal(await gpioBase(fixture('pi4-kernel-6.6')), 512, 'Pi 4, kernel ≥ 6.6: not the firmware expander at 570');
  t.equal(await gpioBase(fixture('pi5')), 571, 'Pi 5: pinctrl-rp1, not the brcmstb chip at 512');
});

t.test('sysfsNumber adds the base to a BCM pin', async (t) => {
  t.equal(sysfsNumber(0, 17), 17);
  t.equal(sysfsNumber(512, 17), 529);
  t.equal(sysfsNumber(571, 17), 588);
  t.equal(sysfsNumber(571, 53), 624);
  for (const bad of [-1, 54, 1.5, NaN]) t.throws(() => sysfsNumber(571, bad), { name: 'GpioError' }, `bcm ${bad}`);
});

t.test('gpioBase says there is no GPIO, and what to do, when there is none', async (t) => {
  const empty = new HostRoot(t.testdir({ sys: { class: {} } }));
  await t.rejects(gpioBase(empty), {
    name: 'GpioError',
    message: /no GPIO on this machine.*does not exist.*hub\.gpio: sim/,
  });
  const otherChips = new HostRoot(
    t.testdir({ sys: { class: { gpio: { gpiochip0: { label: 'some-other-soc\n', base: '0\n' } } } } }),
  );
  await t.rejects(gpioBase(otherChips), { name: 'GpioError', message: /no gpiochip .* labelled pinctrl-rp1/ });
  const badBase = new HostRoot(
    t.testdir({ sys: { class: { gpio: { gpiochip0: { label: 'pinctrl-bcm2835\n', base: 'zero\n' } } } } }),
  );
  await t.rejects(gpioBase(badBase), { name: 'GpioError', message: /base .*not a number/ });
});

t.test('OnoffGpioPort does nothing until open, then fails clearly without GPIO', async (t) => {
  const empty = new OnoffGpioPort(new HostRoot(t.testdir({})));
  t.teardown(() => empty.close());
  t.equal(empty.name, 'onoff');
  await t.rejects(empty.open(17, 'out'), { name: 'GpioError', message: /no GPIO on this machine/ });
  await t.rejects(empty.open(54, 'out'), { name: 'GpioError', message: /not a BCM pin/ });
  if (!(await realGpioWritable())) {
    // The fixture has a header chip, so the port gets as far as onoff, which finds no real sysfs.
    const pi5 = new OnoffGpioPort(fixture('pi5'));
    t.teardown(() => pi5.close());
    await t.rejects(pi5.open(17, 'out'), { name: 'GpioError', message: /no GPIO access/ });
    await t.rejects(
      pi5.open(17, 'out'),
      { name: 'GpioError', message: /no GPIO access/ },
      'the failed open freed the pin',
    );
  }
});

t.test('createGpioPort chooses by hub.gpio', async (t) => {
  t.ok((await createGpioPort('sim', new HostRoot(t.testdir({})))) instanceof SimGpioPort, 'sim');
  t.ok((await createGpioPort('auto', fixture('pi5'))) instanceof OnoffGpioPort, 'auto on a machine with GPIO');
  await t.rejects(createGpioPort('auto', new HostRoot(t.testdir({}))), {
    name: 'AresError',
    code: 'ARES_ERR_CONFIG',
    message: /^hub\.gpio: auto .*no GPIO on this machine.*hub\.gpio: sim/,
  });
  const pigpio = createGpioPort('pigpio', fixture('pi4-old-kernel'));
  await t.rejects(pigpio, AresError);
  await t.rejects(pigpio, {
    code: 'ARES_ERR_CONFIG',
    message: /^hub\.gpio: pigpio: the pigpio package is not available.*Pi 4 or older.*npm install pigpio/,
  });
});
