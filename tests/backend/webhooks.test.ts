import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startCentral } from '../../backend/central.js';
import { retryDelayMs } from '../../backend/notify/deliver.js';
import { postWebhook, webhookHeaders } from '../../backend/notify/webhook-post.js';
import { checkWebhookUrl, isPrivateAddress } from '../../backend/notify/webhook-url.js';
import { NotificationWorker } from '../../backend/notify/worker.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { json, newUser, provisionedHub, signedInject, startTestCentral, type TestCentral } from '../helpers/central.js';
import { freePort } from '../helpers/sync-central.js';
import { until } from '../helpers/wait.js';
import { verifyDelivery, webhookReceiver } from '../helpers/webhook-receiver.js';

/** The hub uploads one fall alert record (seq 1). */
function syncFall(c: TestCentral, dev: Awaited<ReturnType<typeof provisionedHub>>, ts: number, alertId?: string) {
  const record = { seq: 1, lane: 'alert', type: 'alert', ts, mono_ms: 1, clock_synced: true, metric: 'fall_detected' };
  return signedInject(c, dev.hub, {
    method: 'POST',
    url: '/api/sync/batches',
    body: Buffer.from(
      JSON.stringify({
        device_uuid: dev.uuid,
        boot_id: '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9',
        records: [{ ...record, ...(alertId ? { data: { alert_id: alertId } } : {}) }],
      }),
    ),
    secret: dev.secret,
  });
}

t.test('webhook URLs: loopback, private and odd spellings are refused unless allowed', async (t) => {
  for (const bad of [
    'http://127.0.0.1/x',
    'https://127.0.0.1/x',
    'https://localhost/x',
    'https://foo.localhost/x',
    'https://10.1.2.3/',
    'https://192.168.1.10/',
    'https://172.20.0.1/',
    'https://169.254.169.254/latest/meta-data', // a cloud metadata service
    'https://2130706433/', // 127.0.0.1 as one number
    'https://0x7f.1/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[fd00::1]/',
    'https://0.0.0.0/',
    'http://example.com/', // plain HTTP to the internet
    'ftp://example.com/',
    'javascript:alert(1)',
    'https://user:pw@example.com/',
    'not a url',
  ])
    t.type(checkWebhookUrl(bad, false), 'string', bad);
  t.type(checkWebhookUrl('https://hooks.example.com/ares?x=1', false), URL);
  t.type(checkWebhookUrl('http://192.168.1.10:8123/api/webhook/ares', true), URL, 'allowed on a LAN when configured');
  t.ok(isPrivateAddress('::ffff:10.0.0.1'));
  t.notOk(isPrivateAddress('93.184.216.34'));
  t.notOk(isPrivateAddress('2606:4700::1111'));
});

t.test('retry delays double from webhook_retry_s, with jitter, capped at an hour', async (t) => {
  const mid = () => 0.5;
  t.same(
    [1, 2, 3, 4].map((n) => retryDelayMs(n, 5, mid)),
    [5000, 10000, 20000, 40000],
  );
  t.equal(retryDelayMs(30, 5, mid), 3_600_000);
  t.ok(retryDelayMs(1, 5, () => 0) >= 4000 && retryDelayMs(1, 5, () => 0.999) <= 6000);
});

t.test('a delivery: redirects not followed, a hanging receiver times out, private targets refused', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://169.254.169.254/' });
      res.end();
    } else if (req.url === '/huge') {
      res.writeHead(200);
      res.end(Buffer.alloc(1 << 20, 'x'));
    }
    // '/hang': never answers
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, allowPrivate = true) => {
    const url = new URL(base + path);
    return postWebhook(url, '{}', webhookHeaders(url, '{}', 's', Date.now(), { event: 'fall_alert', delivery: '1' }), {
      timeoutMs: 300,
      allowPrivate,
    });
  };
  t.match(await post('/redirect'), { ok: false, status: 302, permanent: true });
  t.match(await post('/hang'), { ok: false, permanent: false, error: /no answer within 300 ms/ });
  t.match(await post('/huge'), { ok: true }, 'a large answer is read and dropped');
  t.match(await post('/huge', false), { ok: false, permanent: true, error: /private address/ });
});

