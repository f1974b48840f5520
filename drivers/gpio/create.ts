import { AresError } from '../../core/errors.js';
import type { HostRoot } from '../../core/host-root.js';
import { gpioBase } from './gpiochip.js';
import { OnoffGpioPort } from './onoff.js';
import { PigpioGpioPort } from './pigpio.js';
import { GpioError, type GpioPort } from './port.js';
import { SimGpioPort } from './sim.js';

export type GpioKind = 'auto' | 'pigpio' | 'sim';

/**
 * The one place that turns `hub.gpio` into a port. 'auto' looks for the header controller now, so a
 * machine without GPIO fails at start-up naming the setting, not later on a component's first open.
 */
export async function createGpioPort(kind: GpioKind, host: HostRoot): Promise<GpioPort> {
  switch (kind) {
    case 'sim':
      return new SimGpioPort();
    case 'auto':
      try {
        await gpioBase(host);
      } catch (err) {
        if (!(err instanceof GpioError)) throw err;
        throw new AresError('ARES_ERR_CONFIG', `hub.gpio: auto (onoff): ${err.message}`, { cause: err });
      }
      return new OnoffGpioPort(host);
    case 'pigpio':
      try {
        return await PigpioGpioPort.load();
      } catch (err) {
        if (!(err instanceof GpioError)) throw err;
        throw new AresError('ARES_ERR_CONFIG', `hub.gpio: pigpio: ${err.message}`, { cause: err });
      }
    default: {
      // Config validation rejects other values; this keeps a JavaScript caller from getting undefined.
      const other: never = kind;
      throw new AresError('ARES_ERR_CONFIG', `hub.gpio: ${JSON.stringify(other)} is not one of auto, pigpio, sim`);
    }
  }
}
