import { CompiledQuery, sql, type Kysely } from 'kysely';
import { badRequest } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import type { Database } from '../db/types.js';
import type { SyncRecord } from '../../sync/records.js';
import { PLAIN_LAYOUT, type TelemetryLayout } from './telemetry-layout.js';

/** Rows per INSERT: 14 columns × 400 stays far below SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 400;

const COLUMNS = [
  'device_id',
  'seq',
  'lane',
  'type',
  'ts',
  'hub_ts',
  'clock_synced',
  'received_at',
  'component_type',
  'component_id',
  'node_id',
  'metric',
  'value',
  'data',
] as const;

/** Key of the per-device advisory lock that serialises storing when seqs are looked up ('ARES'). */
const LOCK_CLASS = 0x41524553;

/**
 * The INSERT for `rows` rows, compiled by kysely once per database, layout and row count: building
 * a 400-row kysely query per chunk cost more than storing it (sync throughput).
 */
const compiled = new WeakMap<Kysely<Database>, Map<string, string>>();
function insertSql(db: Kysely<Database>, rows: number, byLookup: boolean): string {
  let byCount = compiled.get(db);
  if (!byCount) compiled.set(db, (byCount = new Map()));
  const key = `${byLookup ? 'l' : 'c'}${rows}`;
  let text = byCount.get(key);
  if (text === undefined) {
    const dummy = Object.fromEntries(COLUMNS.map((c, i) => [c, i])) as never;
    text = db
      .insertInto('telemetry_data')
      .values(Array.from({ length: rows }, () => dummy))
      // A hypertable has no unique (device_id, seq) to name; seqs were looked up under the lock.
      .onConflict((oc) => (byLookup ? oc.doNothing() : oc.columns(['device_id', 'seq']).doNothing()))
      .compile().sql;
    byCount.set(key, text);
  }
  return text;
}

/**
 * Stores records idempotently by (device, seq), all in one transaction: a replayed or re-sent
 * record is a no-op (`on conflict do nothing`), so the hub may send a batch as often as it likes and
 * every record is stored exactly once. `ts` is the repaired time for records whose clock was not
 * synchronised; the hub's own is kept in `hub_ts`. On a hypertable (telemetry-layout.ts) the seqs
 * already stored are looked up and skipped instead, under a per-device lock so a retry racing a slow
 * first attempt cannot store a record twice.
 */
export async function storeRecords(
  db: Kysely<Database>,
  deviceId: number,
  records: { record: SyncRecord; ts: number }[],
  receivedAt: number,
  layout: TelemetryLayout = PLAIN_LAYOUT,
): Promise<void> {
  if (records.length === 0) return;
  const byLookup = layout.dedupeByLookup;
  await db.transaction().execute(async (trx) => {
    let fresh = records;
    if (byLookup) {
      await sql`select pg_advisory_xact_lock(${LOCK_CLASS}::int, ${deviceId}::int)`.execute(trx);
      const seqs = records.map((r) => r.record.seq);
      const have = await sql<{ seq: number }>`
        select seq from telemetry_data where device_id = ${deviceId} and seq = any(${seqs}::bigint[])`.execute(trx);
      const stored = new Set(have.rows.map((r) => Number(r.seq)));
      fresh = records.filter((r) => !stored.has(r.record.seq));
    }
    for (let i = 0; i < fresh.length; i += CHUNK) {
      const chunk = fresh.slice(i, i + CHUNK);
      const params: unknown[] = [];
      for (const { record: r, ts } of chunk)
        params.push(
          deviceId,
          r.seq,
          r.lane,
          r.type,
          ts,
          r.clock_synced ? null : r.ts,
          r.clock_synced ? 1 : 0,
          receivedAt,
          r.component_type ?? null,
          r.component_id ?? null,
          r.node_id ?? null,
          r.metric ?? null,
          r.value ?? null,
          r.data ? JSON.stringify(r.data) : null,
        );
      await trx.executeQuery(CompiledQuery.raw(insertSql(db, chunk.length, byLookup), params));
    }
  });
}

/** Which of a device's readings a query is about; `start` inclusive, `end` exclusive (epoch ms). */
export interface ReadingFilter {
  componentType?: string;
  componentId?: string;
  metric?: string;
  start?: number;
  end?: number;
}

