import t from 'tap';
import { queueAlertNotifications } from '../../../backend/notify/queue.js';
import type { CentralDb } from '../../../backend/db/connect.js';
import {
  answerAlert,
  findAlert,
  listAlerts,
  openAlert,
  recordAlerts,
  storeAlertRecords,
} from '../../../backend/store/alerts.js';
import type { SyncRecord } from '../../../sync/records.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addMember, addUser, migratedDb } from '../../helpers/store-db.js';

const T0 = Date.UTC(2026, 0, 1);

const alert = (deviceId: number, id: string, ts: number, seq: number, type = 'fall') => ({
  id,
  device_id: deviceId,
  type,
  ts,
  seq,
  node_id: null,
  component_id: null,
  prob: null,
  created_at: ts,
  reason: null,
});

const record = (seq: number, r: Partial<SyncRecord>): { record: SyncRecord; ts: number } => ({
  record: { seq, lane: 'alert', type: 'event', ts: T0 + seq, mono_ms: seq, clock_synced: true, ...r },
  ts: T0 + seq,
});

const notices = (db: CentralDb, alertId: string) =>
  db.kysely
    .selectFrom('notifications')
    .select(['user_id', 'channel', 'event'])
    .where('alert_id', '=', alertId)
    .orderBy('id')
    .execute();

