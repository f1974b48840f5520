// Store-and-forward end to end: records from the hub's outbox, uploaded by the real uploader (gzip,
// HMAC-signed batches over HTTP), verified and stored by central, acknowledged and deleted from the
// outbox — records/s until a backlog is drained. Target >= 50,000 records/s with SQLite; the same
// against PostgreSQL when it is reachable. Baseline in the same run: the same records written
// straight into central's store (no HTTP, no signature, no gzip), which bounds what sync can reach.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCentral } from '../backend/central.js';
import { storeRecords } from '../backend/store/telemetry.js';
import { systemClock } from '../core/clock.js';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/logger.js';
import { sleep } from '../daemon/central/backoff.js';
import { CentralClient } from '../daemon/central/client.js';
import { Uploader } from '../daemon/central/uploader.js';
import { Outbox } from '../sync/outbox.js';
import type { SyncRecord } from '../sync/records.js';
import { PG_URL, dbTargets } from '../tests/helpers/databases.js';
import { newUser, provisionedHub, startTestCentral } from '../tests/helpers/central.js';

const RECORDS = Number(process.env['ARES_BENCH_SYNC_RECORDS'] ?? 200_000);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const log = (m: string) => void process.stderr.write(`[sync] ${m}\n`);

async function run(name: 'sqlite' | 'postgres', schema?: string) {
  const teardowns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) };
  try {
    const target =
      name === 'postgres'
        ? { name, skip: false as const, url: () => PG_URL, schema, cleanup: async () => undefined }
        : undefined;
    const c = await startTestCentral(t, target);
    const owner = await newUser(c.app);
    const dev = await provisionedHub(c, owner.auth);
    const config = loadConfig({
      env: {},
      overrides: {
        'central.data_dir': c.dataDir,
        'central.database': name === 'postgres' ? PG_URL : `sqlite:${c.dataDir}/central.db`,
        'central.port': 0,
        'central.mqtt_port': 0,
        'log.level': 'silent',
      },
    });
    const central = await startCentral(config, silentLogger(), schema ? { db: { schema } } : {});
    teardowns.push(() => central.close());

    const dir = mkdtempSync(join(tmpdir(), 'ares-bench-sync-'));
    teardowns.push(() => rmSync(dir, { recursive: true, force: true }));
    const outbox = new Outbox({
      path: join(dir, 'buffer.db'),
      maxBytes: 1024 * 1024 * 1024,
      commitMs: 60_000,
      clock: systemClock,
      bootId: '0e0e0e0e-0000-4000-8000-000000000001',
      monoMs: () => Number(process.hrtime.bigint() / 1_000_000n),
      clockSynced: () => true,
      log: silentLogger(),
    });
    outbox.start();
    // The backlog a hub builds while central is away.
    for (let i = 0; i < RECORDS; i++)
      void outbox.append({
        lane: 'telemetry',
        type: 'reading',
        component_type: 'dht22',
        component_id: '3',
        metric: 'temperature',
        value: 20 + (i % 100) / 10,
      });
    outbox.flush();
    const uploader = new Uploader({
      outbox,
      session: () => ({
        client: new CentralClient(central.url, dev.uuid, systemClock),
        secret: dev.secret,
        deviceUuid: dev.uuid,
      }),
      monoMs: () => Number(process.hrtime.bigint() / 1_000_000n),
      now: () => Date.now(),
      log: silentLogger(),
      wait: sleep,
      onRevoked: () => undefined,
    });
    const start = performance.now();
    uploader.start();
    while (outbox.stats().lanes.some((l) => l.depth > 0)) await new Promise((r) => setTimeout(r, 20));
    const syncRate = RECORDS / ((performance.now() - start) / 1000);
    await uploader.stop();
    outbox.stop();
    const stored = await central.ctx.db.kysely
      .selectFrom('telemetry_data')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('device_id', '=', dev.deviceId)
      .executeTakeFirstOrThrow();
    if (Number(stored.n) !== RECORDS) throw new Error(`central holds ${stored.n} records, expected ${RECORDS}`);

    // Baseline: the same number of records stored directly, in batches of the uploader's size.
    const records: SyncRecord[] = Array.from({ length: RECORDS }, (_, i) => ({
      seq: RECORDS + i + 1,
      lane: 'telemetry',
      type: 'reading',
      ts: Date.now(),
      mono_ms: i,
      clock_synced: true,
      component_type: 'dht22',
      component_id: '3',
      metric: 'temperature',
      value: 20,
    }));
    const b0 = performance.now();
    for (let i = 0; i < RECORDS; i += 4000)
      await storeRecords(
        central.ctx.db.kysely,
        dev.deviceId,
        records.slice(i, i + 4000).map((r) => ({ record: r, ts: r.ts })),
        Date.now(),
      );
    const directRate = RECORDS / ((performance.now() - b0) / 1000);
    log(`${name}: sync ${round(syncRate, 0)} records/s, direct store ${round(directRate, 0)} records/s`);
    return { syncRate, directRate };
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}

const hardStop = setTimeout(() => {
  log('hard timeout: giving up');
  process.exit(1);
}, 280_000);
try {
  const results = [];
  const [, pg] = await dbTargets();
  const sqlite = await run('sqlite');
  results.push({
    name: 'sync_records_per_s_sqlite',
    value: round(sqlite.syncRate, 0),
    unit: 'records/s',
    baseline_name: 'direct_store_sqlite',
    baseline_value: round(sqlite.directRate, 0),
    ratio: round(sqlite.syncRate / sqlite.directRate, 3),
    target: '>= 50000 records/s',
    pass: sqlite.syncRate >= 50_000,
  });
  if (pg && !pg.skip) {
    try {
      const r = await run('postgres', pg.schema);
      results.push({
        name: 'sync_records_per_s_postgres',
        value: round(r.syncRate, 0),
        unit: 'records/s',
        baseline_name: 'direct_store_postgres',
        baseline_value: round(r.directRate, 0),
        ratio: round(r.syncRate / r.directRate, 3),
        target: null,
        pass: null,
      });
    } finally {
      await pg.cleanup();
    }
  } else log(`PostgreSQL skipped: ${pg?.skip}`);
  process.stdout.write(JSON.stringify({ bench: 'sync', results }) + '\n');
} finally {
  clearTimeout(hardStop);
}
