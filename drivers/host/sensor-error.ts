/**
 * A sensor read that failed. `transient` tells the driver whether the next tick may succeed (a DHT22
 * frame with a bad checksum) or whether retrying is pointless until the host changes (no thermal
 * zone, overlay not loaded): drivers log the first kind quietly and the second loudly.
 */
export class SensorError extends Error {
  readonly transient: boolean;

  constructor(message: string, opts: { transient?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SensorError';
    this.transient = opts.transient ?? false;
  }
}
