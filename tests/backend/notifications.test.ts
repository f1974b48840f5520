import t, { type Test } from 'tap';
import { NotificationWorker } from '../../backend/notify/worker.js';
import type { SyncRecord } from '../../sync/records.js';
import { dbTargets } from '../helpers/databases.js';
import { json, newUser, provisionedHub, signedInject, startTestCentral, type TestCentral } from '../helpers/central.js';
import { verifyDelivery, webhookReceiver } from '../helpers/webhook-receiver.js';
import { until } from '../helpers/wait.js';

const BOOT = '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9';
const ESCALATE_S = 120;

async function setup(t: Test, target: Awaited<ReturnType<typeof dbTargets>>[number]) {
  const c = await startTestCentral(t, target, {
    'central.webhook_allow_private': true,
    'central.alert_escalation_s': ESCALATE_S,
    'central.alert_escalation_max': 2,
    'central.webhook_max_attempts': 3,
    'central.webhook_retry_s': 5,
    'central.hub_offline_alert_s': 300,
  });
  const owner = await newUser(c.app, 'owner');
  const viewer = await newUser(c.app, 'viewer');
  const dev = await provisionedHub(c, owner.auth);
  const share = await c.app.inject({
    method: 'POST',
    url: `/api/devices/${dev.deviceId}/members`,
    headers: owner.auth,
    payload: { email: viewer.email, role: 'viewer' },
  });
  t.equal(share.statusCode, 201);
  const worker = new NotificationWorker(c.ctx);
  let seq = 0;
  const sync = async (records: Partial<SyncRecord>[]) => {
    const full = records.map((r) => ({
      seq: ++seq,
      lane: 'alert',
      type: 'alert',
      ts: c.clock.now(),
      mono_ms: seq,
      clock_synced: true,
      component_type: 'imu',
      component_id: '5',
      ...r,
    }));
    const res = await signedInject(c, dev.hub, {
      method: 'POST',
      url: '/api/sync/batches',
      body: Buffer.from(JSON.stringify({ device_uuid: dev.uuid, boot_id: BOOT, records: full })),
      secret: dev.secret,
    });
    t.equal(res.statusCode, 200, res.body);
  };
  const hook = async (auth: Record<string, string>, url: string, events: string[]) => {
    const res = await c.app.inject({
      method: 'POST',
      url: '/api/users/me/webhooks',
      headers: auth,
      payload: { url, events },
    });
    t.equal(res.statusCode, 201, res.body);
    return json<{ id: number; secret: string }>(res);
  };
  // On PostgreSQL the subtests share one schema: only this hub's notifications and its members' mail count.
  const queued = (where: Record<string, unknown> = {}) =>
    c.ctx.db.kysely
      .selectFrom('notifications')
      .selectAll()
      .where('device_id', '=', dev.deviceId)
      .orderBy('id')
      .execute()
      .then((rows) =>
        rows.filter((r) => Object.entries(where).every(([k, v]) => (r as Record<string, unknown>)[k] === v)),
      );
  const mails = () => c.mails.filter((m) => m.to === owner.email || m.to === viewer.email);
  return { c, owner, viewer, dev, worker, sync, hook, queued, mails };
}

const advance = (c: TestCentral, s: number) => c.clock.advance(s * 1000);

