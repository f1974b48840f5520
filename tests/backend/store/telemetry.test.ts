import t from 'tap';
import type { CentralDb } from '../../../backend/db/connect.js';
import { aggregateReadings, listReadings, storeRecords } from '../../../backend/store/telemetry.js';
import type { SyncRecord } from '../../../sync/records.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, migratedDb } from '../../helpers/store-db.js';

const T0 = Date.UTC(2026, 0, 1);

const reading = (seq: number, ts: number, r: Partial<SyncRecord> = {}) => ({
  record: {
    seq,
    lane: 'telemetry',
    type: 'reading',
    ts,
    mono_ms: seq,
    clock_synced: true,
    component_type: 'dht22',
    component_id: '1',
    metric: 'temperature',
    value: seq,
    ...r,
  } satisfies SyncRecord,
  ts,
});

const count = async (db: CentralDb, deviceId: number) =>
  (await db.kysely.selectFrom('telemetry_data').select('id').where('device_id', '=', deviceId).execute()).length;

for (const target of await dbTargets()) {
  t.test(`store/telemetry on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('store: each (device, seq) once, however often sent', async (t) => {
      const hub = await addDevice(db);
      const batch = [reading(1, T0), reading(2, T0 + 1)];
      await storeRecords(db.kysely, hub.id, batch, T0);
      await storeRecords(db.kysely, hub.id, [...batch, reading(3, T0 + 2)], T0);
      t.equal(await count(db, hub.id), 3);
      const other = await addDevice(db);
      await storeRecords(db.kysely, other.id, batch, T0);
      t.equal(await count(db, other.id), 2, 'seqs are per device');
      await storeRecords(db.kysely, hub.id, [], T0);
      t.equal(await count(db, hub.id), 3, 'an empty batch is a no-op');
    });

    t.test('store: an unsynchronised record keeps the hub’s own time beside the repaired one', async (t) => {
      const hub = await addDevice(db);
      const r = reading(1, T0 + 500, { ts: 1000, clock_synced: false });
      await storeRecords(db.kysely, hub.id, [r], T0);
      t.match(
        await db.kysely.selectFrom('telemetry_data').selectAll().where('device_id', '=', hub.id).executeTakeFirst(),
        { ts: T0 + 500, hub_ts: 1000, clock_synced: 0, received_at: T0 },
      );
    });

    t.test('list: time order then seq; readings only; filters; keyset pages', async (t) => {
      const hub = await addDevice(db);
      await storeRecords(
        db.kysely,
        hub.id,
        [
          reading(1, T0 + 20),
          reading(2, T0 + 10),
          reading(3, T0 + 10),
          reading(4, T0 + 30, { metric: 'humidity' }),
          reading(5, T0 + 40, { component_id: '2' }),
          reading(6, T0 + 15, { type: 'event', lane: 'event', metric: 'boot' }),
          reading(7, T0 + 50, { value: undefined }),
        ],
        T0,
      );
      const seqs = async (f: Parameters<typeof listReadings>[2], limit = 100) =>
        (await listReadings(db, hub.id, f, { limit })).items.map((r) => r.seq);
      t.strictSame(await seqs({}), [2, 3, 1, 4, 5, 7], 'by ts, ties by seq; the event left out');
      t.strictSame(await seqs({ metric: 'humidity' }), [4]);
      t.strictSame(await seqs({ componentId: '2' }), [5]);
      t.strictSame(await seqs({ componentType: 'pir' }), []);
      t.strictSame(await seqs({ start: T0 + 10, end: T0 + 30 }), [2, 3, 1], 'start inclusive, end exclusive');
      const first = await listReadings(db, hub.id, {}, { limit: 2 });
      t.strictSame(
        first.items.map((r) => [r.ts, r.seq]),
        [
          [T0 + 10, 2],
          [T0 + 10, 3],
        ],
      );
      t.equal(first.more, true);
      const second = await listReadings(db, hub.id, {}, { limit: 2, after: { ts: T0 + 10, seq: 2 } });
      t.strictSame(
        second.items.map((r) => r.seq),
        [3, 1],
        'after a row with the same time, by seq',
      );
      const last = await listReadings(db, hub.id, {}, { limit: 10, after: { ts: T0 + 40, seq: 5 } });
      t.strictSame(last, {
        items: [
          {
            ts: T0 + 50,
            seq: 7,
            component_type: 'dht22',
            component_id: '1',
            metric: 'temperature',
            value: null,
          },
        ],
        more: false,
      });
    });

    t.test('aggregate: min/avg/max/count per bucket, component and metric; pages', async (t) => {
      const hub = await addDevice(db);
      await storeRecords(
        db.kysely,
        hub.id,
        [
          reading(1, T0 + 1_000, { value: 10 }),
          reading(2, T0 + 59_000, { value: 20 }),
          reading(3, T0 + 61_000, { value: 5 }),
          reading(4, T0 + 2_000, { metric: 'humidity', value: 50 }),
          reading(5, T0 + 3_000, { component_id: '2', value: 1 }),
        ],
        T0,
      );
      const all = await aggregateReadings(db, hub.id, {}, 60_000, { limit: 10 });
      t.strictSame(all, {
        items: [
          { bucket_start: T0, component_id: '1', metric: 'humidity', min: 50, avg: 50, max: 50, count: 1 },
          { bucket_start: T0, component_id: '1', metric: 'temperature', min: 10, avg: 15, max: 20, count: 2 },
          { bucket_start: T0, component_id: '2', metric: 'temperature', min: 1, avg: 1, max: 1, count: 1 },
          { bucket_start: T0 + 60_000, component_id: '1', metric: 'temperature', min: 5, avg: 5, max: 5, count: 1 },
        ],
        more: false,
      });
      const page = await aggregateReadings(db, hub.id, {}, 60_000, { limit: 2 });
      t.equal(page.more, true);
      const rest = await aggregateReadings(db, hub.id, {}, 60_000, {
        limit: 10,
        after: { bucketStart: T0, componentId: '1', metric: 'temperature' },
      });
      t.strictSame(rest.items, all.items.slice(2), 'the next page starts after the keyset');
      t.strictSame(
        (await aggregateReadings(db, hub.id, { metric: 'humidity' }, 60_000, { limit: 10 })).items.length,
        1,
      );
      for (const width of [0, -1, 1.5])
        await t.rejects(
          aggregateReadings(db, hub.id, {}, width, { limit: 1 }),
          { code: 'ARES_ERR_BAD_REQUEST' },
          `width ${width}`,
        );
    });
  });
}
