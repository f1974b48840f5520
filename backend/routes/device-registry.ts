import { createPublicKey, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { conflict, forbidden, rateLimited, unprocessable } from '../../core/errors.js';
import {
  CLAIM_CODE_PATTERN,
  isValidClaimCode,
  normalizeClaimCode,
  type EnrollmentRecord,
} from '../../sync/enrollment.js';
import { hashSecret, verifyAgainstDummy, verifySecret } from '../auth/passwords.js';
import type { CentralContext } from '../context.js';
import { isUniqueViolation } from '../db/errors.js';
import { currentUser } from '../http/guard.js';
import { cpuSerial, errors, ident, uuid } from '../http/schemas.js';
import { audit } from '../store/audit.js';

/**
 * The device registry (seed §9, §10.4): an admin preregisters a hub from its enrollment record, and
 * its owner claims it with the code on its label, which creates the hub's shared secret.
 */
export function deviceRegistryRoutes(app: FastifyInstance, ctx: CentralContext): void {
  app.post<{ Body: EnrollmentRecord }>(
    '/api/devices/preregister',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['provisioning'],
        description:
          'Body = the enrollment record printed by `ares hub enroll`. 409 on a known cpu_serial or uuid (seed §10.4).',
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
        response: {
          201: { type: 'object', properties: { device_id: { type: 'integer' }, device_uuid: { type: 'string' } } },
          ...errors(400, 401, 403, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const rec = request.body;
      checkP256PublicKey(rec.public_key);
      if (!isValidClaimCode(rec.claim_code))
        throw unprocessable('claim_code: must be at least 8 Crockford base32 symbols');
      const variant = await ctx.db.kysely
        .selectFrom('hardware_variants')
        .select('id')
        .where('name', '=', rec.hardware_variant)
        .executeTakeFirst();
      if (!variant) throw unprocessable(`hardware_variant: unknown variant ${JSON.stringify(rec.hardware_variant)}`);
      const deviceUuid = rec.device_uuid.toLowerCase();
      const clash = await ctx.db.kysely
        .selectFrom('devices')
        .select(['cpu_serial', 'device_uuid'])
        .where((eb) => eb.or([eb('cpu_serial', '=', rec.cpu_serial), eb('device_uuid', '=', deviceUuid)]))
        .executeTakeFirst();
      if (clash)
        throw conflict(
          clash.cpu_serial === rec.cpu_serial ? 'cpu_serial already registered' : 'device_uuid already registered',
          { field: clash.cpu_serial === rec.cpu_serial ? 'cpu_serial' : 'device_uuid' },
        );
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
        await audit(ctx.db.kysely, {
          ts: now,
          actor: currentUser(request).id,
          action: 'device.preregister',
          target: `device:${row.id}`,
          details: { cpu_serial: rec.cpu_serial, device_uuid: deviceUuid },
          ip: request.ip,
        });
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
          200: {
            type: 'object',
            properties: { device_id: { type: 'integer' }, device_uuid: { type: 'string' }, role: { type: 'string' } },
          },
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
        if (Number(claimed.numUpdatedRows) !== 1)
          throw conflict('device is already claimed; ask its owner to share it');
        await trx
          .insertInto('user_devices')
          .values({ user_id: user.id, device_id: device.id, role: 'owner', nickname: null, created_at: now })
          .execute();
        await audit(trx, {
          ts: now,
          actor: user.id,
          action: 'device.claim',
          target: `device:${device.id}`,
          ip: request.ip,
        });
      });
      return { device_id: device.id, device_uuid: device.device_uuid, role: 'owner' };
    },
  );
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
