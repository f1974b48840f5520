import { readdir, readFile as fsReadFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostRoot } from '../../core/host-root.js';
import { SensorError } from './sensor-error.js';

/**
 * DHT22 through the kernel's IIO driver (`dtoverlay=dht11,gpiopin=N`). The driver is called dht11
 * even for a DHT22: it tells them apart by the frame. The kernel bit-bangs the one-wire protocol, so
 * a read often fails with EIO (bad checksum) or ETIMEDOUT (missed edges); a retry a moment later
 * usually works. The kernel caches a good frame for 2 s, so reading humidity right after temperature
 * costs no second transfer.
 */
export const IIO_DEVICES = '/sys/bus/iio/devices';
const DRIVER_NAME = 'dht11';
const DEVICE_RE = /^iio:device(\d+)$/;
/** Errors of the transfer itself, worth another attempt. */
const RETRYABLE = new Set(['EIO', 'ETIMEDOUT', 'EAGAIN']);

/** The DHT22's datasheet ranges; a value outside them is a corrupted frame, not weather. */
export const DHT_TEMPERATURE_RANGE = { min: -40, max: 80 } as const;
export const DHT_HUMIDITY_RANGE = { min: 0, max: 100 } as const;

export interface DhtOptions {
  /** A specific device, e.g. 'iio:device0'; default: the first one named dht11. */
  device?: string;
  /** Tries per file before giving up (default 3). */
  attempts?: number;
  /** Pause between tries (default 200 ms). */
  pauseMs?: number;
  /** Seam for tests: EIO cannot be produced by a plain fixture file. */
  readFile?: ReadFile;
}

export type ReadFile = (path: string) => Promise<string>;

export interface DhtReading {
  /** °C, one decimal. */
  temperature: number;
  /** % relative humidity, one decimal. */
  humidity: number;
  /** The device that answered, e.g. 'iio:device0'. */
  device: string;
}

const codeOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;
const defaultReadFile: ReadFile = (path) => fsReadFile(path, 'utf8');

export async function readDht(host: HostRoot, opts: DhtOptions = {}): Promise<DhtReading> {
  const read = opts.readFile ?? defaultReadFile;
  const device = await findDevice(host, opts.device, read);
  const dir = `${host.path(IIO_DEVICES)}/${device}`;
  const retry = { attempts: Math.max(1, opts.attempts ?? 3), pauseMs: opts.pauseMs ?? 200, read };
  const temperature = await readMilli(`${dir}/in_temp_input`, retry);
  const humidity = await readMilli(`${dir}/in_humidityrelative_input`, retry);
  checkRange(device, 'temperature', temperature, DHT_TEMPERATURE_RANGE, '°C');
  checkRange(device, 'humidity', humidity, DHT_HUMIDITY_RANGE, '%');
  return { temperature, humidity, device };
}

async function findDevice(host: HostRoot, wanted: string | undefined, read: ReadFile): Promise<string> {
  const root = host.path(IIO_DEVICES);
  const hint = 'is dtoverlay=dht11,gpiopin=N in config.txt?';
  if (wanted !== undefined) {
    // Config comes from central: never let it name a path outside the IIO directory.
    if (!DEVICE_RE.test(wanted)) throw new SensorError(`iio_device must look like 'iio:device0', got '${wanted}'`);
    const name = await readName(`${root}/${wanted}`, read);
    if (name === undefined) throw new SensorError(`no IIO device ${root}/${wanted} (${hint})`);
    if (name !== DRIVER_NAME) throw new SensorError(`${root}/${wanted} is '${name}', not a ${DRIVER_NAME} sensor`);
    return wanted;
  }
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (err) {
    throw new SensorError(`no IIO devices at ${root} (${hint})`, { cause: err });
  }
  const devices = entries
    .filter((e) => DEVICE_RE.test(e))
    .sort((a, b) => Number(DEVICE_RE.exec(a)?.[1]) - Number(DEVICE_RE.exec(b)?.[1]));
  for (const d of devices) if ((await readName(`${root}/${d}`, read)) === DRIVER_NAME) return d;
  throw new SensorError(`no ${DRIVER_NAME} device among ${devices.length} IIO devices at ${root} (${hint})`);
}

/** The device's driver name, or undefined when it has none (not an IIO device dir). */
async function readName(dir: string, read: ReadFile): Promise<string | undefined> {
  try {
    return (await read(`${dir}/name`)).trim();
  } catch (err) {
    if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return undefined;
    throw new SensorError(`cannot read ${dir}/name: ${(err as Error).message}`, { cause: err });
  }
}

interface Retry {
  attempts: number;
  pauseMs: number;
  read: ReadFile;
}

/** A milli-unit value file as a one-decimal number, retrying transfer errors. */
async function readMilli(path: string, { attempts, pauseMs, read }: Retry): Promise<number> {
  let last: unknown;
  for (let i = 1; i <= attempts; i++) {
    try {
      const text = (await read(path)).trim();
      if (!/^-?\d+$/.test(text))
        throw new SensorError(`unexpected content in ${path}: ${JSON.stringify(text.slice(0, 40))}`);
      return Math.round(Number(text) / 100) / 10;
    } catch (err) {
      if (err instanceof SensorError) throw err;
      if (!RETRYABLE.has(codeOf(err) ?? '')) {
        throw new SensorError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
      }
      last = err;
      if (i < attempts && pauseMs > 0) await sleep(pauseMs);
    }
  }
  const code = codeOf(last) ?? 'error';
  throw new SensorError(`${path}: ${code} on all ${attempts} attempts (sensor not answering cleanly)`, {
    transient: true,
    cause: last,
  });
}

function checkRange(device: string, what: string, value: number, range: { min: number; max: number }, unit: string) {
  if (value < range.min || value > range.max) {
    // Not retried here: the kernel would hand back the same cached frame for 2 s.
    throw new SensorError(
      `${device} ${what} ${value} ${unit} is outside ${range.min}…${range.max} ${unit} (a corrupted frame)`,
      { transient: true },
    );
  }
}