for (const target of await dbTargets())
  t.test(`alert notifications (${target.name})`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());

    t.test('stopping central mid-delivery: the POST is cut short, nothing counted or lost', async (t) => {
      const s = await setup(t, target);
      // A receiver that reads the delivery and never answers (the default timeout is far off).
      const held = new Set<import('node:http').ServerResponse>();
      const { createServer } = await import('node:http');
      const slow = createServer((_req, res) => void held.add(res));
      await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
      t.teardown(() => {
        for (const res of held) res.destroy();
        return new Promise<void>((r) => slow.close(() => r()));
      });
      const url = `http://127.0.0.1:${(slow.address() as { port: number }).port}/hook`;
      await s.hook(s.owner.auth, url, ['fall_alert']);
      await s.sync([{ metric: 'fall_detected', data: { alert_id: 'fall-stop', node_id: 'pendant', prob: 0.9 } }]);
      s.worker.start();
      await until('the delivery under way', () => held.size > 0, 10_000);
      let stopped = false;
      const stopping = s.worker.stop().then(() => (stopped = true));
      await until('the worker stopped without waiting for the receiver', () => stopped, 5000);
      await stopping;
      const [row] = await s.queued({ channel: 'webhook' });
      t.match(row, { status: 'pending', attempts: 0, lease_until: null }, 'handed back, not counted as an attempt');
      t.ok(Number(row!.next_attempt_at) <= s.c.clock.now(), 'due at once for the next instance or run');
      // On PostgreSQL the subtests share one schema: nothing of this one is left for the next worker's pass.
      await s.c.ctx.db.kysely
        .updateTable('notifications')
        .set({ status: 'skipped' })
        .where('device_id', '=', s.dev.deviceId)
        .execute();
    });

    t.test('a fall reaches every member by mail and their webhooks, signed; ack and cancel are told too', async (t) => {
      const s = await setup(t, target);
      const rx = await webhookReceiver();
      t.teardown(rx.close);
      const ownerHook = await s.hook(s.owner.auth, `${rx.url}/ares?src=test`, ['fall_alert', 'alert_acknowledged']);
      const viewerHook = await s.hook(s.viewer.auth, `${rx.url}/viewer`, ['detection_down']);
      await s.sync([{ metric: 'fall_detected', data: { alert_id: 'fall-1', node_id: 'pendant', prob: 0.97 } }]);
      await s.sync([{ metric: 'fall_detected', data: { alert_id: 'fall-1', node_id: 'pendant', prob: 0.97 } }]);
      t.equal((await s.queued()).length, 3, 'two mails and the owner’s webhook, once (the re-sent record adds none)');
      const pass = await s.worker.runOnce();
      t.match(pass, { delivered: 3, retried: 0, failed: 0 });
      t.equal(rx.received.length, 1, 'the viewer’s webhook did not ask for falls');
      const r = rx.received[0]!;
      t.equal(r.path, '/ares?src=test');
      t.ok(verifyDelivery(ownerHook.secret, r), 'signed with the webhook’s secret over path, time and body');
      t.notOk(verifyDelivery(viewerHook.secret, r), 'not verifiable with another secret');
      t.equal(r.headers['x-ares-event'], 'fall_alert');
      t.match(r.json, {
        event: 'fall_alert',
        device: { id: s.dev.deviceId, device_uuid: s.dev.uuid },
        alert: { id: 'fall-1', type: 'fall', status: 'open', node_id: 'pendant', prob: 0.97, escalation: 0 },
      });
      t.same(
        s
          .mails()
          .map((m) => m.to)
          .sort(),
        [s.owner.email, s.viewer.email].sort(),
        'a mail to each member',
      );
      t.match(s.mails()[0]!.subject, /Possible fall/);

      const deliveries = await s.c.app.inject({
        method: 'GET',
        url: `/api/users/me/webhooks/${ownerHook.id}/deliveries`,
        headers: s.owner.auth,
      });
      t.match(json<unknown[]>(deliveries), [
        { event: 'fall_alert', alert_id: 'fall-1', status: 'delivered', attempts: [{ ok: true, http_status: 200 }] },
      ]);
      t.equal(
        (
          await s.c.app.inject({
            method: 'GET',
            url: `/api/users/me/webhooks/${ownerHook.id}/deliveries`,
            headers: s.viewer.auth,
          })
        ).statusCode,
        404,
        'another user’s webhook is not found',
      );

      const ack = await s.c.app.inject({
        method: 'POST',
        url: `/api/devices/${s.dev.deviceId}/alerts/fall-1/ack`,
        headers: s.viewer.auth,
      });
      t.equal(ack.statusCode, 200);
      await s.worker.runOnce();
      t.match(rx.received[1]?.json, { event: 'alert_acknowledged', by: s.viewer.email });
      t.match(s.mails().at(-1), { subject: new RegExp(`taken by ${s.viewer.email}`) });

      const cancel = await s.c.app.inject({
        method: 'POST',
        url: `/api/devices/${s.dev.deviceId}/alerts/fall-1/cancel`,
        headers: s.owner.auth,
      });
      t.equal(cancel.statusCode, 200);
      const cmd = await s.c.ctx.db.kysely
        .selectFrom('device_commands')
        .selectAll()
        .where('device_id', '=', s.dev.deviceId)
        .where('action', '=', 'cancel_alert')
        .executeTakeFirst();
      t.ok(cmd, 'the hub is told, to silence its alarm');
      t.match(JSON.parse(cmd!.payload), { value: { alert_id: 'fall-1', by: s.owner.email } });
      t.equal(cmd!.component_id, 'system');
      t.equal((await s.queued({ event: 'alert_cancelled' })).length, 2, 'both members are told of the cancel by mail');
    });

    t.test('a failed delivery is retried with backoff, then given up; a refusal is not retried', async (t) => {
      const s = await setup(t, target);
      const rx = await webhookReceiver([500, 503, 500]);
      t.teardown(rx.close);
      await s.hook(s.owner.auth, rx.url, ['fall_alert']);
      await s.sync([{ metric: 'fall_detected', data: { alert_id: 'fall-2' } }]);
      await s.worker.runOnce();
      let [n] = await s.queued({ channel: 'webhook' });
      t.match(n, { status: 'pending', attempts: 1, last_error: 'HTTP 500' });
      const delay = Number(n!.next_attempt_at) - s.c.clock.now();
      t.ok(delay >= 4000 && delay <= 6000, `first retry after about 5 s (${delay} ms)`);
      await s.worker.runOnce();
      t.equal(rx.received.length, 1, 'not before it is due');
      advance(s.c, 6);
      await s.worker.runOnce();
      [n] = await s.queued({ channel: 'webhook' });
      t.match(n, { status: 'pending', attempts: 2 });
      const delay2 = Number(n!.next_attempt_at) - s.c.clock.now();
      t.ok(delay2 >= 8000 && delay2 <= 12000, `then about 10 s (${delay2} ms)`);
      advance(s.c, 13);
      await s.worker.runOnce();
      [n] = await s.queued({ channel: 'webhook' });
      t.match(n, { status: 'failed', attempts: 3 }, 'central.webhook_max_attempts reached');
      t.equal(
        new Set(rx.received.map((r) => r.headers['x-ares-delivery'])).size,
        1,
        'one delivery id across retries: receivers deduplicate by it',
      );
      const attempts = await s.c.ctx.db.kysely
        .selectFrom('notification_attempts')
        .selectAll()
        .where('notification_id', '=', n!.id)
        .execute();
      t.same(
        attempts.map((a) => a.http_status),
        [500, 503, 500],
        'every attempt recorded',
      );

      const refusing = await webhookReceiver([410]);
      t.teardown(refusing.close);
      await s.hook(s.viewer.auth, refusing.url, ['fall_alert']);
      await s.sync([{ metric: 'fall_detected', data: { alert_id: 'fall-3' } }]);
      await s.worker.runOnce();
      const [gone] = (await s.queued({ channel: 'webhook', alert_id: 'fall-3' })).filter(
        (x) => x.user_id === s.viewer.id,
      );
      t.match(gone, { status: 'failed', attempts: 1, last_error: 'HTTP 410' }, 'a 4xx is the receiver’s answer');
    });

    t.test('an alert nobody acknowledges is sent again to every member, until someone takes it', async (t) => {
      const s = await setup(t, target);
      const rx = await webhookReceiver();
      t.teardown(rx.close);
      await s.hook(s.viewer.auth, rx.url, ['fall_alert']);
      await s.sync([{ metric: 'fall_detected', data: { alert_id: 'fall-4', prob: 0.95 } }]);
      await s.worker.runOnce();
      t.equal(rx.received.length, 1);
      advance(s.c, ESCALATE_S - 5);
      await s.worker.runOnce();
      t.equal(rx.received.length, 1, 'not before central.alert_escalation_s');
      advance(s.c, 6);
      await s.worker.runOnce();
      t.equal(rx.received.length, 2);
      t.match(rx.received[1]!.json, { event: 'fall_alert', alert: { id: 'fall-4', escalation: 1 } });
      t.equal(s.mails().filter((m) => /STILL UNANSWERED/.test(m.subject)).length, 2, 'every member again');
      const listed = json<{ escalations: number }[]>(
        await s.c.app.inject({ method: 'GET', url: `/api/devices/${s.dev.deviceId}/alerts`, headers: s.owner.auth }),
      );
      t.equal(listed[0]!.escalations, 1);
      // A second worker (another instance) escalating at the same moment adds nothing.
      await Promise.all([s.worker.runOnce(), new NotificationWorker(s.c.ctx).runOnce()]);
      t.equal(rx.received.length, 2, 'one escalation per round across instances');

      // The next round is queued, but someone takes the alert before it goes out: it is skipped.
      advance(s.c, ESCALATE_S + 1);
      const { escalateUnanswered } = await import('../../backend/notify/escalation.js');
      t.ok((await escalateUnanswered(s.c.ctx)).has(s.dev.deviceId), 'the next round is queued');
      await s.c.app.inject({
        method: 'POST',
        url: `/api/devices/${s.dev.deviceId}/alerts/fall-4/ack`,
        headers: s.owner.auth,
      });
      await s.worker.runOnce();
      t.notOk(
        rx.received.some((r) => (r.json['alert'] as { escalation: number }).escalation === 2),
        'the reminder is not sent',
      );
      t.ok((await s.queued({ status: 'skipped' })).length > 0, 'and recorded as skipped');
      advance(s.c, ESCALATE_S * 5);
      await s.worker.runOnce();
      t.equal((await s.queued({ event: 'fall_alert' })).filter((n) => n.status === 'pending').length, 0);
    });

    t.test('detection down on the hub, and back, reach the members', async (t) => {
      const s = await setup(t, target);
      const rx = await webhookReceiver();
      t.teardown(rx.close);
      await s.hook(s.owner.auth, rx.url, ['detection_down', 'detection_restored']);
      await s.sync([
        {
          metric: 'detection_down',
          component_type: 'imu',
          data: { alert_id: 'down-pendant-1', node_id: 'pendant', reason: 'node pendant silent for 60 s' },
        },
      ]);
      await s.worker.runOnce();
      t.match(rx.received[0]?.json, {
        event: 'detection_down',
        alert: { id: 'down-pendant-1', type: 'detection_down', reason: 'node pendant silent for 60 s' },
      });
      t.match(s.mails()[0]!.subject, /NOT running/);
      advance(s.c, ESCALATE_S * 2);
      await s.worker.runOnce();
      t.equal(rx.received.length, 1, 'detection-down alerts are not escalated');
      await s.sync([{ type: 'event', metric: 'detection_restored', data: { alert_id: 'down-pendant-1' } }]);
      await s.worker.runOnce();
      t.match(rx.received[1]?.json, { event: 'detection_restored', alert: { status: 'resolved' } });
      // A fall alert cannot be "resolved" by a restored record.
      await s.sync([{ metric: 'fall_detected', data: { alert_id: 'fall-5' } }]);
      await s.sync([{ type: 'event', metric: 'detection_restored', data: { alert_id: 'fall-5' } }]);
      const a = json<{ id: string; status: string }[]>(
        await s.c.app.inject({ method: 'GET', url: `/api/devices/${s.dev.deviceId}/alerts`, headers: s.owner.auth }),
      ).find((x) => x.id === 'fall-5');
      t.equal(a?.status, 'open');
    });

    t.test('a hub with fall detection that goes quiet is a detection-down alert; heard again, resolved', async (t) => {
      const s = await setup(t, target);
      const quiet = await provisionedHub(s.c, s.owner.auth);
      const attach = await s.c.app.inject({
        method: 'POST',
        url: `/api/components/devices/${s.dev.deviceId}/components`,
        headers: s.owner.auth,
        payload: { component_type: 'imu', name: 'pendant', config: { node_id: 'pendant' } },
      });
      t.equal(attach.statusCode, 201, attach.body);
      await s.sync([{ lane: 'telemetry', type: 'reading', metric: 'x', value: 1 }]); // last_seen_at now
      const poll = await signedInject(s.c, quiet.hub, {
        method: 'GET',
        url: `/api/components/devices/${quiet.deviceId}/components`,
        secret: quiet.secret,
      });
      t.equal(poll.statusCode, 200);
      advance(s.c, 299);
      await s.worker.runOnce();
      t.equal((await s.queued()).length, 0, 'not before central.hub_offline_alert_s');
      advance(s.c, 2);
      await s.worker.runOnce();
      const alerts = json<{ id: string; type: string; status: string; reason: string }[]>(
        await s.c.app.inject({ method: 'GET', url: `/api/devices/${s.dev.deviceId}/alerts`, headers: s.owner.auth }),
      );
      t.match(alerts, [{ type: 'hub_offline', status: 'open', reason: /has not heard from the hub/ }]);
      t.equal((await s.queued({ event: 'detection_down' })).length, 2, 'both members told');
      t.same(
        json<unknown[]>(
          await s.c.app.inject({ method: 'GET', url: `/api/devices/${quiet.deviceId}/alerts`, headers: s.owner.auth }),
        ),
        [],
        'a quiet hub without fall detection raises nothing',
      );
      advance(s.c, 600);
      await s.worker.runOnce();
      t.equal((await s.queued({ event: 'detection_down' })).length, 2, 'one alert per silence');
      await s.sync([{ lane: 'telemetry', type: 'reading', metric: 'x', value: 2 }]);
      await s.worker.runOnce();
      const after = json<{ status: string }[]>(
        await s.c.app.inject({ method: 'GET', url: `/api/devices/${s.dev.deviceId}/alerts`, headers: s.owner.auth }),
      );
      t.equal(after[0]!.status, 'resolved');
      t.equal((await s.queued({ event: 'detection_restored' })).length, 2);
      t.match(s.mails().at(-1), { subject: /running again/ });
    });
  });