/** A page and whether more rows follow it (the query asks for one more than `limit`). */
export interface Page<T> {
  items: T[];
  more: boolean;
}

export interface Reading {
  ts: number;
  seq: number;
  component_type: string | null;
  component_id: string | null;
  metric: string | null;
  value: number | null;
}

export interface ReadingBucket {
  bucket_start: number;
  component_id: string | null;
  metric: string | null;
  min: number;
  avg: number;
  max: number;
  count: number;
}

function readingsOf(db: CentralDb, deviceId: number, f: ReadingFilter) {
  let q = db.kysely.selectFrom('telemetry_data').where('device_id', '=', deviceId).where('type', '=', 'reading');
  if (f.componentType) q = q.where('component_type', '=', f.componentType);
  if (f.componentId) q = q.where('component_id', '=', f.componentId);
  if (f.metric) q = q.where('metric', '=', f.metric);
  if (f.start !== undefined) q = q.where('ts', '>=', f.start);
  if (f.end !== undefined) q = q.where('ts', '<', f.end);
  return q;
}

const page = <T>(rows: T[], limit: number): Page<T> => ({ items: rows.slice(0, limit), more: rows.length > limit });

/**
 * A device's readings in time order (then by seq), a page at a time: `after` is the last row of
 * the previous page, a keyset, so pages never skip or repeat rows while new ones arrive.
 */
export async function listReadings(
  db: CentralDb,
  deviceId: number,
  filter: ReadingFilter,
  p: { limit: number; after?: { ts: number; seq: number } },
): Promise<Page<Reading>> {
  let q = readingsOf(db, deviceId, filter)
    .select(['ts', 'seq', 'component_type', 'component_id', 'metric', 'value'])
    .orderBy('ts')
    .orderBy('seq')
    .limit(p.limit + 1);
  const after = p.after;
  if (after)
    q = q.where((eb) => eb.or([eb('ts', '>', after.ts), eb.and([eb('ts', '=', after.ts), eb('seq', '>', after.seq)])]));
  const rows = await q.execute();
  return page(
    rows.map((r) => ({ ...r, ts: Number(r.ts), seq: Number(r.seq), value: r.value === null ? null : Number(r.value) })),
    p.limit,
  );
}

/**
 * min/avg/max/count of a device's readings per time bucket of `widthMs`, component and metric, in
 * that order, a page at a time (`after`: the previous page's last bucket, component and metric).
 */
export async function aggregateReadings(
  db: CentralDb,
  deviceId: number,
  filter: ReadingFilter,
  widthMs: number,
  p: { limit: number; after?: { bucketStart: number; componentId: string; metric: string } },
): Promise<Page<ReadingBucket>> {
  // The width is inlined into the SQL (below), so it must be a plain positive integer.
  if (!Number.isSafeInteger(widthMs) || widthMs <= 0) throw badRequest('bucket: must be longer than zero');
  // Integer division in both dialects; the width is a literal so that the SELECT and GROUP BY
  // expressions are the same text for PostgreSQL.
  const w = sql.lit(widthMs);
  const bucketStart = sql<number>`cast(ts / ${w} as bigint) * ${w}`;
  let q = readingsOf(db, deviceId, filter)
    .select([
      bucketStart.as('bucket_start'),
      'component_id',
      'metric',
      (eb) => eb.fn.min<number>('value').as('min'),
      (eb) => eb.fn.avg<number>('value').as('avg'),
      (eb) => eb.fn.max<number>('value').as('max'),
      (eb) => eb.fn.countAll<number>().as('count'),
    ])
    .groupBy([bucketStart, 'component_id', 'metric'])
    .orderBy('bucket_start')
    .orderBy('component_id')
    .orderBy('metric')
    .limit(p.limit + 1);
  if (p.after) {
    const { bucketStart: b, componentId: c, metric: m } = p.after;
    q = q.having(
      sql<boolean>`(${bucketStart} > ${b} or (${bucketStart} = ${b} and (component_id > ${c} or (component_id = ${c} and metric > ${m}))))`,
    );
  }
  const rows = await q.execute();
  return page(
    rows.map((r) => ({
      bucket_start: Number(r.bucket_start),
      component_id: r.component_id,
      metric: r.metric,
      min: Number(r.min),
      avg: Number(r.avg),
      max: Number(r.max),
      count: Number(r.count),
    })),
    p.limit,
  );
}
