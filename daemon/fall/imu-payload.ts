import { IMU_CHANNELS } from '../../models/runtime/sisfall.js';

/**
 * What a LAN node publishes on `local/{node_id}/imu` (JSON):
 *
 *     {"seq": 41, "ts": 1795430000000, "rate_hz": 50,
 *      "samples": [[ax, ay, az, gx, gy, gz], …]}
 *
 * `seq` counts batches (0, 1, 2, …, per node, restarting at 0 after the node reboots); `ts` is the
 * node's epoch ms of the first sample (informational: nodes rarely have a good clock; the hub orders
 * by seq); `rate_hz` the sample rate; `samples` 1–500 samples of acceleration in g and angular rate in
 * °/s, axes as a waist-worn device with y along the body when standing (SisFall's convention).
 */
export interface ImuBatch {
  seq: number;
  ts: number | undefined;
  rateHz: number;
  /** Interleaved, IMU_CHANNELS per sample. */
  samples: Float32Array;
}

export const MAX_IMU_SAMPLES = 500;
/** Beyond any body movement: a sensor fault or a hostile node. */
const MAX_G = 64;
const MAX_DPS = 5000;

/**
 * The compact binary form, for nodes where JSON costs too much (an ESP32 at 100 Hz): little-endian,
 *
 *     offset 0  "AI"     magic (0x41 0x49)
 *            2  u8       version, 1
 *            3  u8       encoding: 0 = float32 (g, °/s); 1 = int16 (acceleration in mg, angular rate in 0.1 °/s)
 *            4  u32      seq
 *            8  f64      ts, epoch ms of the first sample (0 = unknown)
 *           16  f32      rate_hz
 *           20  u16      n, samples in the batch (1–500)
 *           22  u16      0 (reserved)
 *           24  n × [ax, ay, az, gx, gy, gz] in the encoding
 *
 * The payload must be exactly that long. Both forms are checked by the same rules.
 */
export const BINARY_MAGIC = 0x4941; // "AI" read as a little-endian u16
const BINARY_HEADER = 24;

function parseBinary(p: Buffer): ImuBatch | string {
  if (p.length < BINARY_HEADER) return 'binary batch shorter than its 24-byte header';
  if (p.readUInt8(2) !== 1) return `binary batch version ${p.readUInt8(2)}: only 1 is understood`;
  const encoding = p.readUInt8(3);
  if (encoding !== 0 && encoding !== 1) return `binary batch encoding ${encoding}: expected 0 (float32) or 1 (int16)`;
  const n = p.readUInt16LE(20);
  const width = encoding === 0 ? 4 : 2;
  if (n === 0 || n > MAX_IMU_SAMPLES) return `samples must hold 1–${MAX_IMU_SAMPLES} samples`;
  const expected = BINARY_HEADER + n * IMU_CHANNELS * width;
  if (p.length !== expected) return `binary batch of ${n} samples must be ${expected} bytes, not ${p.length}`;
  const ts = p.readDoubleLE(8);
  const raw = {
    seq: p.readUInt32LE(4),
    ...(ts !== 0 ? { ts } : {}),
    rate_hz: p.readFloatLE(16),
  };
  const samples = new Float32Array(n * IMU_CHANNELS);
  for (let i = 0; i < n * IMU_CHANNELS; i++) {
    const at = BINARY_HEADER + i * width;
    samples[i] = encoding === 0 ? p.readFloatLE(at) : p.readInt16LE(at) / (i % IMU_CHANNELS < 3 ? 1000 : 10);
  }
  return checkBatch(raw, samples);
}

/** The batch (JSON, or the binary form by its magic), or why it is refused (for the log line). */
export function parseImuBatch(payload: Buffer): ImuBatch | string {
  if (payload.length > 64 * 1024) return 'payload over 64 KiB';
  if (payload.length >= 2 && payload.readUInt16LE(0) === BINARY_MAGIC) return parseBinary(payload);
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'not a JSON object';
  const list = (raw as Record<string, unknown>)['samples'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_IMU_SAMPLES)
    return `samples must hold 1–${MAX_IMU_SAMPLES} samples`;
  const samples = new Float32Array(list.length * IMU_CHANNELS);
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as unknown;
    if (!Array.isArray(s) || s.length !== IMU_CHANNELS) return `sample ${i}: expected [ax, ay, az, gx, gy, gz]`;
    for (let c = 0; c < IMU_CHANNELS; c++) {
      const v = s[c] as unknown;
      samples[i * IMU_CHANNELS + c] = typeof v === 'number' ? v : Number.NaN;
    }
  }
  return checkBatch(raw as Record<string, unknown>, samples);
}

/** The rules both forms obey: header fields, then every value finite and within a body's range. */
function checkBatch(b: Record<string, unknown>, samples: Float32Array): ImuBatch | string {
  if (!Number.isSafeInteger(b['seq']) || (b['seq'] as number) < 0) return 'seq must be a non-negative integer';
  if (b['ts'] !== undefined && (!Number.isSafeInteger(b['ts']) || (b['ts'] as number) < 0))
    return 'ts must be epoch milliseconds';
  const rate = b['rate_hz'];
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 5 || rate > 1000)
    return 'rate_hz must be between 5 and 1000';
  for (let i = 0; i < samples.length; i++) {
    const c = i % IMU_CHANNELS;
    const v = samples[i]!;
    const limit = c < 3 ? MAX_G : MAX_DPS;
    if (!Number.isFinite(v) || Math.abs(v) > limit)
      return `sample ${Math.floor(i / IMU_CHANNELS)}: ${c < 3 ? 'acceleration' : 'angular rate'} must be a number within ±${limit}`;
  }
  return { seq: b['seq'] as number, ts: b['ts'] as number | undefined, rateHz: rate, samples };
}

/** The binary form of a batch (the simulated node and tests use it; firmware writes the same bytes). */
export function encodeImuBatch(
  b: { seq: number; ts?: number; rateHz: number; samples: readonly (readonly number[])[] },
  encoding: 'float32' | 'int16' = 'float32',
): Buffer {
  const width = encoding === 'float32' ? 4 : 2;
  const out = Buffer.alloc(BINARY_HEADER + b.samples.length * IMU_CHANNELS * width);
  out.writeUInt16LE(BINARY_MAGIC, 0);
  out.writeUInt8(1, 2);
  out.writeUInt8(encoding === 'float32' ? 0 : 1, 3);
  out.writeUInt32LE(b.seq, 4);
  out.writeDoubleLE(b.ts ?? 0, 8);
  out.writeFloatLE(b.rateHz, 16);
  out.writeUInt16LE(b.samples.length, 20);
  let at = BINARY_HEADER;
  for (const s of b.samples)
    for (let c = 0; c < IMU_CHANNELS; c++) {
      const v = s[c]!;
      if (encoding === 'float32') out.writeFloatLE(v, at);
      else out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * (c < 3 ? 1000 : 10)))), at);
      at += width;
    }
  return out;
}
