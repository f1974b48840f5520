import { sql } from 'kysely';
import type { Logger } from '../../core/logger.js';
import type { CentralDb } from '../db/connect.js';

/**
 * How `telemetry_data` is laid out, which decides how sync stores into it and how retention trims it.
 * - plain: a table with a unique (device_id, seq); `on conflict` makes storing idempotent.
 * - hypertable: a TimescaleDB hypertable chunked by `ts` (one chunk per day). Its unique indexes
 *   must include `ts`, and a re-sent record's repaired `ts` may differ from the first, so
 *   idempotence is kept by looking the seqs up under a per-device lock instead (store/telemetry.ts).
 *   Retention drops whole chunks.
 */
export interface TelemetryLayout {
  hypertable: boolean;
  /** Idempotence by (device_id, seq) lookup under a lock, not by a unique constraint. */
  dedupeByLookup: boolean;
  /** The TimescaleDB extension's schema, where its functions live (hypertable only). */
  timescaleSchema?: string;
}

export const PLAIN_LAYOUT: TelemetryLayout = Object.freeze({ hypertable: false, dedupeByLookup: false });

/** One day of epoch milliseconds: a chunk per day keeps a day's readings of every hub together. */
const CHUNK_MS = 86_400_000;

/**
 * Makes `telemetry_data` a TimescaleDB hypertable when the extension is available in this
 * PostgreSQL (`CREATE EXTENSION` is tried; it needs `shared_preload_libraries = 'timescaledb'`), and
 * says which layout is in force. Idempotent, run at every start after the migrations: installing
 * TimescaleDB later converts the table (existing rows are moved into chunks) at the next start.
 * Anything short of a working extension leaves the plain table, with the reason logged.
 */
export async function prepareTelemetryLayout(db: CentralDb, log: Logger): Promise<TelemetryLayout> {
  if (db.dialect !== 'postgres') return PLAIN_LAYOUT;
  const schema = await timescaleSchema(db, log);
  if (!schema) return PLAIN_LAYOUT;
  const table = `${db.schema ?? 'public'}.telemetry_data`;
  const already = await sql<{ n: number }>`
    select count(*)::int as n from timescaledb_information.hypertables
    where hypertable_schema = ${db.schema ?? 'public'} and hypertable_name = 'telemetry_data'`.execute(db.kysely);
  if ((already.rows[0]?.n ?? 0) === 0) {
    const started = Date.now();
    await db.kysely.transaction().execute(async (trx) => {
      await reshapeForHypertable(trx);
      await sql`select ${sql.id(schema)}.create_hypertable(${table}::regclass, 'ts',
        chunk_time_interval => ${CHUNK_MS}::bigint, migrate_data => true)`.execute(trx);
    });
    log.info({ ms: Date.now() - started }, 'telemetry_data converted to a TimescaleDB hypertable');
  }
  return { hypertable: true, dedupeByLookup: true, timescaleSchema: schema };
}

/**
 * Drops what a hypertable cannot have (unique indexes without `ts`: the id primary key and the
 * (device_id, seq) constraint) and adds a unique (device_id, seq, ts) that serves the seq lookups.
 * Exported so tests can run the lookup-based storing on a plain PostgreSQL without TimescaleDB.
 */
export async function reshapeForHypertable(db: Pick<CentralDb['kysely'], 'executeQuery'>): Promise<void> {
  for (const q of [
    sql`alter table telemetry_data drop constraint if exists telemetry_data_pkey`,
    sql`alter table telemetry_data drop constraint if exists telemetry_device_seq`,
    sql`create unique index if not exists telemetry_device_seq_ts on telemetry_data (device_id, seq, ts)`,
  ])
    await q.execute(db as never);
}

/** The extension's schema once it is (or could now be) created in this database; undefined otherwise. */
async function timescaleSchema(db: CentralDb, log: Logger): Promise<string | undefined> {
  const installed = async () =>
    (
      await sql<{ schema: string }>`
        select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
        where e.extname = 'timescaledb'`.execute(db.kysely)
    ).rows[0]?.schema;
  const found = await installed();
  if (found) return found;
  const available = await sql<{ n: number }>`
    select count(*)::int as n from pg_available_extensions where name = 'timescaledb'`.execute(db.kysely);
  if ((available.rows[0]?.n ?? 0) === 0) {
    log.debug('TimescaleDB is not installed: telemetry_data is a plain table');
    return undefined;
  }
  try {
    await sql`create extension if not exists timescaledb`.execute(db.kysely);
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'TimescaleDB is installed but could not be enabled (is it in shared_preload_libraries, and may this role create extensions?); telemetry_data stays a plain table',
    );
    return undefined;
  }
  return installed();
}