t.test('webhook routes: create (secret once), list, delete; hostile bodies refused', async (t) => {
  const c = await startTestCentral(t);
  const alice = await newUser(c.app, 'alice');
  const bob = await newUser(c.app, 'bob');
  const post = (payload: unknown, auth = alice.auth) =>
    c.app.inject({ method: 'POST', url: '/api/users/me/webhooks', headers: auth, payload: payload as object });
  const created = await post({ url: 'https://hooks.example.com/ares', events: ['fall_alert', 'detection_down'] });
  t.equal(created.statusCode, 201);
  const hook = json<{ id: number; secret: string; url: string; events: string[] }>(created);
  t.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
  const listed = json<Record<string, unknown>[]>(
    await c.app.inject({ method: 'GET', url: '/api/users/me/webhooks', headers: alice.auth }),
  );
  t.same(
    listed.map((h) => [h['id'], h['url'], h['events'], 'secret' in h]),
    [[hook.id, 'https://hooks.example.com/ares', ['fall_alert', 'detection_down'], false]],
  );
  t.same(json(await c.app.inject({ method: 'GET', url: '/api/users/me/webhooks', headers: bob.auth })), []);

  const refusals: [unknown, number][] = [
    [{ url: 'https://127.0.0.1/', events: ['fall_alert'] }, 422],
    [{ url: 'http://hooks.example.com/', events: ['fall_alert'] }, 422],
    [{ url: 'https://hooks.example.com/', events: ['everything'] }, 400],
    [{ url: 'https://hooks.example.com/', events: [] }, 400],
    [{ url: 'https://hooks.example.com/', events: ['fall_alert', 'fall_alert'] }, 400],
    [{ url: `https://hooks.example.com/${'a'.repeat(3000)}`, events: ['fall_alert'] }, 400],
    [{ url: 'https://hooks.example.com/', events: ['fall_alert'], secret: 'mine' }, 400],
    [{ url: 42, events: ['fall_alert'] }, 400],
    [{ events: ['fall_alert'] }, 400],
    [[], 400],
  ];
  for (const [body, status] of refusals) {
    const res = await post(body);
    t.equal(res.statusCode, status, JSON.stringify(body).slice(0, 80));
    t.ok(json<{ error: { message: string } }>(res).error.message.length > 0, 'says what is wrong');
  }
  for (let i = 1; i < 10; i++)
    t.equal((await post({ url: `https://h${i}.example.com/`, events: ['fall_alert'] })).statusCode, 201);
  t.equal((await post({ url: 'https://h11.example.com/', events: ['fall_alert'] })).statusCode, 409, 'ten at most');

  const del = (id: number, auth: Record<string, string>) =>
    c.app.inject({ method: 'DELETE', url: `/api/users/me/webhooks/${id}`, headers: auth });
  t.equal((await del(hook.id, bob.auth)).statusCode, 404, 'another user’s webhook is not found');
  t.equal((await del(hook.id, alice.auth)).statusCode, 204);
  t.equal((await del(hook.id, alice.auth)).statusCode, 404);
  t.equal((await c.app.inject({ method: 'GET', url: '/api/users/me/webhooks' })).statusCode, 401);
});

t.test('a delivery held by an instance that died is taken over when its lease ends', async (t) => {
  const c = await startTestCentral(t, undefined, { 'central.webhook_allow_private': true });
  const rx = await webhookReceiver();
  t.teardown(rx.close);
  const owner = await newUser(c.app, 'owner');
  const dev = await provisionedHub(c, owner.auth);
  const res = await c.app.inject({
    method: 'POST',
    url: '/api/users/me/webhooks',
    headers: owner.auth,
    payload: { url: rx.url, events: ['fall_alert'] },
  });
  t.equal(res.statusCode, 201);
  t.equal((await syncFall(c, dev, c.clock.now())).statusCode, 200);
  // Another instance claimed everything, then died before recording an attempt.
  await c.ctx.db.kysely
    .updateTable('notifications')
    .set({ lease_until: c.clock.now() + 40_000 })
    .execute();
  const worker = new NotificationWorker(c.ctx);
  await worker.runOnce();
  t.equal(rx.received.length, 0, 'not while the lease holds');
  c.clock.advance(41_000);
  await worker.runOnce();
  t.equal(rx.received.length, 1, 'delivered once the lease ended');
});

t.test('a webhook delivery failing before a central restart is delivered after it', async (t) => {
  const overrides = {
    'central.webhook_allow_private': true,
    'central.webhook_retry_s': 1,
    'log.level': 'silent',
  };
  const c = await startTestCentral(t, undefined, overrides);
  const rx = await webhookReceiver([500]);
  t.teardown(rx.close);
  const owner = await newUser(c.app, 'owner');
  const dev = await provisionedHub(c, owner.auth);
  const hook = json<{ id: number; secret: string }>(
    await c.app.inject({
      method: 'POST',
      url: '/api/users/me/webhooks',
      headers: owner.auth,
      payload: { url: `${rx.url}/hook`, events: ['fall_alert'] },
    }),
  );
  const config = loadConfig({
    env: {},
    overrides: {
      ...overrides,
      'central.data_dir': c.dataDir,
      'central.database': `sqlite:${c.dataDir}/central.db`,
      'central.port': await freePort(),
      'central.mqtt_port': 0,
    },
  });
  const first = await startCentral(config, silentLogger(), { mailer: { send: async () => undefined } });
  t.equal((await syncFall(c, dev, Date.now(), 'fall-r')).statusCode, 200);
  // The running central's worker polls every second and tries it: the receiver answers 500.
  await until('the first attempt', () => rx.received.length === 1, 10_000);
  await first.close();
  const row = () =>
    c.ctx.db.kysely.selectFrom('notifications').selectAll().where('webhook_id', '=', hook.id).executeTakeFirstOrThrow();
  t.match(
    await row(),
    { status: 'pending', attempts: 1, last_error: 'HTTP 500' },
    'still queued while central is down',
  );

  const second = await startCentral(config, silentLogger(), { mailer: { send: async () => undefined } });
  t.teardown(() => second.close());
  await until('the retry after the restart', () => rx.received.length === 2, 10_000);
  await until('delivered', async () => (await row()).status === 'delivered', 5_000);
  t.ok(verifyDelivery(hook.secret, rx.received[1]!), 'the retry is signed afresh');
  t.equal(
    rx.received[0]!.headers['x-ares-delivery'],
    rx.received[1]!.headers['x-ares-delivery'],
    'the same delivery id',
  );
  const attempts = await c.ctx.db.kysely
    .selectFrom('notification_attempts')
    .select(['http_status', 'ok'])
    .orderBy('id')
    .execute();
  t.same(
    attempts.filter((a) => a.http_status !== null).map((a) => [a.http_status, a.ok]),
    [
      [500, 0],
      [200, 1],
    ],
    'both attempts recorded',
  );
});
