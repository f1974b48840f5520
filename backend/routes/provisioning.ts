import { createPublicKey, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AresError, conflict, forbidden, rateLimited, unauthorized, unprocessable } from '../../core/errors.js';
import { CLAIM_CODE_PATTERN, isValidClaimCode, normalizeClaimCode, type EnrollmentRecord } from '../../sync/enrollment.js';
import { hashSecret, verifyAgainstDummy, verifySecret } from '../auth/passwords.js';
import { CsrError } from '../ca/ca.js';
import type { CentralContext } from '../context.js';
import { isUniqueViolation } from '../db/errors.js';
import { currentUser } from '../http/guard.js';
import { errors, ident, text, uuid } from '../http/schemas.js';
import { audit, raiseAdminAlert } from '../store/audit.js';

const CHALLENGE_TTL_S = 300;
const csr = { type: 'string', minLength: 1, maxLength: 16384 } as const;
const cpuSerial = { type: 'string', minLength: 4, maxLength: 64, pattern: '^[0-9A-Za-z]+$' } as const;

export function provisioningRoutes(app: FastifyInstance, ctx: CentralContext): void {
  app.post<{ Body: EnrollmentRecord }>(
    '/api/devices/preregister',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['provisioning'],
        description: 'Body = the enrollment record printed by `ares hub enroll`. 409 on a known cpu_serial or uuid (seed §10.4).',
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['cpu_serial', 'device_uuid', 'hardware_version', 'hardware_variant', 'public_key', 'claim_code'],
          properties: {
            cpu_serial: cpuSerial,
            device_uuid: uuid,
            hardware_version: ident(32),
            hardware_variant: ident(64),
            public_key: { type: 'string', minLength: 1, maxLength: 4096 },
            claim_code: { type: 'string', pattern: CLAIM_CODE_PATTERN },
          },
        },
        response: { 201: { type: 'object', properties: { device_id: { type: 'integer' }, device_uuid: { type: 'string' } } }, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const rec = request.body;
      checkP256PublicKey(rec.public_key);
      if (!isValidClaimCode(rec.claim_code)) throw unprocessable('claim_code: must be at least 8 Crockford base32 symbols');
      const variant = await ctx.db.kysely.selectFrom('hardware_variants').select('id').where('name', '=', rec.hardware_variant).executeTakeFirst();
      if (!variant) throw unprocessable(`hardware_variant: unknown variant ${JSON.stringify(rec.hardware_variant)}`);
      const deviceUuid = rec.device_uuid.toLowerCase();
      const clash = await ctx.db.kysely
        .selectFrom('devices')
        .select(['cpu_serial', 'device_uuid'])
        .where((eb) => eb.or([eb('cpu_serial', '=', rec.cpu_serial), eb('device_uuid', '=', deviceUuid)]))
        .executeTakeFirst();
      if (clash) throw conflict(clash.cpu_serial === rec.cpu_serial ? 'cpu_serial already registered' : 'device_uuid already registered', { field: clash.cpu_serial === rec.cpu_serial ? 'cpu_serial' : 'device_uuid' });
      const now = ctx.clock.now();
      try {
        const row = await ctx.db.kysely
          .insertInto('devices')
          .values({
            cpu_serial: rec.cpu_serial,
            device_uuid: deviceUuid,
            hardware_version: rec.hardware_version,
            hardware_variant: rec.hardware_variant,
            public_key: rec.public_key.trim() + '\n',
            claim_code_hash: await hashSecret(normalizeClaimCode(rec.claim_code)),
            status: 'registered',
            shared_secret: null,
            created_at: now,
            claimed_at: null,
            last_seen_at: null,
            clock_skew_s: null,
          })
          .returning(['id', 'device_uuid'])
          .executeTakeFirstOrThrow();
        await audit(ctx.db.kysely, { ts: now, actor: currentUser(request).id, action: 'device.preregister', target: `device:${row.id}`, details: { cpu_serial: rec.cpu_serial, device_uuid: deviceUuid }, ip: request.ip });
        return reply.status(201).send({ device_id: row.id, device_uuid: row.device_uuid });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('cpu_serial or device_uuid already registered');
        throw err;
      }
    },
  );

  app.post<{ Body: { cpu_serial: string; claim_code: string } }>(
    '/api/devices/claim',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['provisioning'],
        description: 'The caller becomes the owner. Wrong code → 403; repeated wrong codes → 429.',
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['cpu_serial', 'claim_code'],
          properties: { cpu_serial: cpuSerial, claim_code: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: {
          200: { type: 'object', properties: { device_id: { type: 'integer' }, device_uuid: { type: 'string' }, role: { type: 'string' } } },
          ...errors(400, 401, 403, 409, 429),
        },
      },
    },
    async (request) => {
      const user = currentUser(request);
      const { cpu_serial } = request.body;
      const keys = [`claim:user:${user.id}`, `claim:serial:${cpu_serial}`, `claim:ip:${request.ip}`];
      const limits = [10, 5, 30];
      for (const [i, key] of keys.entries()) {
        const c = await ctx.counters.peek(key);
        if (c.count >= limits[i]!) throw rateLimited('too many wrong claim codes; try again later', c.retryAfterS);
      }
      const device = await ctx.db.kysely
        .selectFrom('devices')
        .select(['id', 'device_uuid', 'status', 'claim_code_hash'])
        .where('cpu_serial', '=', cpu_serial)
        .executeTakeFirst();
      const code = normalizeClaimCode(request.body.claim_code);
      const ok = device ? await verifySecret(device.claim_code_hash, code) : await verifyAgainstDummy(code);
      if (!device || !ok) {
        for (const key of keys) await ctx.counters.increment(key, 900);
        ctx.metrics.authFailures.inc({ kind: 'claim', reason: 'wrong_code' });
        throw forbidden('wrong cpu_serial or claim code');
      }
      const now = ctx.clock.now();
      await ctx.db.kysely.transaction().execute(async (trx) => {
        const claimed = await trx
          .updateTable('devices')
          .set({ status: 'claimed', claimed_at: now, shared_secret: randomBytes(32).toString('hex') })
          .where('id', '=', device.id)
          .where('status', '=', 'registered')
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) throw conflict('device is already claimed; ask its owner to share it');
        await trx.insertInto('user_devices').values({ user_id: user.id, device_id: device.id, role: 'owner', nickname: null, created_at: now }).execute();
        await audit(trx, { ts: now, actor: user.id, action: 'device.claim', target: `device:${device.id}`, ip: request.ip });
      });
      return { device_id: device.id, device_uuid: device.device_uuid, role: 'owner' };
    },
  );

  app.get<{ Querystring: { device_uuid: string } }>(
    '/api/devices/challenge',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['provisioning'],
        description: 'A single-use nonce for the credentials request (answers the same for unknown devices).',
        querystring: { type: 'object', required: ['device_uuid'], properties: { device_uuid: uuid } },
        response: { 200: { type: 'object', properties: { challenge: { type: 'string' }, expires_in: { type: 'integer' } } }, ...errors(400, 429) },
      },
    },
    async (request) => {
      const hit = await ctx.counters.increment(`challenge:ip:${request.ip}`, 60);
      if (hit.count > 60) throw rateLimited('too many challenge requests', hit.retryAfterS);
      const challenge = randomBytes(24).toString('base64url');
      const deviceUuid = request.query.device_uuid.toLowerCase();
      const now = ctx.clock.now();
      const known = await ctx.db.kysely.selectFrom('devices').select('id').where('device_uuid', '=', deviceUuid).executeTakeFirst();
      if (known) {
        await ctx.db.kysely.deleteFrom('device_challenges').where('expires_at', '<=', now).execute();
        await ctx.db.kysely.insertInto('device_challenges').values({ nonce: challenge, device_uuid: deviceUuid, expires_at: now + CHALLENGE_TTL_S * 1000 }).execute();
      }
      return { challenge, expires_in: CHALLENGE_TTL_S };
    },
  );

  app.post<{ Body: { cpu_serial: string; device_uuid: string; challenge: string; csr: string } }>(
    '/api/devices/credentials',
    {
      config: { auth: 'device_key' },
      schema: {
        tags: ['provisioning'],
        description: 'Signed `es256=` with the enrolled key over a fresh challenge (§4.5). 409 not_claimed until the owner claims.',
        security: [{ device: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['cpu_serial', 'device_uuid', 'challenge', 'csr'],
          properties: { cpu_serial: cpuSerial, device_uuid: uuid, challenge: text(64), csr },
        },
        response: { ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (request) => {
      const body = request.body;
      if (!request.device) {
        const registered = await ctx.db.kysely.selectFrom('devices').select(['id', 'device_uuid']).where('cpu_serial', '=', body.cpu_serial).executeTakeFirst();
        if (registered) {
          await raiseAdminAlert(ctx.db.kysely, {
            ts: ctx.clock.now(),
            type: 'swap_suspected',
            deviceId: registered.id,
            deviceUuid: String(request.headers['x-ares-device']).toLowerCase().slice(0, 36),
            cpuSerial: body.cpu_serial,
            details: { registered_uuid: registered.device_uuid, reason: 'known cpu_serial presented with an unregistered device_uuid (SD card swapped?)' },
          });
        }
        throw unauthorized('device signature not valid');
      }
      const device = await ctx.db.kysely.selectFrom('devices').selectAll().where('id', '=', request.device.id).executeTakeFirstOrThrow();
      if (body.device_uuid.toLowerCase() !== device.device_uuid) throw new AresError('ARES_ERR_BAD_REQUEST', 'device_uuid does not match the X-Ares-Device header');
      const now = ctx.clock.now();
      if (body.cpu_serial !== device.cpu_serial) {
        await raiseAdminAlert(ctx.db.kysely, {
          ts: now,
          type: 'clone_suspected',
          deviceId: device.id,
          deviceUuid: device.device_uuid,
          cpuSerial: body.cpu_serial,
          details: { registered_cpu_serial: device.cpu_serial, reason: 'enrolled key used from another board (SD card cloned or moved?)' },
        });
        throw forbidden('cpu_serial does not match the registry for this device; an administrator has been alerted');
      }
      const used = await ctx.db.kysely
        .deleteFrom('device_challenges')
        .where('nonce', '=', body.challenge)
        .where('device_uuid', '=', device.device_uuid)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(used.numDeletedRows) !== 1) throw unauthorized('challenge invalid, expired or already used; fetch a new one');
      if (device.status === 'registered' || !device.shared_secret) {
        throw new AresError('ARES_ERR_NOT_CLAIMED', 'device not claimed yet: the owner must claim it in the app first', { transient: true });
      }
      const cert = await signCsr(ctx, body.csr, device.device_uuid, now);
      await ctx.db.kysely.transaction().execute(async (trx) => {
        // A hub asking again has lost its state: certificates it held before are superseded.
        await trx.updateTable('device_certificates').set({ revoked_at: now, revoke_reason: 'superseded' }).where('device_id', '=', device.id).where('revoked_at', 'is', null).execute();
        await trx.insertInto('device_certificates').values({ serial: cert.serial, device_id: device.id, pem: cert.pem, not_before: cert.notBefore.getTime(), not_after: cert.notAfter.getTime(), issued_at: now, revoked_at: null, revoke_reason: null }).execute();
        await trx.updateTable('devices').set({ status: 'provisioned' }).where('id', '=', device.id).execute();
        await audit(trx, { ts: now, actor: null, action: 'device.credentials', target: `device:${device.id}`, details: { serial: cert.serial }, ip: request.ip });
      });
      const owner = await ctx.db.kysely
        .selectFrom('user_devices')
        .innerJoin('users', 'users.id', 'user_devices.user_id')
        .select('users.email')
        .where('user_devices.device_id', '=', device.id)
        .where('user_devices.role', '=', 'owner')
        .orderBy('user_devices.created_at')
        .executeTakeFirst();
      const urls = publicUrls(ctx, request);
      return {
        device_id: device.id,
        device_uuid: device.device_uuid,
        user_email: owner?.email ?? null,
        shared_secret: device.shared_secret,
        device_certificate: cert.pem,
        ca_certificate: ctx.ca.certificatePem,
        mqtt_url: urls.mqtt,
        api_url: urls.api,
      };
    },
  );

  app.post<{ Body: { csr: string } }>(
    '/api/devices/certificate',
    {
      config: { auth: 'device' },
      schema: {
        tags: ['provisioning'],
        description: 'Renew the device certificate (hubs renew when fewer than 30 days remain).',
        security: [{ device: [] }],
        body: { type: 'object', additionalProperties: false, required: ['csr'], properties: { csr } },
        response: {
          200: { type: 'object', properties: { device_certificate: { type: 'string' }, ca_certificate: { type: 'string' }, not_after: { type: 'string' } } },
          ...errors(400, 401, 422),
        },
      },
    },
    async (request) => {
      const device = request.device!;
      const now = ctx.clock.now();
      const cert = await signCsr(ctx, request.body.csr, device.deviceUuid, now);
      await ctx.db.kysely.insertInto('device_certificates').values({ serial: cert.serial, device_id: device.id, pem: cert.pem, not_before: cert.notBefore.getTime(), not_after: cert.notAfter.getTime(), issued_at: now, revoked_at: null, revoke_reason: null }).execute();
      await audit(ctx.db.kysely, { ts: now, actor: null, action: 'device.certificate_renew', target: `device:${device.id}`, details: { serial: cert.serial }, ip: request.ip });
      return { device_certificate: cert.pem, ca_certificate: ctx.ca.certificatePem, not_after: cert.notAfter.toISOString() };
    },
  );
}

async function signCsr(ctx: CentralContext, csrPem: string, deviceUuid: string, now: number) {
  try {
    return await ctx.ca.signDeviceCsr(csrPem, deviceUuid, new Date(now));
  } catch (err) {
    if (err instanceof CsrError) throw unprocessable(`csr: ${err.message}`);
    throw err;
  }
}

function checkP256PublicKey(pem: string): void {
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw unprocessable('public_key: not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw unprocessable('public_key: must be an EC P-256 key');
  }
}

/** URLs handed to a hub: configured ones, else derived from the address the hub itself used. */
function publicUrls(ctx: CentralContext, request: FastifyRequest): { api: string; mqtt: string } {
  const cfg = ctx.config.central;
  const api = (cfg.public_url ?? `${request.protocol}://${request.host}`).replace(/\/$/, '');
  const host = new URL(api).hostname;
  const mqtt = cfg.mqtt_url ?? `mqtts://${host.includes(':') ? `[${host}]` : host}:${cfg.mqtt_port}`;
  return { api, mqtt };
}
