import type { FastifyRequest } from 'fastify';
import { AresError } from '../../core/errors.js';
import {
  SignatureError,
  canonicalString,
  parseSignatureHeaders,
  verifyEs256,
  verifyHmac,
} from '../../sync/device-signing.js';
import type { CentralContext } from '../context.js';
import { deviceSigningKeys, markDeviceSeen } from '../store/device-credentials.js';
import type { AuthDevice } from './request-types.js';

/**
 * Verifies a device-signed request over the exact bytes received (§4.5), before anything parses
 * them. `hmac` is every provisioned request; `es256` is the one credentials request, signed with
 * the key from the enrollment record (an unknown device there yields `undefined`, not an error). The timestamp is recorded as clock skew, never enforced: a
 * hub may be years off before NTP, and replays are harmless by construction.
 */
export async function verifyDeviceRequest(
  ctx: CentralContext,
  request: FastifyRequest,
  raw: Uint8Array,
  mode: 'hmac' | 'es256',
): Promise<AuthDevice | undefined> {
  request.deviceChecked = true;
  const refuse = (reason: string, message: string): never => {
    ctx.metrics.authFailures.inc({ kind: 'device_signature', reason });
    request.log.warn({ reason, device: request.headers['x-ares-device'] }, 'device request refused');
    throw new AresError('ARES_ERR_UNAUTHORIZED', message);
  };
  let parsed: ReturnType<typeof parseSignatureHeaders>;
  try {
    parsed = parseSignatureHeaders(request.headers);
  } catch (err) {
    if (err instanceof SignatureError) return refuse(err.reason, `device signature: ${err.message}`);
    throw err;
  }
  const wanted = mode === 'hmac' ? 'v1' : 'es256';
  if (parsed.signature.scheme !== wanted)
    return refuse('wrong_scheme', `device signature: this route needs ${wanted}=`);

  const device = await deviceSigningKeys(ctx.db, parsed.deviceUuid.toLowerCase());
  const canonical = canonicalString(request.method, request.url, parsed.timestampRaw, raw);
  let ok = false;
  if (device && parsed.signature.scheme === 'v1' && device.shared_secret) {
    ok = verifyHmac(device.shared_secret, canonical, parsed.signature.mac);
  } else if (device && parsed.signature.scheme === 'es256') {
    ok = verifyEs256(device.public_key, canonical, parsed.signature.der);
  }
  // The credentials route looks for an SD-card swap (known cpu_serial, unknown uuid) itself.
  if (!device && mode === 'es256') {
    ctx.metrics.authFailures.inc({ kind: 'device_signature', reason: 'unknown_device' });
    return undefined;
  }
  // One message for unknown device, unprovisioned device and bad signature: no enumeration.
  if (!device || !ok) return refuse(device ? 'bad_signature' : 'unknown_device', 'device signature not valid');

  const now = ctx.clock.now();
  await markDeviceSeen(ctx.db, device.id, now, parsed.timestamp - Math.floor(now / 1000));
  return { id: device.id, deviceUuid: device.device_uuid };
}
