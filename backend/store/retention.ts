import { sql } from 'kysely';
import type { CentralContext } from '../context.js';

/** Rows deleted per statement: a big backlog is removed in steps, never in one long lock. */
const STEP = 10_000;
const EVERY_MS = 3_600_000;

/**
 * Deletes raw telemetry older than `central.retention_days` (by the record's time), at start and
 * every hour, a step at a time (on a TimescaleDB hypertable, a chunk at a time). One instance doing it twice is harmless; it is idempotent.
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
    const db = this.ctx.db.kysely;
    const cutoff = this.ctx.clock.now() - this.ctx.config.central.retention_days * 86_400_000;
    const layout = this.ctx.telemetry;
    let total = 0;
    if (layout.hypertable && layout.timescaleSchema) {
      // Whole days go as chunks (no row-by-row delete, no bloat); what is left is part of one chunk.
      const table = `${this.ctx.db.schema ?? 'public'}.telemetry_data`;
      const dropped = await sql<{ chunk: string }>`select ${sql.id(layout.timescaleSchema)}.drop_chunks(
        ${table}::regclass, older_than => ${cutoff}::bigint) as chunk`.execute(db);
      const res = await db.deleteFrom('telemetry_data').where('ts', '<', cutoff).executeTakeFirst();
      total = Number(res.numDeletedRows);
      if (dropped.rows.length > 0 || total > 0)
        this.ctx.log.info(
          { chunks_dropped: dropped.rows.length, deleted: total, cutoff: new Date(cutoff).toISOString() },
          'old telemetry deleted',
        );
      return total;
    }
    for (;;) {
      const ids = db.selectFrom('telemetry_data').select('id').where('ts', '<', cutoff).limit(STEP);
      const res = await db.deleteFrom('telemetry_data').where('id', 'in', ids).executeTakeFirst();
      const n = Number(res.numDeletedRows);
      total += n;
      if (n < STEP) break;
    }
    if (total > 0)
      this.ctx.log.info({ deleted: total, cutoff: new Date(cutoff).toISOString() }, 'old telemetry deleted');
    return total;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
