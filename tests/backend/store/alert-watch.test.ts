import t from 'tap';
import type { CentralDb } from '../../../backend/db/connect.js';
import type { DeviceAlertsTable } from '../../../backend/db/types.js';
import {
  alertRow,
  alertStatus,
  claimEscalationRound,
  hubOfflineAlertsHeardFrom,
  openAlertsOfDevice,
  openHubOfflineAlert,
  resolveUnansweredAlert,
  silentFallDetectingHubs,
  unansweredFallAlerts,
} from '../../../backend/store/alert-watch.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, migratedDb } from '../../helpers/store-db.js';

const NOW = 1_800_000_000_000;

interface AlertSeed {
  id: string;
  type?: string;
  status?: DeviceAlertsTable['status'];
  ts?: number;
  created_at?: number;
  escalations?: number;
  escalated_at?: number | null;
}

async function addAlert(db: CentralDb, deviceId: number, a: AlertSeed): Promise<void> {
  await db.kysely
    .insertInto('device_alerts')
    .values({
      id: a.id,
      device_id: deviceId,
      type: a.type ?? 'fall',
      status: a.status ?? 'open',
      ts: a.ts ?? NOW - 60_000,
      seq: 1,
      node_id: 'pendant',
      component_id: '5',
      prob: 0.9,
      acknowledged_by: null,
      acknowledged_at: null,
      cancelled_by: null,
      cancelled_at: null,
      created_at: a.created_at ?? NOW - 60_000,
      escalations: a.escalations ?? 0,
      escalated_at: a.escalated_at ?? null,
      resolved_at: null,
      reason: null,
      duplicates: 2,
    })
    .execute();
}

async function attach(db: CentralDb, deviceId: number, componentType: string): Promise<void> {
  await db.kysely
    .insertInto('attached_components')
    .values({
      device_id: deviceId,
      component_type: componentType,
      name: null,
      pin_number: null,
      pin_mode: null,
      default_state: null,
      config: null,
      created_at: 0,
    })
    .execute();
}

const lastSeen = (db: CentralDb, deviceId: number, at: number | null) =>
  db.kysely.updateTable('devices').set({ last_seen_at: at }).where('id', '=', deviceId).execute();

/** An `alsoInTransaction` that writes a marker row (a notification) and counts its calls. */
function marker(db: CentralDb) {
  const calls: string[] = [];
  let failWith: Error | undefined;
  const step = (name: string) => async (trx: CentralDb['kysely']) => {
    calls.push(name);
    await trx
      .updateTable('device_alerts')
      .set({ reason: `marked by ${name}` })
      .where('id', '=', name)
      .execute();
    if (failWith) throw failWith;
  };
  const reason = async (deviceId: number, id: string) =>
    (
      await db.kysely
        .selectFrom('device_alerts')
        .select('reason')
        .where('device_id', '=', deviceId)
        .where('id', '=', id)
        .executeTakeFirst()
    )?.reason;
  return { calls, step, reason, fail: (err: Error | undefined) => (failWith = err) };
}

