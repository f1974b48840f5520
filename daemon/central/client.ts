import type { KeyObject } from 'node:crypto';
import { request } from 'undici';
import { AresError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { deviceHeaders } from '../../sync/device-signing.js';

export interface CentralResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

export type Signer = { secret: string } | { privateKey: KeyObject };

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const TIMEOUT_MS = 15_000;

/**
 * The hub's HTTP client for central: every request is signed over its exact bytes (§4.5). Network
 * trouble becomes a transient ARES_ERR_UNAVAILABLE; HTTP statuses are returned for the caller to
 * decide (401 means "credentials revoked", 409 not_claimed means "keep waiting").
 */
export class CentralClient {
  constructor(
    private readonly baseUrl: string,
    private readonly deviceUuid: string,
    private readonly clock: Clock,
    /** Aborts in-flight requests when the daemon stops. */
    private readonly signal?: AbortSignal,
  ) {}

  async send(
    method: 'GET' | 'POST',
    path: string,
    signer: Signer | undefined,
    json?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<CentralResponse> {
    const body = json === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(json));
    const signed = signer
      ? deviceHeaders({
          deviceUuid: this.deviceUuid,
          method,
          pathAndQuery: path,
          body,
          nowS: Math.floor(this.clock.now() / 1000),
          ...('secret' in signer ? { secret: signer.secret } : { privateKeyPem: signer.privateKey }),
        })
      : {};
    const url = new URL(path, this.baseUrl);
    let res;
    try {
      res = await request(url, {
        method,
        headers: { ...signed, ...extraHeaders, ...(body.length > 0 ? { 'content-type': 'application/json' } : {}) },
        ...(body.length > 0 ? { body } : {}),
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (err) {
      throw new AresError('ARES_ERR_UNAVAILABLE', `central unreachable at ${url.origin}: ${(err as Error).message}`, {
        transient: true,
        cause: err,
      });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_RESPONSE_BYTES) {
        res.body.destroy();
        throw new AresError(
          'ARES_ERR_UNAVAILABLE',
          `central's answer to ${method} ${path} is larger than ${MAX_RESPONSE_BYTES} bytes`,
          { transient: true },
        );
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new AresError(
          'ARES_ERR_UNAVAILABLE',
          `central answered ${method} ${path} with ${res.statusCode} and a body that is not JSON`,
          { transient: true },
        );
      }
    }
    return { status: res.statusCode, headers: res.headers, body: parsed };
  }
}

/** `{"error":{"code"}}` of a central error response, if that is what it is. */
export function errorCode(res: CentralResponse): string | undefined {
  const code = (res.body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}
