// Hub <-> central request signing (shared by daemon and backend; must not import either).
//
// canonical = METHOD \n PATH_AND_QUERY \n TIMESTAMP \n hex(sha256(raw body bytes as sent))
// Signed with HMAC-SHA256 over the provisioned shared secret ("v1=<hex>"), or, for the single
// credentials request made before a secret exists, ECDSA P-256/SHA-256 with the enrolled device
// key ("es256=<base64 DER>").
import { createHash, createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AresError } from '../core/errors.js';

export const HEADER_DEVICE = 'x-ares-device';
export const HEADER_TIMESTAMP = 'x-ares-timestamp';
export const HEADER_SIGNATURE = 'x-ares-signature';

export type ParsedSignature = { scheme: 'v1'; mac: Buffer } | { scheme: 'es256'; der: Buffer };

/** ARES_ERR_SIGNATURE: the signing headers are missing or malformed (never transient). */
export class SignatureError extends AresError {
  /** Short machine code, safe to log / return to the client. */
  readonly reason: string;
  constructor(reason: string, message?: string) {
    super('ARES_ERR_SIGNATURE', message ?? reason);
    this.name = 'SignatureError';
    this.reason = reason;
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP_RE = /^[0-9]{1,12}$/;
const HEX64_RE = /^[0-9a-fA-F]{64}$/;
// Padded, standard-alphabet base64 only; Buffer.from(...,'base64') alone would silently skip junk.
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_SIGNATURE_HEADER = 512;
const MIN_DER = 8;
const MAX_DER = 80; // a P-256 DER signature is at most 72 bytes; a little slack, but bounded

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalString(method: string, pathAndQuery: string, timestamp: string, body: Uint8Array): string {
  // A newline inside a field would let one request's canonical string impersonate another's.
  if (/[\r\n]/.test(method) || /[\r\n]/.test(pathAndQuery) || /[\r\n]/.test(timestamp)) {
    throw new TypeError('canonicalString: fields must not contain CR/LF');
  }
  return `${method.toUpperCase()}\n${pathAndQuery}\n${timestamp}\n${sha256Hex(body)}`;
}

function hmacBytes(secret: Buffer | string, canonical: string): Buffer {
  return createHmac('sha256', secret).update(canonical, 'utf8').digest();
}

export function signHmac(secret: Buffer | string, canonical: string): string {
  // An empty key would still "work" and silently make every MAC forgeable.
  if (secret.length === 0) throw new TypeError('signHmac: empty secret');
  return `v1=${hmacBytes(secret, canonical).toString('hex')}`;
}

export function verifyHmac(secret: Buffer | string, canonical: string, mac: Buffer): boolean {
  if (secret.length === 0) return false;
  const expected = hmacBytes(secret, canonical);
  // timingSafeEqual throws on length mismatch; the length (32) is public so checking it first leaks nothing.
  if (mac.length !== expected.length) return false;
  return timingSafeEqual(expected, mac);
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

export function signEs256(privateKeyPem: string | KeyObject, canonical: string): string {
  const key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
  if (key.type !== 'private' || !isP256(key)) throw new TypeError('signEs256: expected a P-256 private key');
  const der = sign('sha256', Buffer.from(canonical, 'utf8'), { key, dsaEncoding: 'der' });
  return `es256=${der.toString('base64')}`;
}

export function verifyEs256(publicKeyPem: string | KeyObject, canonical: string, der: Buffer): boolean {
  // Network-facing: any failure (bad key, wrong curve, malformed DER) is simply "not verified".
  try {
    const key = typeof publicKeyPem === 'string' ? createPublicKey(publicKeyPem) : publicKeyPem;
    // Pin the algorithm to P-256 so a differently-typed stored key can't widen what we accept.
    if (!isP256(key)) return false;
    return verify('sha256', Buffer.from(canonical, 'utf8'), { key, dsaEncoding: 'der' }, der);
  } catch {
    return false;
  }
}

export function deviceHeaders(opts: {
  deviceUuid: string;
  method: string;
  pathAndQuery: string;
  body?: Uint8Array;
  nowS: number;
  secret?: Buffer | string;
  privateKeyPem?: string | KeyObject;
}): Record<string, string> {
  if ((opts.secret === undefined) === (opts.privateKeyPem === undefined)) {
    throw new TypeError('deviceHeaders: exactly one of secret / privateKeyPem is required');
  }
  // Fail on the hub rather than send something central is guaranteed to reject.
  if (!UUID_RE.test(opts.deviceUuid)) throw new TypeError('deviceHeaders: deviceUuid is not a UUID');
  if (!Number.isFinite(opts.nowS) || opts.nowS < 0) throw new TypeError('deviceHeaders: bad nowS');
  const timestamp = String(Math.floor(opts.nowS));
  const canonical = canonicalString(opts.method, opts.pathAndQuery, timestamp, opts.body ?? new Uint8Array(0));
  const signature =
    opts.secret !== undefined ? signHmac(opts.secret, canonical) : signEs256(opts.privateKeyPem!, canonical);
  return { [HEADER_DEVICE]: opts.deviceUuid, [HEADER_TIMESTAMP]: timestamp, [HEADER_SIGNATURE]: signature };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  // Own properties only: a header object must not pick values up from its prototype.
  const value: unknown = Object.hasOwn(headers, name) ? headers[name] : undefined;
  if (value === undefined || value === '') throw new SignatureError('missing_header', `missing ${name}`);
  // A repeated header is ambiguous (which one was signed?), so refuse rather than pick one.
  if (Array.isArray(value)) throw new SignatureError('duplicate_header', `${name} given more than once`);
  if (typeof value !== 'string') throw new SignatureError('missing_header', `missing ${name}`);
  return value;
}

/**
 * Strictly parse the three signing headers. Throws only SignatureError. The timestamp is validated
 * for form only: hub clocks can be far off, so skew is the caller's to record, not a reason to refuse.
 * `timestampRaw` is what must go into the canonical string (it is what the hub signed).
 * `deviceUuid` is returned lower-cased.
 */
export function parseSignatureHeaders(headers: Record<string, string | string[] | undefined>): {
  deviceUuid: string;
  timestamp: number;
  timestampRaw: string;
  signature: ParsedSignature;
} {
  if (typeof headers !== 'object' || headers === null) throw new SignatureError('missing_header');
  const device = header(headers, HEADER_DEVICE);
  const timestampRaw = header(headers, HEADER_TIMESTAMP);
  const sig = header(headers, HEADER_SIGNATURE);

  if (device.length > 36 || !UUID_RE.test(device)) throw new SignatureError('bad_device_id');
  if (!TIMESTAMP_RE.test(timestampRaw)) throw new SignatureError('bad_timestamp');
  if (sig.length > MAX_SIGNATURE_HEADER) throw new SignatureError('bad_signature_format', 'signature too long');

  let signature: ParsedSignature;
  if (sig.startsWith('v1=')) {
    const hex = sig.slice(3);
    if (!HEX64_RE.test(hex)) throw new SignatureError('bad_signature_format', 'v1 needs 64 hex chars');
    signature = { scheme: 'v1', mac: Buffer.from(hex, 'hex') };
  } else if (sig.startsWith('es256=')) {
    const b64 = sig.slice(6);
    if (b64.length === 0 || !BASE64_RE.test(b64)) throw new SignatureError('bad_signature_format', 'bad base64');
    const der = Buffer.from(b64, 'base64');
    // Reject non-canonical encodings (stray trailing bits) so one signature has one spelling.
    if (der.toString('base64') !== b64) throw new SignatureError('bad_signature_format', 'non-canonical base64');
    if (der.length < MIN_DER || der.length > MAX_DER) throw new SignatureError('bad_signature_format', 'bad length');
    signature = { scheme: 'es256', der };
  } else {
    throw new SignatureError('bad_signature_format', 'unknown signature scheme');
  }
  return { deviceUuid: device.toLowerCase(), timestamp: Number(timestampRaw), timestampRaw, signature };
}
