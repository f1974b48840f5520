import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** SisFall's recording rate as shipped in shared/data (reduced from 200 Hz by averaging 4 samples). */
export const SISFALL_RATE_HZ = 50;

/** ADXL345: 13 bits over ±16 g (SisFall Readme: [(2·Range)/(2^Resolution)]·AD). */
const ACCEL_G_PER_COUNT = (2 * 16) / 2 ** 13;
/** ITG3200: 16 bits over ±2000 °/s. */
const GYRO_DPS_PER_COUNT = (2 * 2000) / 2 ** 16;

/** Channels per sample everywhere in fall detection: accel x,y,z in g, then gyro x,y,z in °/s. */
export const IMU_CHANNELS = 6;

export interface SisFallName {
  /** D01…D19 (activity of daily living) or F01…F15 (fall). */
  activity: string;
  subject: string;
  trial: string;
  fall: boolean;
}

const NAME = /^([DF]\d{2})_(S[AE]\d{2})_(R\d{2})\.txt$/;

/** What a SisFall file name says, or undefined for a name not in SisFall's format. */
export function parseSisFallName(path: string): SisFallName | undefined {
  const m = NAME.exec(basename(path));
  if (!m) return undefined;
  return { activity: m[1]!, subject: m[2]!, trial: m[3]!, fall: m[1]!.startsWith('F') };
}

/**
 * A SisFall text file as interleaved samples (IMU_CHANNELS per sample, g and °/s): the ADXL345 and
 * ITG3200 columns (the waist device's first two sensors); the MMA8451Q duplicate is dropped. Throws
 * naming the line on anything that is not nine integers ending in `;`.
 */
export function parseSisFall(text: string, name = 'input'): Float32Array {
  const lines = text.split('\n');
  const out = new Float32Array(lines.length * IMU_CHANNELS);
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cols = line.replace(/;$/, '').split(',');
    if (cols.length < 6 || !line.endsWith(';'))
      throw new Error(`${name}:${i + 1}: expected nine comma-separated integers ending in ';'`);
    for (let c = 0; c < 6; c++) {
      const v = Number(cols[c]);
      if (!Number.isInteger(v)) throw new Error(`${name}:${i + 1}: column ${c + 1} is not an integer`);
      out[n * IMU_CHANNELS + c] = v * (c < 3 ? ACCEL_G_PER_COUNT : GYRO_DPS_PER_COUNT);
    }
    n++;
  }
  return out.subarray(0, n * IMU_CHANNELS);
}

export function readSisFall(path: string): Float32Array {
  return parseSisFall(readFileSync(path, 'utf8'), path);
}
