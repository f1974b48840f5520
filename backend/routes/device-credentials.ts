import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AresError, forbidden, rateLimited, unauthorized, unprocessable } from '../../core/errors.js';
import { CsrError } from '../ca/ca.js';
import { emitAndWait, type CentralContext, type MqttPortLookup } from '../context.js';
import { cpuSerial, errors, text, uuid } from '../http/schemas.js';
import { raiseAdminAlert } from '../store/audit.js';
import {
  consumeChallenge,
  credentialsRecord,
  deviceWithCpuSerial,
  recordProvisioning,
  recordRenewal,
  rememberChallenge,
} from '../store/device-credentials.js';
import { firstOwnerEmail } from '../store/memberships.js';

const CHALLENGE_TTL_S = 300;
const csr = { type: 'string', minLength: 1, maxLength: 16384 } as const;

/**
 * How a hub gets and renews its credentials (§4.5): a single-use challenge, the credentials request
 * signed with its enrolled key (checked against the registry for clones and swaps), and certificate
 * renewal signed with its shared secret.
 */
export function deviceCredentialRoutes(app: FastifyInstance, ctx: CentralContext, mqttPort: MqttPortLookup): void {
  app.get<{ Querystring: { device_uuid: string } }>(
    '/api/devices/challenge',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['provisioning'],
        description: 'A single-use nonce for the credentials request (answers the same for unknown devices).',
        querystring: { type: 'object', required: ['device_uuid'], properties: { device_uuid: uuid } },
        response: {
          200: { type: 'object', properties: { challenge: { type: 'string' }, expires_in: { type: 'integer' } } },
          ...errors(400, 429),
        },
      },
    },
    async (request) => {
      const hit = await ctx.counters.increment(`challenge:ip:${request.ip}`, 60);
      if (hit.count > 60) throw rateLimited('too many challenge requests', hit.retryAfterS);
      const challenge = randomBytes(24).toString('base64url');
      const deviceUuid = request.query.device_uuid.toLowerCase();
      const now = ctx.clock.now();
      await rememberChallenge(ctx.db, { nonce: challenge, deviceUuid, expiresAt: now + CHALLENGE_TTL_S * 1000 }, now);
      return { challenge, expires_in: CHALLENGE_TTL_S };
    },
  );

  app.post<{ Body: { cpu_serial: string; device_uuid: string; challenge: string; csr: string } }>(
    '/api/devices/credentials',
    {
      config: { auth: 'device_key' },
      schema: {
        tags: ['provisioning'],
        description:
          'Signed `es256=` with the enrolled key over a fresh challenge (§4.5). 409 not_claimed until the owner claims.',
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
        const registered = await deviceWithCpuSerial(ctx.db, body.cpu_serial);
        if (registered) {
          await raiseAdminAlert(ctx.db, {
            ts: ctx.clock.now(),
            type: 'swap_suspected',
            deviceId: registered.id,
            deviceUuid: String(request.headers['x-ares-device']).toLowerCase().slice(0, 36),
            cpuSerial: body.cpu_serial,
            details: {
              registered_uuid: registered.device_uuid,
              reason: 'known cpu_serial presented with an unregistered device_uuid (SD card swapped?)',
            },
          });
        }
        throw unauthorized('device signature not valid');
      }
      const device = await credentialsRecord(ctx.db, request.device.id);
      if (body.device_uuid.toLowerCase() !== device.device_uuid)
        throw new AresError('ARES_ERR_BAD_REQUEST', 'device_uuid does not match the X-Ares-Device header');
      const now = ctx.clock.now();
      if (body.cpu_serial !== device.cpu_serial) {
        await raiseAdminAlert(ctx.db, {
          ts: now,
          type: 'clone_suspected',
          deviceId: device.id,
          deviceUuid: device.device_uuid,
          cpuSerial: body.cpu_serial,
          details: {
            registered_cpu_serial: device.cpu_serial,
            reason: 'enrolled key used from another board (SD card cloned or moved?)',
          },
        });
        throw forbidden('cpu_serial does not match the registry for this device; an administrator has been alerted');
      }
      if (!(await consumeChallenge(ctx.db, body.challenge, device.device_uuid, now)))
        throw unauthorized('challenge invalid, expired or already used; fetch a new one');
      if (device.status === 'registered' || !device.shared_secret) {
        throw new AresError(
          'ARES_ERR_NOT_CLAIMED',
          'device not claimed yet: the owner must claim it in the app first',
          { transient: true },
        );
      }
      const cert = await signCsr(ctx, body.csr, device.device_uuid, now);
      await recordProvisioning(ctx.db, device.id, cert, now, request.ip);
      // An external broker must know the hub before the hub is told where to connect.
      await emitAndWait(ctx.bus, 'device.provisioned', { deviceUuid: device.device_uuid });
      const ownerEmail = await firstOwnerEmail(ctx.db, device.id);
      const urls = publicUrls(ctx, request, mqttPort());
      return {
        device_id: device.id,
        device_uuid: device.device_uuid,
        user_email: ownerEmail,
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
          200: {
            type: 'object',
            properties: {
              device_certificate: { type: 'string' },
              ca_certificate: { type: 'string' },
              not_after: { type: 'string' },
            },
          },
          ...errors(400, 401, 422),
        },
      },
    },
    async (request) => {
      const device = request.device!;
      const now = ctx.clock.now();
      const cert = await signCsr(ctx, request.body.csr, device.deviceUuid, now);
      await recordRenewal(ctx.db, device.id, cert, now, request.ip);
      await emitAndWait(ctx.bus, 'device.provisioned', { deviceUuid: device.deviceUuid });
      return {
        device_certificate: cert.pem,
        ca_certificate: ctx.ca.certificatePem,
        not_after: cert.notAfter.toISOString(),
      };
    },
  );
}

async function signCsr(ctx: CentralContext, csrPem: string, deviceUuid: string, now: number) {
  try {
    return await ctx.ca.signDeviceCsr(csrPem, deviceUuid, new Date(now));
  } catch (err) {
    // A CsrError alone maps to the same 422 'unprocessable'; this only names the field in the message.
    if (err instanceof CsrError) throw unprocessable(`csr: ${err.message}`);
    throw err;
  }
}

/** URLs handed to a hub: configured ones, else derived from the address the hub itself used. */
function publicUrls(
  ctx: CentralContext,
  request: FastifyRequest,
  mqttPort: number | undefined,
): { api: string; mqtt: string } {
  const cfg = ctx.config.central;
  const api = (cfg.public_url ?? `${request.protocol}://${request.host}`).replace(/\/$/, '');
  const host = new URL(api).hostname;
  // With an external broker, hubs use its client-certificate listener (never central's own login).
  const mqtt =
    cfg.mqtt_url !== undefined && cfg.mqtt_device_url !== undefined
      ? cfg.mqtt_device_url
      : `mqtts://${host.includes(':') ? `[${host}]` : host}:${mqttPort ?? cfg.mqtt_port}`;
  return { api, mqtt };
}
