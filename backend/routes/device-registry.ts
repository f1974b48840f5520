import { createPublicKey } from 'node:crypto';
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
import { currentUser } from '../http/guard.js';
import { cpuSerial, errors, ident, uuid } from '../http/schemas.js';
import { claimDevice, findDeviceByCpuSerial, findRegistrationClash, registerDevice } from '../store/device-registry.js';
import { hardwareVariantExists } from '../store/hardware-variants.js';

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
      if (!(await hardwareVariantExists(ctx.db, rec.hardware_variant)))
        throw unprocessable(`hardware_variant: unknown variant ${JSON.stringify(rec.hardware_variant)}`);
      const deviceUuid = rec.device_uuid.toLowerCase();
      const clash = await findRegistrationClash(ctx.db, rec.cpu_serial, deviceUuid);
      if (clash) throw conflict(`${clash} already registered`, { field: clash });
      const row = await registerDevice(
        ctx.db,
        {
          cpu_serial: rec.cpu_serial,
          device_uuid: deviceUuid,
          hardware_version: rec.hardware_version,
          hardware_variant: rec.hardware_variant,
          public_key: rec.public_key.trim() + '\n',
          claim_code_hash: await hashSecret(normalizeClaimCode(rec.claim_code)),
        },
        ctx.clock.now(),
        { userId: currentUser(request).id, ip: request.ip },
      );
      return reply.status(201).send({ device_id: row.id, device_uuid: row.device_uuid });
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
      const device = await findDeviceByCpuSerial(ctx.db, cpu_serial);
      const code = normalizeClaimCode(request.body.claim_code);
      const ok = device ? await verifySecret(device.claim_code_hash, code) : await verifyAgainstDummy(code);
      if (!device || !ok) {
        for (const key of keys) await ctx.counters.increment(key, 900);
        ctx.metrics.authFailures.inc({ kind: 'claim', reason: 'wrong_code' });
        throw forbidden('wrong cpu_serial or claim code');
      }
      await claimDevice(ctx.db, device.id, ctx.clock.now(), { userId: user.id, ip: request.ip });
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
