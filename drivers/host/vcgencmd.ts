import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SensorError } from './sensor-error.js';

/**
 * The firmware's power and thermal flags (`vcgencmd get_throttled`, Raspberry Pi OS only). Bits 0–3
 * are "now", bits 16–19 "has occurred since boot"; under-voltage is the one a hub owner must hear
 * about, since a weak supply corrupts SD cards.
 */
export interface Throttled {
  raw: number;
  under_voltage_now: boolean;
  freq_capped_now: boolean;
  throttled_now: boolean;
  soft_temp_limit_now: boolean;
  under_voltage_occurred: boolean;
  freq_capped_occurred: boolean;
  throttled_occurred: boolean;
  soft_temp_limit_occurred: boolean;
}

const bit = (raw: number, n: number): boolean => (raw & (1 << n)) !== 0;

/** `throttled=0x50005` → flags; anything else → undefined. */
export function parseThrottled(output: string): Throttled | undefined {
  const m = /^\s*throttled=0x([0-9a-f]{1,8})\s*$/i.exec(output);
  if (!m) return undefined;
  const raw = parseInt(m[1]!, 16);
  return {
    raw,
    under_voltage_now: bit(raw, 0),
    freq_capped_now: bit(raw, 1),
    throttled_now: bit(raw, 2),
    soft_temp_limit_now: bit(raw, 3),
    under_voltage_occurred: bit(raw, 16),
    freq_capped_occurred: bit(raw, 17),
    throttled_occurred: bit(raw, 18),
    soft_temp_limit_occurred: bit(raw, 19),
  };
}

const execFileAsync = promisify(execFile);

/** Runs the real command; 2 s is plenty, and a hung firmware mailbox must not stall the sampler. */
export async function runGetThrottled(): Promise<string> {
  const { stdout } = await execFileAsync('vcgencmd', ['get_throttled'], { timeout: 2000 });
  return stdout;
}

/**
 * The flags, or undefined where vcgencmd does not exist (not a Pi, or not Raspberry Pi OS). Any
 * other failure rejects with a SensorError so the caller can log why (the usual one: the daemon's
 * user is not in the `video` group, and vcgencmd prints "VCHI initialization failed").
 */
export async function readThrottled(run: () => Promise<string> = runGetThrottled): Promise<Throttled | undefined> {
  let output: string;
  try {
    output = await run();
  } catch (err) {
    if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return undefined;
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    const why = stderr || (err as Error).message;
    throw new SensorError(`vcgencmd get_throttled failed: ${why}`, { transient: true, cause: err });
  }
  const flags = parseThrottled(output);
  if (!flags) throw new SensorError(`vcgencmd get_throttled printed ${JSON.stringify(output.slice(0, 80))}`);
  return flags;
}
