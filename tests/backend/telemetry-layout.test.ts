import pg from 'pg';
import t from 'tap';
import { RetentionJob } from '../../backend/store/retention.js';
import { storeRecords } from '../../backend/store/telemetry.js';
import { PLAIN_LAYOUT } from '../../backend/store/telemetry-layout.js';
import type { SyncRecord } from '../../sync/records.js';
import { PG_URL, dbTargets } from '../helpers/databases.js';
import { newUser, provisionedHub, startTestCentral } from '../helpers/central.js';

/** Whether this PostgreSQL offers TimescaleDB (installed and preloadable). */
async function timescaleProblem(): Promise<string | false> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const r = await client.query("select 1 from pg_available_extensions where name = 'timescaledb'");
    if (r.rowCount === 0)
      return `TimescaleDB is not installed in the PostgreSQL at ${PG_URL}; install timescaledb-2-postgresql-<version>, add timescaledb to shared_preload_libraries and restart PostgreSQL to run this`;
    const preload = await client.query('show shared_preload_libraries');
    if (!String(preload.rows[0]?.shared_preload_libraries).includes('timescaledb'))
      return 'TimescaleDB is installed but not in shared_preload_libraries; add it and restart PostgreSQL to run this';
    return false;
  } catch (err) {
    return `PostgreSQL not reachable at ${PG_URL} (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const [sqlite, postgres] = await dbTargets();
const timescale = await timescaleProblem();

t.test('SQLite, and PostgreSQL without TimescaleDB: a plain table', async (t) => {
  const c = await startTestCentral(t, sqlite);
  t.same(c.ctx.telemetry, PLAIN_LAYOUT);
  if (postgres!.skip || !timescale) return;
  t.teardown(() => postgres!.cleanup());
  const p = await startTestCentral(t, postgres);
  t.same(p.ctx.telemetry, PLAIN_LAYOUT, 'no extension: plain table, and central starts');
});

t.test(
  'PostgreSQL with TimescaleDB: a hypertable, idempotent storing, retention by chunk',
  { skip: timescale },
  async (t) => {
    t.teardown(() => postgres!.cleanup());
    const c = await startTestCentral(t, postgres, { 'central.retention_days': 2 });
    t.match(c.ctx.telemetry, { hypertable: true, dedupeByLookup: true });
    const owner = await newUser(c.app);
    const dev = await provisionedHub(c, owner.auth);
    const now = c.clock.now();
    const rec = (seq: number, ts: number): { record: SyncRecord; ts: number } => ({
      record: {
        seq,
        lane: 'telemetry',
        type: 'reading',
        ts,
        mono_ms: seq,
        clock_synced: true,
        metric: 'm',
        value: seq,
      },
      ts,
    });
    const records = [1, 2, 3, 4].map((seq) => rec(seq, now - (5 - seq) * 86_400_000));
    await storeRecords(c.ctx.db.kysely, dev.deviceId, records, now, c.ctx.telemetry);
    await storeRecords(c.ctx.db.kysely, dev.deviceId, records, now, c.ctx.telemetry);
    const seqs = async () =>
      (await c.ctx.db.kysely.selectFrom('telemetry_data').select('seq').orderBy('seq').execute()).map((r) => r.seq);
    t.same(await seqs(), [1, 2, 3, 4], 'stored once');
    await new RetentionJob(c.ctx).runOnce();
    t.same(await seqs(), [3, 4], 'older than two days: gone');
    // A restart finds the hypertable and keeps it.
    const again = await startTestCentral(t, postgres);
    t.match(again.ctx.telemetry, { hypertable: true });
  },
);