for (const target of await dbTargets())
  t.test(`store/alert-watch on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());

    t.test('alertRow, alertStatus, openAlertsOfDevice', async (t) => {
      const db = await migratedDb(t, target);
      const hub = await addDevice(db);
      const other = await addDevice(db);
      await addAlert(db, hub.id, { id: 'old', ts: NOW - 3_000 });
      await addAlert(db, hub.id, { id: 'taken', ts: NOW - 1_000, status: 'acknowledged', escalations: 1 });
      await addAlert(db, hub.id, { id: 'newest', ts: NOW });
      await addAlert(db, hub.id, { id: 'over', ts: NOW + 1, status: 'cancelled' });
      await addAlert(db, hub.id, { id: 'fixed', ts: NOW + 2, type: 'detection_down', status: 'resolved' });
      await addAlert(db, other.id, { id: 'theirs', ts: NOW + 3 });

      t.same(await alertRow(db.kysely, hub.id, 'taken'), {
        id: 'taken',
        device_id: hub.id,
        type: 'fall',
        status: 'acknowledged',
        ts: NOW - 1_000,
        node_id: 'pendant',
        component_id: '5',
        prob: 0.9,
        acknowledged_by: null,
        cancelled_by: null,
        reason: null,
        escalations: 1,
        duplicates: 2,
      });
      t.equal(await alertRow(db.kysely, other.id, 'taken'), undefined, 'an alert id is per device');
      t.equal(await alertStatus(db, hub.id, 'over'), 'cancelled');
      t.equal(await alertStatus(db, hub.id, 'nope'), undefined);

      t.same(
        (await openAlertsOfDevice(db, hub.uuid, 20)).map((a) => a.id),
        ['newest', 'taken', 'old'],
        'open and acknowledged, newest first, of this device only',
      );
      t.same(
        (await openAlertsOfDevice(db, hub.uuid, 2)).map((a) => [a.id, a.ts, a.escalations]),
        [
          ['newest', NOW, 0],
          ['taken', NOW - 1_000, 1],
        ],
        'at most the limit, numbers as numbers',
      );
    });

    t.test('unansweredFallAlerts: open falls whose last notice is due, under the round limit', async (t) => {
      const db = await migratedDb(t, target);
      const hub = await addDevice(db);
      const due = NOW - 120_000;
      await addAlert(db, hub.id, { id: 'never-escalated', created_at: due });
      await addAlert(db, hub.id, { id: 'too-fresh', created_at: due + 1 });
      await addAlert(db, hub.id, { id: 'sensor', type: 'fall_sensor', created_at: due - 1 });
      await addAlert(db, hub.id, { id: 'round-due', created_at: 0, escalations: 1, escalated_at: due });
      await addAlert(db, hub.id, { id: 'round-fresh', created_at: 0, escalations: 1, escalated_at: due + 1 });
      await addAlert(db, hub.id, { id: 'rounds-done', created_at: 0, escalations: 2, escalated_at: 0 });
      await addAlert(db, hub.id, { id: 'taken', created_at: 0, status: 'acknowledged' });
      await addAlert(db, hub.id, { id: 'not-a-fall', type: 'detection_down', created_at: 0 });

      const got = await unansweredFallAlerts(db, { dueBefore: due, maxRounds: 2, limit: 500 });
      t.same(got.map((a) => [a.id, a.escalations]).sort(), [
        ['never-escalated', 0],
        ['round-due', 1],
        ['sensor', 0],
      ]);
      t.ok(
        got.every((a) => a.device_id === hub.id),
        'keyed by device and id',
      );
      t.equal((await unansweredFallAlerts(db, { dueBefore: due, maxRounds: 2, limit: 2 })).length, 2, 'the limit');
      t.same(
        (await unansweredFallAlerts(db, { dueBefore: due, maxRounds: 1, limit: 500 })).map((a) => a.id).sort(),
        ['never-escalated', 'sensor'],
        'an alert escalated maxRounds times is done',
      );
    });

    t.test('claimEscalationRound: once per round across instances, with its notices or not at all', async (t) => {
      const db = await migratedDb(t, target);
      const hub = await addDevice(db);
      const m = marker(db);
      await addAlert(db, hub.id, { id: 'fall-1' });
      const key = { device_id: hub.id, id: 'fall-1' };

      const both = await Promise.all([
        claimEscalationRound(db, key, 1, NOW, m.step('fall-1')),
        claimEscalationRound(db, key, 1, NOW, m.step('fall-1')),
      ]);
      t.same(both.sort(), [false, true], 'one instance claims the round');
      t.equal(m.calls.length, 1, 'and only it queues the notices');
      t.match(await alertRow(db.kysely, hub.id, 'fall-1'), { escalations: 1, reason: 'marked by fall-1' });
      t.equal(await claimEscalationRound(db, key, 1, NOW, m.step('fall-1')), false, 'a round is claimed once');

      m.fail(new Error('queueing failed'));
      await t.rejects(claimEscalationRound(db, key, 2, NOW + 1, m.step('fall-1')), /queueing failed/);
      m.fail(undefined);
      t.match(
        await db.kysely
          .selectFrom('device_alerts')
          .select(['escalations'])
          .where('id', '=', 'fall-1')
          .executeTakeFirst(),
        { escalations: 1 },
        'a round whose notices could not be queued is not claimed',
      );
      t.equal(await claimEscalationRound(db, key, 2, NOW + 1, m.step('fall-1')), true, 'so it is tried again');
      t.equal(
        Number(
          (
            await db.kysely
              .selectFrom('device_alerts')
              .select('escalated_at')
              .where('id', '=', 'fall-1')
              .executeTakeFirst()
          )?.escalated_at,
        ),
        NOW + 1,
      );

      await db.kysely.updateTable('device_alerts').set({ status: 'acknowledged' }).where('id', '=', 'fall-1').execute();
      t.equal(await claimEscalationRound(db, key, 3, NOW + 2, m.step('fall-1')), false, 'an answered alert is left');
    });

    t.test('silentFallDetectingHubs: quiet provisioned hubs with fall detection, not yet alerted', async (t) => {
      const db = await migratedDb(t, target);
      const since = NOW - 300_000;
      const hub = async (o: { seen: number | null; types: string[]; status?: 'registered' }) => {
        const d = await addDevice(db, o.status ? { status: o.status } : {});
        await lastSeen(db, d.id, o.seen);
        for (const type of o.types) await attach(db, d.id, type);
        return d.id;
      };
      const quietImu = await hub({ seen: since - 1, types: ['relay', 'imu'] });
      const quietRadar = await hub({ seen: since - 5, types: ['radar'] });
      await hub({ seen: since, types: ['imu'] }); // not quiet long enough
      await hub({ seen: since - 1, types: ['relay'] }); // no fall detection to lose
      await hub({ seen: since - 1, types: ['imu'], status: 'registered' }); // not provisioned
      await hub({ seen: null, types: ['imu'] }); // never heard from
      const alerted = await hub({ seen: since - 1, types: ['imu'] });
      await addAlert(db, alerted, { id: 'offline:1', type: 'hub_offline', status: 'acknowledged' });
      const alertedBefore = await hub({ seen: since - 1, types: ['imu'] });
      await addAlert(db, alertedBefore, { id: 'offline:0', type: 'hub_offline', status: 'resolved' });

      const got = await silentFallDetectingHubs(db, since, 500);
      t.same(
        got.sort((a, b) => a.id - b.id),
        [
          { id: quietImu, lastSeenAt: since - 1 },
          { id: quietRadar, lastSeenAt: since - 5 },
          { id: alertedBefore, lastSeenAt: since - 1 },
        ].sort((a, b) => a.id - b.id),
        'one alert awaiting someone is enough; a resolved one is history',
      );
      t.equal((await silentFallDetectingHubs(db, since, 1)).length, 1, 'the limit');
    });

    t.test('openHubOfflineAlert: opened once, with its notices or not at all', async (t) => {
      const db = await migratedDb(t, target);
      const d = await addDevice(db);
      const m = marker(db);
      const a = { id: 'offline:42', deviceId: d.id, lastSeenAt: 42, now: NOW, reason: 'quiet since 42' };

      m.fail(new Error('queueing failed'));
      await t.rejects(openHubOfflineAlert(db, a, m.step('offline:42')), /queueing failed/);
      m.fail(undefined);
      t.equal(await alertStatus(db, d.id, 'offline:42'), undefined, 'an alert whose notices failed is not opened');

      const both = await Promise.all([
        openHubOfflineAlert(db, a, m.step('offline:42')),
        openHubOfflineAlert(db, a, m.step('offline:42')),
      ]);
      t.same(both.sort(), [false, true], 'two instances open it once');
      t.equal(m.calls.length, 2, 'the failed try, and the one that opened it');
      t.match(await alertRow(db.kysely, d.id, 'offline:42'), {
        type: 'hub_offline',
        status: 'open',
        ts: 42,
        node_id: null,
        component_id: null,
        prob: null,
        reason: 'marked by offline:42',
      });
    });

    t.test('hubOfflineAlertsHeardFrom and resolveUnansweredAlert', async (t) => {
      const db = await migratedDb(t, target);
      const m = marker(db);
      const back = await addDevice(db);
      const stillQuiet = await addDevice(db);
      const backAcked = await addDevice(db);
      await addAlert(db, back.id, { id: 'offline:100', type: 'hub_offline', ts: 100 });
      await addAlert(db, stillQuiet.id, { id: 'offline:200', type: 'hub_offline', ts: 200 });
      await addAlert(db, backAcked.id, { id: 'offline:300', type: 'hub_offline', ts: 300, status: 'acknowledged' });
      await addAlert(db, back.id, { id: 'a-fall', ts: 50 });
      await lastSeen(db, back.id, 101);
      await lastSeen(db, stillQuiet.id, 200);
      await lastSeen(db, backAcked.id, 301);

      const heard = await hubOfflineAlertsHeardFrom(db, 500);
      t.same(
        heard.map((a) => [a.device_id, a.id]).sort(),
        [
          [back.id, 'offline:100'],
          [backAcked.id, 'offline:300'],
        ].sort(),
        'heard from after the silence began; other alert types are not this watch’s',
      );
      t.equal((await hubOfflineAlertsHeardFrom(db, 1)).length, 1, 'the limit');

      const key = { device_id: back.id, id: 'offline:100' };
      const both = await Promise.all([
        resolveUnansweredAlert(db, key, NOW, m.step('offline:100')),
        resolveUnansweredAlert(db, key, NOW, m.step('offline:100')),
      ]);
      t.same(both.sort(), [false, true], 'resolved once');
      t.equal(m.calls.length, 1);
      t.match(await alertRow(db.kysely, back.id, 'offline:100'), {
        status: 'resolved',
        reason: 'marked by offline:100',
      });
      t.equal(
        Number(
          (
            await db.kysely
              .selectFrom('device_alerts')
              .select('resolved_at')
              .where('id', '=', 'offline:100')
              .executeTakeFirst()
          )?.resolved_at,
        ),
        NOW,
      );
      t.same(
        (await hubOfflineAlertsHeardFrom(db, 500)).map((a) => a.id),
        ['offline:300'],
        'a resolved alert is not seen again',
      );

      const ackedKey = { device_id: backAcked.id, id: 'offline:300' };
      m.fail(new Error('queueing failed'));
      await t.rejects(resolveUnansweredAlert(db, ackedKey, NOW, m.step('offline:300')), /queueing failed/);
      m.fail(undefined);
      t.equal(await alertStatus(db, backAcked.id, 'offline:300'), 'acknowledged', 'not resolved without its notices');
      t.equal(await resolveUnansweredAlert(db, ackedKey, NOW, m.step('offline:300')), true, 'an acknowledged one too');

      await db.kysely.updateTable('device_alerts').set({ status: 'cancelled' }).where('id', '=', 'a-fall').execute();
      t.equal(
        await resolveUnansweredAlert(db, { device_id: back.id, id: 'a-fall' }, NOW, m.step('a-fall')),
        false,
        'a cancelled alert stays cancelled',
      );
    });
  });
