import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { buildCentralApp } from '../../backend/app.js';
import { checkTransportSecurity, createCentralContext } from '../../backend/central.js';
import { createMailer } from '../../backend/mail/mailer.js';
import { loadConfig } from '../../core/config.js';
import { createLogger, silentLogger } from '../../core/logger.js';
import { json, newUser, startTestCentral } from '../helpers/central.js';

t.test('health, version, metrics, OpenAPI and docs', async (t) => {
  const c = await startTestCentral(t);
  t.same(json(await c.app.inject({ method: 'GET', url: '/healthz' })), { status: 'ok', database: 'ok' });
  t.match(json(await c.app.inject({ method: 'GET', url: '/' })), {
    service: 'ares-central',
    version: /^\d+\.\d+\.\d+/,
  });
  const openapi = json<{ openapi: string; paths: Record<string, unknown> }>(
    await c.app.inject({ method: 'GET', url: '/openapi.json' }),
  );
  t.match(openapi.openapi, /^3\./);
  for (const p of [
    '/auth/login',
    '/api/devices',
    '/api/devices/credentials',
    '/api/components/devices/{device_id}/components',
  ])
    t.ok(openapi.paths[p], `documents ${p}`);
  const docs = await c.app.inject({ method: 'GET', url: '/docs' });
  t.ok(docs.statusCode === 200 || docs.statusCode === 302, 'docs UI served');
  await c.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'x@ares.test', password: 'wrong-one' } });
  const metrics = await c.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(metrics.statusCode, 200);
  t.match(metrics.headers['content-type'], /text\/plain/);
  t.match(metrics.body, /ares_central_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
  t.match(metrics.body, /ares_central_auth_failures_total\{kind="login",reason="bad_credentials"\} 1/);
  const unknown = await c.app.inject({ method: 'GET', url: '/no/such/route' });
  t.equal(unknown.statusCode, 404);
  t.equal(json<{ error: { code: string } }>(unknown).error.code, 'not_found');
  t.ok(unknown.headers['x-request-id'], 'request id on every response');
});

t.test('metrics token', async (t) => {
  const c = await startTestCentral(t, undefined, { 'central.metrics_token': 'scrape-me' });
  t.equal((await c.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
  t.equal(
    (await c.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } })).statusCode,
    401,
  );
  t.equal(
    (await c.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-me' } })).statusCode,
    200,
  );
});

t.test('/healthz tells the truth when the database is gone', async (t) => {
  const c = await startTestCentral(t);
  const user = await newUser(c.app);
  await c.ctx.db.close();
  const res = await c.app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 503);
  t.same(json(res), { status: 'error', database: 'error' });
  const api = await c.app.inject({ method: 'GET', url: '/api/devices', headers: user.auth });
  t.equal(api.statusCode, 503, 'API answers unavailable, not a crash');
  t.equal(json<{ error: { code: string } }>(api).error.code, 'unavailable');
});

t.test('secrets never reach the log', async (t) => {
  const dataDir = t.testdir();
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) });
  const log = createLogger('debug', sink);
  const config = loadConfig({ env: {}, overrides: { 'central.data_dir': dataDir } });
  const ctx = await createCentralContext(config, log, { mailer: { send: async () => undefined } });
  t.teardown(() => ctx.db.close());
  const app = await buildCentralApp(ctx);
  t.teardown(() => app.close());
  const password = 'super-secret-password';
  await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { username: 'u', email: 'u@ares.test', password },
  });
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'u@ares.test', password } });
  const token = json<{ access_token: string }>(login).access_token;
  await app.inject({ method: 'GET', url: '/api/devices', headers: { authorization: `Bearer ${token}` } });
  log.info(
    { password, shared_secret: 'abc123secret', req: { headers: { authorization: `Bearer ${token}` } } },
    'deliberate',
  );
  const all = lines.join('');
  t.ok(all.length > 0, 'something was logged');
  t.notOk(all.includes(password), 'no password');
  t.notOk(all.includes(token), 'no token');
  t.notOk(all.includes('abc123secret'), 'no shared secret');
  t.match(all, /\[redacted\]/);
});

t.test('mail goes to the outbox when no SMTP server is configured', async (t) => {
  const dir = t.testdir();
  const mailer = createMailer({
    smtpUrl: undefined,
    from: 'Ares <no-reply@ares.invalid>',
    outboxDir: join(dir, 'outbox'),
    log: silentLogger(),
  });
  await mailer.send({ to: 'a@ares.test', subject: 'Your code', text: 'code 123456' });
  const files = readdirSync(join(dir, 'outbox'));
  t.equal(files.length, 1);
  t.match(files[0], /\.eml$/);
  const eml = readFileSync(join(dir, 'outbox', files[0]!), 'utf8');
  t.match(eml, /^To: a@ares\.test$/m);
  t.match(eml, /^Subject: Your code$/m);
  t.match(eml, /123456/);

  const failing = createMailer({
    smtpUrl: 'smtp://127.0.0.1:1',
    from: 'x@ares.invalid',
    outboxDir: dir,
    log: silentLogger(),
  });
  await t.rejects(
    failing.send({ to: 'a@ares.test', subject: 's', text: 't' }),
    { code: 'ARES_ERR_MAIL' },
    'SMTP failure is an error, never silent',
  );
});

t.test('plain HTTP only on loopback unless allowed', async (t) => {
  const cfg = (o: Record<string, unknown>) => loadConfig({ env: {}, overrides: o });
  t.doesNotThrow(() => checkTransportSecurity(cfg({ 'central.host': '127.0.0.1' })));
  t.doesNotThrow(() => checkTransportSecurity(cfg({ 'central.host': '::1' })));
  t.throws(() => checkTransportSecurity(cfg({ 'central.host': '0.0.0.0' })), {
    code: 'ARES_ERR_CONFIG',
    message: /central\.tls_cert/,
  });
  t.throws(() => checkTransportSecurity(cfg({ 'central.host': '192.168.1.5' })), { code: 'ARES_ERR_CONFIG' });
  t.doesNotThrow(() => checkTransportSecurity(cfg({ 'central.host': '0.0.0.0', 'central.allow_insecure_http': true })));
  t.throws(() => checkTransportSecurity(cfg({ 'central.tls_cert': '/x.pem' })), { message: /set together/ });
});
