import 'reflect-metadata';
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildCentralApp } from '../../backend/app.js';
import { closeContext, createCentralContext } from '../../backend/central.js';
import type { CentralContext } from '../../backend/context.js';
import type { MailMessage } from '../../backend/mail/mailer.js';
import { createAdmin } from '../../backend/admin-bootstrap.js';
import { ManualClock } from '../../core/clock.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { createCsr } from '../../daemon/identity/csr.js';
import { deviceHeaders } from '../../sync/device-signing.js';
import { generateClaimCode, type EnrollmentRecord } from '../../sync/enrollment.js';
import type { DbTarget } from './databases.js';

export interface TestCentral {
  app: FastifyInstance;
  ctx: CentralContext;
  clock: ManualClock;
  mails: MailMessage[];
  dataDir: string;
  /** A prime_admin's bearer header. */
  adminAuth: Record<string, string>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Central on a real database file (or PostgreSQL schema) in a temp dir, driven with inject(). */
export async function startTestCentral(
  t: Teardown,
  target?: DbTarget,
  overrides: Record<string, unknown> = {},
): Promise<TestCentral> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ares-central-test-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const url = target ? target.url(dataDir) : `sqlite:${dataDir}/central.db`;
  const config = loadConfig({
    env: {},
    overrides: { 'central.data_dir': dataDir, 'central.database': url, 'log.level': 'silent', ...overrides },
  });
  const clock = new ManualClock(Date.now());
  const mails: MailMessage[] = [];
  const ctx = await createCentralContext(config, silentLogger(), {
    clock,
    mailer: { send: async (m) => void mails.push(m) },
    ...(target?.schema ? { db: { schema: target.schema } } : {}),
  });
  // Registered before anything below can throw: an open Redis connection would keep tap waiting.
  t.teardown(() => closeContext(ctx));
  const app = await buildCentralApp(ctx);
  t.teardown(() => app.close());
  await createAdmin(config, silentLogger(), 'root@ares.test', 'root-password-1', ctx.db);
  const adminAuth = await loginAuth(app, 'root@ares.test', 'root-password-1');
  return { app, ctx, clock, mails, dataDir, adminAuth };
}

export function json<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T;
}

export async function loginAuth(
  app: FastifyInstance,
  email: string,
  password: string,
): Promise<Record<string, string>> {
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login ${email} failed: ${res.statusCode} ${res.body}`);
  return { authorization: `Bearer ${json<{ access_token: string }>(res).access_token}` };
}

let userSeq = 0;
/** Registers a fresh user and returns its id, email and bearer header. */
export async function newUser(
  app: FastifyInstance,
  name = 'user',
): Promise<{ id: number; email: string; password: string; auth: Record<string, string> }> {
  const email = `${name}-${++userSeq}-${randomBytes(3).toString('hex')}@ares.test`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const res = await app.inject({ method: 'POST', url: '/auth/register', payload: { username: name, email, password } });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  return { id: json<{ id: number }>(res).id, email, password, auth: await loginAuth(app, email, password) };
}

export interface FakeHub {
  record: EnrollmentRecord;
  privateKey: KeyObject;
}

/** What `ares hub enroll` produces: a P-256 device key, a uuid, a cpu serial and a claim code. */
export function fakeHub(hardwareVersion = '4B', variant = 'Standard'): FakeHub {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    record: {
      cpu_serial: randomBytes(8).toString('hex'),
      device_uuid: randomUUID(),
      hardware_version: hardwareVersion,
      hardware_variant: variant,
      public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      claim_code: generateClaimCode(),
    },
  };
}

export function csrFor(hub: FakeHub, cn = hub.record.device_uuid): Promise<string> {
  return createCsr(hub.privateKey, cn);
}

/** Preregisters (as admin) and claims (as `owner`) a fake hub, then fetches its credentials. */
export async function provisionedHub(
  c: TestCentral,
  ownerAuth: Record<string, string>,
): Promise<{ hub: FakeHub; uuid: string; deviceId: number; secret: string; cert: string; key: string }> {
  const hub = fakeHub();
  const pre = await c.app.inject({
    method: 'POST',
    url: '/api/devices/preregister',
    headers: c.adminAuth,
    payload: hub.record,
  });
  if (pre.statusCode !== 201) throw new Error(`preregister: ${pre.body}`);
  const claim = await c.app.inject({
    method: 'POST',
    url: '/api/devices/claim',
    headers: ownerAuth,
    payload: { cpu_serial: hub.record.cpu_serial, claim_code: hub.record.claim_code },
  });
  if (claim.statusCode !== 200) throw new Error(`claim: ${claim.body}`);
  const creds = await requestCredentials(c, hub);
  if (creds.statusCode !== 200) throw new Error(`credentials: ${creds.body}`);
  const issued = json<{ shared_secret: string; device_certificate: string }>(creds);
  return {
    hub,
    uuid: hub.record.device_uuid,
    deviceId: json<{ device_id: number }>(pre).device_id,
    secret: issued.shared_secret,
    cert: issued.device_certificate,
    key: hub.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The hub's credentials request: fetch a challenge, sign the body with the enrolled key. */
export async function requestCredentials(
  c: TestCentral,
  hub: FakeHub,
  tweak: Partial<{ cpu_serial: string; challenge: string; csr: string }> = {},
) {
  const ch = await c.app.inject({ method: 'GET', url: `/api/devices/challenge?device_uuid=${hub.record.device_uuid}` });
  const body = Buffer.from(
    JSON.stringify({
      cpu_serial: tweak.cpu_serial ?? hub.record.cpu_serial,
      device_uuid: hub.record.device_uuid,
      challenge: tweak.challenge ?? json<{ challenge: string }>(ch).challenge,
      csr: tweak.csr ?? (await csrFor(hub)),
    }),
  );
  return signedInject(c, hub, { method: 'POST', url: '/api/devices/credentials', body, privateKey: hub.privateKey });
}

export function signedInject(
  c: TestCentral,
  hub: FakeHub,
  opts: {
    method: 'GET' | 'POST' | 'DELETE' | 'PUT';
    url: string;
    /** Send to this URL instead of the signed one (tamper tests). */ sendUrl?: string;
    body?: Buffer;
    secret?: string;
    privateKey?: KeyObject;
    headers?: Record<string, string>;
  },
) {
  const body = opts.body ?? Buffer.alloc(0);
  const headers = deviceHeaders({
    deviceUuid: hub.record.device_uuid,
    method: opts.method,
    pathAndQuery: opts.url,
    body,
    nowS: Math.floor(c.clock.now() / 1000),
    ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    ...(opts.privateKey !== undefined ? { privateKeyPem: opts.privateKey } : {}),
  });
  return c.app.inject({
    method: opts.method,
    url: opts.sendUrl ?? opts.url,
    headers: { ...headers, ...(body.length > 0 ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(body.length > 0 ? { payload: body } : {}),
  });
}
