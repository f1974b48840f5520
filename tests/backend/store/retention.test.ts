import t from 'tap';
import type { CentralDb } from '../../../backend/db/connect.js';
import { deleteTelemetryBefore } from '../../../backend/store/retention.js';
import { PLAIN_LAYOUT } from '../../../backend/store/telemetry-layout.js';
import { storeRecords } from '../../../backend/store/telemetry.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, migratedDb } from '../../helpers/store-db.js';

const T0 = Date.UTC(2026, 0, 1);

const readings = (from: number, n: number, ts: (i: number) => number) =>
  Array.from({ length: n }, (_, i) => ({
    record: {
      seq: from + i,
      lane: 'telemetry' as const,
      type: 'reading' as const,
      ts: ts(i),
      mono_ms: i,
      clock_synced: true,
      metric: 'm',
      value: i,
    },
    ts: ts(i),
  }));

const seqs = async (db: CentralDb, deviceId: number) =>
  (
    await db.kysely
      .selectFrom('telemetry_data')
      .select('seq')
      .where('device_id', '=', deviceId)
      .orderBy('seq')
      .execute()
  ).map((r) => Number(r.seq));

for (const target of await dbTargets()) {
  t.test(`store/retention on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('rows before the cutoff go, of every device; the cutoff itself stays', async (t) => {
      const a = await addDevice(db);
      const b = await addDevice(db);
      await storeRecords(
        db.kysely,
        a.id,
        readings(1, 3, (i) => T0 - 1 + i),
        T0,
      );
      await storeRecords(
        db.kysely,
        b.id,
        readings(1, 2, (i) => T0 - 10 + i),
        T0,
      );
      t.strictSame(await deleteTelemetryBefore(db, PLAIN_LAYOUT, T0), { deleted: 3 }, 'no chunks on a plain table');
      t.strictSame(await seqs(db, a.id), [2, 3], 'T0 and later kept');
      t.strictSame(await seqs(db, b.id), []);
      t.strictSame(await deleteTelemetryBefore(db, PLAIN_LAYOUT, T0), { deleted: 0 }, 'idempotent');
    });

    t.test('a backlog larger than one step is deleted in steps, all of it', async (t) => {
      const hub = await addDevice(db);
      const old = 10_000 + 250;
      await storeRecords(
        db.kysely,
        hub.id,
        readings(1, old, (i) => T0 - 1_000_000 + i),
        T0,
      );
      await storeRecords(
        db.kysely,
        hub.id,
        readings(old + 1, 2, (i) => T0 + i),
        T0,
      );
      t.strictSame(await deleteTelemetryBefore(db, PLAIN_LAYOUT, T0), { deleted: old });
      t.strictSame(await seqs(db, hub.id), [old + 1, old + 2]);
    });
  });
}
