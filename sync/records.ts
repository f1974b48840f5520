// The sync record of ARCHITECTURE §4.5, shared by the hub's outbox and central's intake
// (must import neither daemon nor backend).

export const LANES = ['alert', 'event', 'telemetry'] as const;
export type Lane = (typeof LANES)[number];

export const RECORD_TYPES = ['reading', 'state', 'event', 'alert', 'evicted', 'ota_status'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export interface SyncRecord {
  seq: number;
  lane: Lane;
  type: RecordType;
  /** Epoch ms from the hub's clock (which may be years off before NTP sync). */
  ts: number;
  /** Monotonic ms since the hub booted (boot_id). */
  mono_ms: number;
  clock_synced: boolean;
  component_type?: string;
  component_id?: string;
  node_id?: string;
  metric?: string;
  value?: number;
  data?: Record<string, unknown>;
}

/** What a producer hands the outbox: the hub adds seq, ts, mono_ms and clock_synced. */
export type NewRecord = Omit<SyncRecord, 'seq' | 'ts' | 'mono_ms' | 'clock_synced'>;

export interface SyncBatch {
  device_uuid: string;
  boot_id: string;
  /** The hub's monotonic ms when it sent the batch: central repairs unsynced times against it. */
  sent_mono_ms?: number;
  records: SyncRecord[];
}

export interface SyncAnswer {
  acked: [number, number][];
  rejected: { seq: number; code: string; reason: string }[];
}

/** Largest `data` object kept per record (serialised). */
export const MAX_DATA_BYTES = 8 * 1024;
/** Alert-lane records may carry more: a fall alert holds the seconds of samples around it. */
export const MAX_ALERT_DATA_BYTES = 64 * 1024;
/** Readings outside this are a broken sensor or a hostile hub, not a measurement. */
export const MAX_ABS_VALUE = 1e12;
const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const BOOT_ID = /^[0-9a-f-]{8,64}$/i;

export const isBootId = (s: unknown): s is string => typeof s === 'string' && BOOT_ID.test(s);

/**
 * Why a record is unacceptable, or undefined. Central checks every record on its own, so one bad
 * record is rejected alone and the rest of its batch is stored.
 */
export function recordProblem(r: unknown): { code: string; reason: string } | undefined {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return { code: 'malformed', reason: 'not an object' };
  const x = r as Record<string, unknown>;
  if (!Number.isSafeInteger(x['seq']) || (x['seq'] as number) < 1)
    return { code: 'malformed', reason: 'seq must be a positive integer' };
  if (!LANES.includes(x['lane'] as Lane)) return { code: 'malformed', reason: 'unknown lane' };
  if (!RECORD_TYPES.includes(x['type'] as RecordType)) return { code: 'malformed', reason: 'unknown type' };
  if (!Number.isSafeInteger(x['ts']) || (x['ts'] as number) < 0)
    return { code: 'malformed', reason: 'ts must be epoch ms' };
  if (!Number.isSafeInteger(x['mono_ms']) || (x['mono_ms'] as number) < 0)
    return { code: 'malformed', reason: 'mono_ms must be a non-negative integer' };
  if (typeof x['clock_synced'] !== 'boolean') return { code: 'malformed', reason: 'clock_synced must be boolean' };
  for (const key of ['component_type', 'component_id', 'node_id', 'metric'] as const) {
    const v = x[key];
    if (v !== undefined && v !== null && (typeof v !== 'string' || !NAME.test(v)))
      return { code: 'malformed', reason: `${key} must be 1–64 of A-Z a-z 0-9 _ . : -` };
  }
  const value = x['value'];
  if (x['type'] === 'reading') {
    if (typeof value !== 'number' || !Number.isFinite(value))
      return { code: 'malformed', reason: 'a reading needs a finite numeric value' };
    if (typeof x['metric'] !== 'string') return { code: 'malformed', reason: 'a reading needs a metric' };
  }
  if (value !== undefined && value !== null) {
    if (typeof value !== 'number' || !Number.isFinite(value))
      return { code: 'malformed', reason: 'value must be a finite number' };
    if (Math.abs(value) > MAX_ABS_VALUE) return { code: 'out_of_range', reason: `|value| exceeds ${MAX_ABS_VALUE}` };
  }
  const data = x['data'];
  if (data !== undefined && data !== null) {
    if (typeof data !== 'object' || Array.isArray(data)) return { code: 'malformed', reason: 'data must be an object' };
    const cap = x['lane'] === 'alert' ? MAX_ALERT_DATA_BYTES : MAX_DATA_BYTES;
    if (JSON.stringify(data).length > cap) return { code: 'too_large', reason: `data exceeds ${cap} bytes` };
  }
  if (x['type'] === 'evicted') {
    const d = data as Record<string, unknown> | undefined;
    if (
      !d ||
      !LANES.includes(d['lane'] as Lane) ||
      !Number.isSafeInteger(d['from_seq']) ||
      !Number.isSafeInteger(d['to_seq']) ||
      !Number.isSafeInteger(d['count'])
    )
      return { code: 'malformed', reason: 'evicted needs data {lane, from_seq, to_seq, count}' };
  }
  return undefined;
}

/** Sorted sequence numbers as inclusive ranges: [1,2,3,7] → [[1,3],[7,7]]. */
export function toRanges(seqs: number[]): [number, number][] {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}
