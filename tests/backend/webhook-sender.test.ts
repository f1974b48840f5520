import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import t, { type Test } from 'tap';
import { postWebhook, webhookHeaders, webhookSender } from '../../backend/notify/webhook-post.js';
import { NotificationWorker } from '../../backend/notify/worker.js';
import { insertNotifications } from '../../backend/store/notifications.js';
import { startTestCentral } from '../helpers/central.js';
import { addDevice, addUser } from '../helpers/store-db.js';
import { until } from '../helpers/wait.js';

// Webhooks go out over undici (backend/notify/webhook-post.ts): these hold its Agent to what
// node:http gave before — the address check on the address connected to, the stop signal — and to
// what it adds: connections kept alive per worker, closed when the worker stops.

/**
 * A receiver on loopback that counts requests and connections. `hold`: never answer (the response is
 * kept to be destroyed at teardown); `trickle`: answer 200 and never end the body.
 */
async function receiver(t: Test, behaviour: 'answer' | 'hold' | 'trickle' = 'answer') {
  const sockets: Socket[] = [];
  const closed: Socket[] = [];
  const held: ServerResponse[] = [];
  let requests = 0;
  const onRequest: (() => void)[] = [];
  const server = createServer((req, res) => {
    requests++;
    for (const fn of onRequest) fn();
    req.resume();
    req.on('end', () => {
      if (behaviour === 'hold') return void held.push(res);
      if (behaviour === 'trickle') {
        held.push(res);
        res.writeHead(200);
        res.write('x');
        return;
      }
      res.end('ok');
    });
  });
  // Kept well past any test's length: a connection that closes did so because central closed it.
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    sockets.push(s);
    s.on('close', () => closed.push(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (host = '127.0.0.1') => new URL(`http://${host}:${port}/hook`),
    get requests() {
      return requests;
    },
    sockets,
    closed,
    onRequest,
  };
}

const signed = (url: URL) => webhookHeaders(url, '{}', 's', Date.now(), { event: 'fall_alert', delivery: '1' });

t.test('a name that resolves to a private address is refused on connecting (DNS rebinding)', async (t) => {
  const rx = await receiver(t);
  // `localhost` passes the check on the URL (no address literal): only the lookup the Agent hands to
  // net.connect can see where it leads.
  const url = rx.url('localhost');
  t.match(await postWebhook(url, '{}', signed(url), { timeoutMs: 5000, allowPrivate: false }), {
    ok: false,
    permanent: true,
    error: /^localhost resolves to a private address \((127\.0\.0\.1|::1)\)$/,
  });
  t.equal(rx.requests, 0, 'nothing reached the receiver');
  t.equal(rx.sockets.length, 0, 'not even a connection');
  t.match(
    await postWebhook(url, '{}', signed(url), { timeoutMs: 5000, allowPrivate: true }),
    { ok: true, status: 200 },
    'allowed, the same name reaches it',
  );
  t.equal(rx.requests, 1);
});

t.test('a sender keeps its connections to a receiver alive across deliveries; close() ends them', async (t) => {
  const rx = await receiver(t);
  const sender = webhookSender({ timeoutMs: 5000, allowPrivate: true });
  const url = rx.url();
  for (let i = 0; i < 4; i++) t.match(await sender.post(url, '{}', signed(url)), { ok: true, status: 200 });
  t.equal(rx.requests, 4);
  // undici frees a connection for the next request a moment after the answer (setImmediate): one sent
  // at once after another may open a second one, but never one per delivery.
  t.ok(rx.sockets.length < rx.requests, `connections reused (${rx.sockets.length} for ${rx.requests} deliveries)`);
  t.equal(rx.closed.length, 0, 'still open between deliveries');
  await sender.close();
  await until('every connection closed by the sender', () => rx.closed.length === rx.sockets.length);
});

t.test('the stop signal cuts a POST short: aborted, not an answer, not permanent', async (t) => {
  const rx = await receiver(t, 'hold');
  const url = rx.url();
  const stop = new AbortController();
  rx.onRequest.push(() => stop.abort());
  const r = await postWebhook(url, '{}', signed(url), { timeoutMs: 60_000, allowPrivate: true, signal: stop.signal });
  t.match(r, { ok: false, aborted: true, permanent: false });
  t.equal(r.status, undefined, 'no answer was had');

  const before = rx.sockets.length;
  const r2 = await postWebhook(url, '{}', signed(url), { timeoutMs: 60_000, allowPrivate: true, signal: stop.signal });
  t.match(r2, { ok: false, aborted: true }, 'already stopped: not sent');
  t.equal(rx.sockets.length, before, 'no connection made');
});

t.test('an answer whose body never ends: the status decides once the deadline cuts the body', async (t) => {
  const rx = await receiver(t, 'trickle');
  const url = rx.url();
  t.match(await postWebhook(url, '{}', signed(url), { timeoutMs: 300, allowPrivate: true }), { ok: true, status: 200 });
});

t.test('the notification worker delivers over one connection while it runs and closes it on stop', async (t) => {
  const c = await startTestCentral(t, undefined, { 'central.webhook_allow_private': true });
  const rx = await receiver(t);
  const user = await addUser(c.ctx.db);
  const device = await addDevice(c.ctx.db);
  const hook = await c.ctx.db.kysely
    .insertInto('user_webhooks')
    .values({ user_id: user.id, url: rx.url().href, events: '["fall_alert"]', secret: 's', created_at: 0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const queue = (key: string) =>
    insertNotifications(c.ctx.db.kysely, [
      {
        user_id: user.id,
        channel: 'webhook',
        webhook_id: hook.id,
        event: 'fall_alert',
        device_id: device.id,
        alert_id: null,
        dedupe_key: key,
        payload: '{}',
        status: 'pending',
        next_attempt_at: c.clock.now(),
        lease_until: null,
        last_error: null,
        created_at: c.clock.now(),
        delivered_at: null,
      },
    ]);
  const worker = new NotificationWorker(c.ctx);
  t.teardown(() => worker.stop());
  await queue('first');
  worker.start();
  const delivered = async (key: string) =>
    (
      await c.ctx.db.kysely
        .selectFrom('notifications')
        .select('status')
        .where('dedupe_key', '=', key)
        .executeTakeFirst()
    )?.status === 'delivered';
  // Its pass over (the connection back in the pool), the next delivery is a pass of its own.
  await until('the first delivery recorded', () => delivered('first'));
  await queue('second');
  worker.kick();
  await until('the second delivery recorded', () => delivered('second'));
  t.equal(rx.requests, 2);
  t.equal(rx.sockets.length, 1, 'both passes used one connection');
  t.equal(rx.closed.length, 0, 'kept open while the worker runs');
  await worker.stop();
  await until('the connection closed by the worker’s stop', () => rx.closed.length === 1);
});