for (const target of await dbTargets()) {
  t.test(`store/alerts on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('open: once per id and device', async (t) => {
      const hub = await addDevice(db);
      t.equal(await openAlert(db.kysely, alert(hub.id, 'a1', T0, 1)), true);
      t.equal(await openAlert(db.kysely, alert(hub.id, 'a1', T0 + 5, 2)), false, 'the same id again');
      t.match(await findAlert(db, hub.id, 'a1'), { id: 'a1', status: 'open', ts: T0, escalations: 0, duplicates: 0 });
      const other = await addDevice(db);
      t.equal(await openAlert(db.kysely, alert(other.id, 'a1', T0, 1)), true, 'ids are per device');
      t.equal(await findAlert(db, hub.id, 'nope'), undefined);
    });

    t.test('list: newest first (time, then seq), by status, at most limit, this hub only', async (t) => {
      const hub = await addDevice(db);
      const other = await addDevice(db);
      await openAlert(db.kysely, alert(hub.id, 'old', T0, 1));
      await openAlert(db.kysely, alert(hub.id, 'new-low', T0 + 10, 2));
      await openAlert(db.kysely, alert(hub.id, 'new-high', T0 + 10, 3));
      await openAlert(db.kysely, alert(other.id, 'foreign', T0 + 20, 1));
      await db.kysely.updateTable('device_alerts').set({ status: 'cancelled' }).where('id', '=', 'old').execute();
      const ids = async (f: Parameters<typeof listAlerts>[2]) => (await listAlerts(db, hub.id, f)).map((a) => a.id);
      t.strictSame(await ids({ limit: 10 }), ['new-high', 'new-low', 'old']);
      t.strictSame(await ids({ limit: 2 }), ['new-high', 'new-low']);
      t.strictSame(await ids({ status: 'cancelled', limit: 10 }), ['old']);
      t.strictSame(await ids({ status: 'resolved', limit: 10 }), []);
    });

    t.test('answer: ack moves only an open alert; cancel one not ended; members told', async (t) => {
      const owner = await addUser(db, 'owner');
      const viewer = await addUser(db, 'viewer');
      const hub = await addDevice(db);
      await addMember(db, owner.id, hub.id, 'owner');
      await addMember(db, viewer.id, hub.id, 'viewer');
      await openAlert(db.kysely, alert(hub.id, 'f1', T0, 1));
      const answer = (action: 'ack' | 'cancel', by: string, at: number) =>
        answerAlert(db, { deviceId: hub.id, alertId: 'f1', action, by }, at, (trx) =>
          queueAlertNotifications(
            trx,
            { deviceId: hub.id, alertId: 'f1', event: action === 'ack' ? 'alert_acknowledged' : 'alert_cancelled', by },
            at,
          ),
        );

      t.equal(await answer('ack', 'first@ares.test', T0 + 1), true);
      t.equal(await answer('ack', 'second@ares.test', T0 + 2), false, 'the first caregiver is kept');
      t.match(await findAlert(db, hub.id, 'f1'), { status: 'acknowledged', acknowledged_by: 'first@ares.test' });
      t.match(
        await notices(db, 'f1'),
        [
          { user_id: owner.id, channel: 'email', event: 'alert_acknowledged' },
          { user_id: viewer.id, channel: 'email', event: 'alert_acknowledged' },
        ],
        'a notice per member, with the change',
      );

      t.equal(await answer('cancel', 'second@ares.test', T0 + 3), true, 'an acknowledged alert can be cancelled');
      t.match(await findAlert(db, hub.id, 'f1'), { status: 'cancelled', cancelled_by: 'second@ares.test' });
      t.equal(await answer('cancel', 'third@ares.test', T0 + 4), false, 'cancelled already');
      t.equal(await answer('ack', 'third@ares.test', T0 + 5), false, 'a cancelled alert is not acknowledged');
      t.equal((await notices(db, 'f1')).length, 4, 'no notices for answers that changed nothing');
      t.equal(
        await answerAlert(db, { deviceId: hub.id, alertId: 'missing', action: 'ack', by: 'x' }, T0, async () =>
          t.fail('nothing to tell'),
        ),
        false,
        'no such alert',
      );
    });

    t.test('answer: a change whose notices cannot be queued is not stored', async (t) => {
      const hub = await addDevice(db);
      await openAlert(db.kysely, alert(hub.id, 'f2', T0, 1));
      await t.rejects(
        answerAlert(db, { deviceId: hub.id, alertId: 'f2', action: 'ack', by: 'a@ares.test' }, T0 + 1, async () => {
          throw new Error('queue broke');
        }),
        /queue broke/,
      );
      t.match(await findAlert(db, hub.id, 'f2'), { status: 'open', acknowledged_by: null });
    });

    t.test('recordAlerts: opens from alert records, idempotently; cancels and resolves by id', async (t) => {
      const hub = await addDevice(db);
      const device = { id: hub.id, uuid: hub.uuid };
      const batch = [
        record(1, { type: 'alert', metric: 'fall_detected', data: { alert_id: 'fall-1', prob: 0.9, by: 'model' } }),
        record(2, { type: 'alert', metric: 'detection_down', data: { reason: 'node silent' } }),
        record(3, { type: 'reading', lane: 'telemetry', metric: 'temp', value: 20 }),
      ];
      t.strictSame(await recordAlerts(db.kysely, device, batch, T0), [
        { deviceId: hub.id, alertId: 'fall-1', event: 'fall_alert' },
        { deviceId: hub.id, alertId: `${hub.uuid}:2`, event: 'detection_down' },
      ]);
      t.strictSame(await recordAlerts(db.kysely, device, batch, T0), [], 'a re-sent batch changes nothing');
      t.match(await findAlert(db, hub.id, 'fall-1'), { type: 'fall', prob: 0.9, status: 'open' });

      const later = [
        record(4, { metric: 'fall_cancelled', data: { alert_id: 'fall-1' } }),
        record(5, { metric: 'detection_restored', data: { alert_id: `${hub.uuid}:2` } }),
        record(6, { metric: 'fall_cancelled', data: { alert_id: `${hub.uuid}:2` } }),
      ];
      t.strictSame(await recordAlerts(db.kysely, device, later, T0), [
        { deviceId: hub.id, alertId: 'fall-1', event: 'alert_cancelled', by: 'the hub button' },
        { deviceId: hub.id, alertId: `${hub.uuid}:2`, event: 'detection_restored' },
      ]);
      t.match(await findAlert(db, hub.id, 'fall-1'), { status: 'cancelled', cancelled_by: 'hub button' });
      t.match(await findAlert(db, hub.id, `${hub.uuid}:2`), { status: 'resolved' });
    });

    t.test('storeAlertRecords: the alert and its notices together, or neither', async (t) => {
      const owner = await addUser(db, 'owner');
      const hub = await addDevice(db);
      await addMember(db, owner.id, hub.id, 'owner');
      const device = { id: hub.id, uuid: hub.uuid };
      const fall = [record(1, { type: 'alert', metric: 'fall_detected', data: { alert_id: 'sa-1', prob: 0.8 } })];
      await t.rejects(
        storeAlertRecords(db, device, fall, T0, async () => {
          throw new Error('queue broke');
        }),
        /queue broke/,
      );
      t.equal(await findAlert(db, hub.id, 'sa-1'), undefined, 'no alert without its notices');
      const changes = await storeAlertRecords(db, device, fall, T0, (trx, c) => queueAlertNotifications(trx, c, T0));
      t.strictSame(changes, [{ deviceId: hub.id, alertId: 'sa-1', event: 'fall_alert' }]);
      t.match(await findAlert(db, hub.id, 'sa-1'), { status: 'open' });
      t.match(await notices(db, 'sa-1'), [{ user_id: owner.id, channel: 'email', event: 'fall_alert' }]);
    });
  });
}
