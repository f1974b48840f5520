import { readdir } from 'node:fs/promises';
import type { HostRoot } from '../../core/host-root.js';
import { GpioError, MAX_BCM_PIN } from './port.js';

/**
 * Where a BCM pin lives in sysfs. Since kernel 6.6 (and always on the Pi 5) the header controller's
 * lines no longer start at sysfs number 0: they start at that gpiochip's `base` (512 on a Pi 4, 571 on
 * a Pi 5), so BCM 17 is sysfs 529 or 588. Other chips (the firmware expander, the Pi 5's brcmstb
 * AON block) are never the header and are skipped by label.
 */

/** Labels of the controller wired to the 40-pin header: Pi 5, Pi 4, Pi ≤ 3 and Zero 2 W. */
const HEADER_CHIP_LABELS: readonly string[] = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

const GPIO_CLASS = '/sys/class/gpio';

/** True for an integer BCM number 0–53: the rule every port and every digital driver checks. */
export function isBcmPin(pin: unknown): pin is number {
  return typeof pin === 'number' && Number.isInteger(pin) && pin >= 0 && pin <= MAX_BCM_PIN;
}

/** The sysfs base of the header controller under `host`; GpioError when this machine has none. */
export async function gpioBase(host: HostRoot): Promise<number> {
  const dir = host.path(GPIO_CLASS);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw noGpio(`${dir} does not exist`);
    throw err;
  }
  // Sorted so that the answer does not depend on directory order if a machine ever had two matches.
  for (const chip of entries.filter((e) => e.startsWith('gpiochip')).sort()) {
    const label = (await host.readText(`${GPIO_CLASS}/${chip}/label`))?.trim();
    if (label === undefined || !HEADER_CHIP_LABELS.includes(label)) continue;
    const baseText = (await host.readText(`${GPIO_CLASS}/${chip}/base`))?.trim();
    const base = Number(baseText);
    if (baseText === undefined || baseText === '' || !Number.isSafeInteger(base) || base < 0) {
      throw new GpioError(`${dir}/${chip}/base (${label}) is not a number: ${JSON.stringify(baseText)}`);
    }
    return base;
  }
  throw noGpio(`no gpiochip in ${dir} is labelled ${HEADER_CHIP_LABELS.join(', ')}`);
}

/** The sysfs GPIO number of BCM pin `bcm` on a controller whose lines start at `base`. */
export function sysfsNumber(base: number, bcm: number): number {
  if (!isBcmPin(bcm)) throw new GpioError(`GPIO ${bcm} is not a BCM pin number (0–${MAX_BCM_PIN})`, bcm);
  return base + bcm;
}

function noGpio(why: string): GpioError {
  return new GpioError(`no GPIO on this machine (${why}); set hub.gpio: sim for development`);
}
