import t from 'tap';
import type { SyncRecord } from '../../sync/records.js';
import { dbTargets } from '../helpers/databases.js';
import { json, newUser, provisionedHub, signedInject, startTestCentral } from '../helpers/central.js';

const BOOT = '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9';
const ALERT = '3f1e2d3c-4b5a-4697-8877-665544332211';

for (const target of await dbTargets())
  t.test(`alerts from sync, and their routes (${target.name})`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const c = await startTestCentral(t, target);
    const owner = await newUser(c.app, 'owner');
    const viewer = await newUser(c.app, 'viewer');
    const stranger = await newUser(c.app, 'stranger');
    const dev = await provisionedHub(c, owner.auth);
    const other = await provisionedHub(c, owner.auth);
    t.equal(
      (
        await c.app.inject({
          method: 'POST',
          url: `/api/devices/${dev.deviceId}/members`,
          headers: owner.auth,
          payload: { email: viewer.email, role: 'viewer' },
        })
      ).statusCode,
      201,
    );
    const ts = Date.UTC(2026, 10, 24, 3);
    const rec = (seq: number, extra: Partial<SyncRecord>): SyncRecord => ({
      seq,
      lane: 'alert',
      type: 'alert',
      ts: ts + seq,
      mono_ms: seq,
      clock_synced: true,
      component_type: 'imu',
      component_id: '5',
      ...extra,
    });
    const sync = async (hub: typeof dev, records: SyncRecord[]) => {
      const res = await signedInject(c, hub.hub, {
        method: 'POST',
        url: '/api/sync/batches',
        body: Buffer.from(JSON.stringify({ device_uuid: hub.uuid, boot_id: BOOT, records })),
        secret: hub.secret,
      });
      t.equal(res.statusCode, 200, res.body);
    };
    const list = async (auth = owner.auth, device = dev.deviceId, query = '') =>
      c.app.inject({ method: 'GET', url: `/api/devices/${device}/alerts${query}`, headers: auth });
    const act = (action: 'ack' | 'cancel', auth: Record<string, string>, id = ALERT, device = dev.deviceId) =>
      c.app.inject({ method: 'POST', url: `/api/devices/${device}/alerts/${id}/${action}`, headers: auth });

    const fall = rec(1, { metric: 'fall_detected', data: { alert_id: ALERT, node_id: 'pendant', prob: 0.97 } });
    const radar = rec(2, { metric: 'radar_fall_state', component_type: 'radar', data: { node_id: 'radar1' } });
    await sync(dev, [fall, radar]);
    await sync(dev, [fall, radar]); // re-sent: nothing new

    t.test('a synced fall becomes one open alert; a sensor flag without an id gets one', async (t) => {
      const res = await list();
      t.equal(res.statusCode, 200);
      const alerts = json<Record<string, unknown>[]>(res) as unknown as Record<string, unknown>[];
      t.equal(alerts.length, 2, 'once each');
      t.match(alerts[1], {
        id: ALERT,
        type: 'fall',
        status: 'open',
        node_id: 'pendant',
        prob: 0.97,
        ts: new Date(ts + 1).toISOString(),
        acknowledged_by: null,
      });
      t.match(alerts[0], { id: `${dev.uuid}:2`, type: 'fall_sensor', node_id: 'radar1', prob: null });
      t.same(json<unknown[]>(await list(viewer.auth, dev.deviceId, '?status=cancelled')), [], 'filtered by status');
    });

    t.test('only owners and viewers see or act on them', async (t) => {
      t.equal((await list(stranger.auth)).statusCode, 403);
      t.equal((await act('ack', stranger.auth)).statusCode, 403);
      t.equal((await act('ack', owner.auth, 'no-such-alert')).statusCode, 404);
      t.equal((await act('ack', owner.auth, ALERT, other.deviceId)).statusCode, 404, 'the id is per hub');
      t.equal((await act('ack', owner.auth, 'bad%20id')).statusCode, 400, 'an id outside the pattern');
    });

    t.test('ack by a viewer, then cancel; a cancelled alert cannot be acknowledged', async (t) => {
      const ack = await act('ack', viewer.auth);
      t.equal(ack.statusCode, 200);
      t.match(json(ack), { status: 'acknowledged', acknowledged_by: viewer.email });
      t.match(
        json(await act('ack', owner.auth)),
        { acknowledged_by: viewer.email },
        'acknowledging again keeps the first',
      );
      const cancel = await act('cancel', owner.auth);
      t.match(json(cancel), { status: 'cancelled', cancelled_by: owner.email, acknowledged_by: viewer.email });
      const late = await act('ack', owner.auth);
      t.equal(late.statusCode, 409);
      t.equal(json<{ error: { code: string } }>(late).error.code, 'conflict');
    });

    t.test('the hub’s "I’m OK" button cancels through sync', async (t) => {
      const id = '9a8b7c6d-5e4f-4321-8765-0123456789ab';
      await sync(dev, [
        rec(10, { metric: 'fall_detected', data: { alert_id: id, node_id: 'pendant', prob: 0.99 } }),
        rec(11, { type: 'event', metric: 'fall_cancelled', data: { alert_id: id, by: 'button', after_s: 12 } }),
      ]);
      const a = json<{ id: string; status: string; cancelled_by: string }[]>(await list()).find((x) => x.id === id);
      t.match(a, { status: 'cancelled', cancelled_by: 'hub button' });
      // Suppressed duplicates: a running total, the largest kept whatever the order.
      await sync(dev, [
        rec(12, { type: 'event', metric: 'fall_duplicates', data: { alert_id: id, duplicates: 7 } }),
        rec(13, { type: 'event', metric: 'fall_duplicates', data: { alert_id: id, duplicates: 3 } }),
        rec(14, { type: 'event', metric: 'fall_duplicates', data: { alert_id: id, duplicates: 'lots' } }),
      ]);
      t.match(
        json<{ id: string }[]>(await list()).find((x) => x.id === id),
        { duplicates: 7 },
      );
      // Another hub naming this alert id changes nothing here.
      await sync(other, [rec(3, { type: 'event', metric: 'fall_cancelled', data: { alert_id: ALERT } })]);
      t.equal(json<unknown[]>(await list(owner.auth, other.deviceId)).length, 0);
    });
  });
