import { sql } from 'kysely';
import type { CentralContext } from '../context.js';
import type { CentralDb } from '../db/connect.js';
import type { TelemetryLayout } from './telemetry-layout.js';

/** Rows deleted per statement: a big backlog is removed in steps, never in one long lock. */
const STEP = 10_000;
const EVERY_MS = 3_600_000;

/**
 * Deletes raw telemetry older than `central.retention_days` (by the record's time), at start and
 * every hour, a step at a time (on a TimescaleDB hypertable, a chunk at a time). One instance doing
 * it twice is harmless; it is idempotent.
 */
export class RetentionJob {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(private readonly ctx: CentralContext) {}

  start(): void {
    void this.runOnce();
    this.#timer = setInterval(() => void this.runOnce(), EVERY_MS);
    this.#timer.unref();
  }

  /** Resolves to how many rows it deleted. */
  runOnce(): Promise<number> {
    this.#running ??= this.#run()
      .catch((err: unknown) => {
        this.ctx.log.error({ err }, 'telemetry retention failed; retried in an hour');
        return 0;
      })
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #run(): Promise<number> {
    const cutoff = this.ctx.clock.now() - this.ctx.config.central.retention_days * 86_400_000;
    const { deleted, chunksDropped } = await deleteTelemetryBefore(this.ctx.db, this.ctx.telemetry, cutoff);
    if (deleted > 0 || (chunksDropped ?? 0) > 0)
      this.ctx.log.info(
        {
          ...(chunksDropped !== undefined ? { chunks_dropped: chunksDropped } : {}),
          deleted,
          cutoff: new Date(cutoff).toISOString(),
        },
        'old telemetry deleted',
      );
    return deleted;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}

/**
 * Deletes telemetry recorded (by the record's time) before `cutoff`. On a TimescaleDB hypertable,
 * whole chunks go first (no row-by-row delete, no bloat), then the rest of the one chunk the cutoff
 * falls in; on a plain table, STEP rows per statement. Resolves to the rows deleted by statement
 * (a dropped chunk's rows are not counted) and, on a hypertable, the chunks dropped.
 */
export async function deleteTelemetryBefore(
  db: CentralDb,
  layout: TelemetryLayout,
  cutoff: number,
): Promise<{ deleted: number; chunksDropped?: number }> {
  if (layout.hypertable && layout.timescaleSchema) {
    const table = `${db.schema ?? 'public'}.telemetry_data`;
    const dropped = await sql<{ chunk: string }>`select ${sql.id(layout.timescaleSchema)}.drop_chunks(
      ${table}::regclass, older_than => ${cutoff}::bigint) as chunk`.execute(db.kysely);
    const res = await db.kysely.deleteFrom('telemetry_data').where('ts', '<', cutoff).executeTakeFirst();
    return { deleted: Number(res.numDeletedRows), chunksDropped: dropped.rows.length };
  }
  let deleted = 0;
  for (;;) {
    const ids = db.kysely.selectFrom('telemetry_data').select('id').where('ts', '<', cutoff).limit(STEP);
    const res = await db.kysely.deleteFrom('telemetry_data').where('id', 'in', ids).executeTakeFirst();
    const n = Number(res.numDeletedRows);
    deleted += n;
    if (n < STEP) break;
  }
  return { deleted };
}
