import { AresError } from '../../core/errors.js';

/**
 * A sensor read that failed. `transient` tells the driver whether the next tick may succeed (a DHT22
 * frame with a bad checksum) or whether retrying is pointless until the host changes (no thermal
 * zone, overlay not loaded): drivers log the first kind quietly and the second loudly.
 */
export class SensorError extends AresError {
  constructor(message: string, opts: { transient?: boolean; cause?: unknown } = {}) {
    super('ARES_ERR_SENSOR', message, { transient: opts.transient ?? false, cause: opts.cause });
    this.name = 'SensorError';
  }
}
