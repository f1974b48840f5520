import type { KeyObject } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { AresError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { deviceHeaders } from '../../sync/device-signing.js';

export interface CentralResponse {
  status: number;
  headers: IncomingHttpHeaders;
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
 *
 * Built on node:http/https rather than undici (ARCHITECTURE §3's client): undici costs ~10 MB of
 * resident memory a Pi Zero 2 W can use better. Node's global agents keep connections alive
 * (Node ≥ 19), so the uploader's batch after batch reuses one connection.
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
    opts: { gzip?: boolean } = {},
  ): Promise<CentralResponse> {
    // A RawJson body is sent as it is (already serialised by the caller).
    const plain =
      json === undefined
        ? Buffer.alloc(0)
        : json instanceof RawJson
          ? Buffer.from(json.text)
          : Buffer.from(JSON.stringify(json));
    // Signed over the bytes as sent: the gzip bytes when compressed (§4.5).
    const body = opts.gzip && plain.length > 0 ? gzipSync(plain) : plain;
    if (body !== plain) extraHeaders = { ...extraHeaders, 'content-encoding': 'gzip' };
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
    const headers = {
      ...signed,
      ...extraHeaders,
      ...(body.length > 0 ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
    };
    const { status, resHeaders, raw } = await new Promise<{
      status: number;
      resHeaders: IncomingHttpHeaders;
      raw: Buffer;
    }>((resolve, reject) => {
      const unavailable = (why: string, cause?: unknown) =>
        reject(
          new AresError('ARES_ERR_UNAVAILABLE', `central unreachable at ${url.origin}: ${why}`, {
            transient: true,
            cause,
          }),
        );
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        { method, headers, timeout: TIMEOUT_MS, ...(this.signal ? { signal: this.signal } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy();
              unavailable(`answer to ${method} ${path} is larger than ${MAX_RESPONSE_BYTES} bytes`);
            } else chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, resHeaders: res.headers, raw: Buffer.concat(chunks) }),
          );
          res.on('error', (err) => unavailable(err.message, err));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', (err) => unavailable(err.message, err));
      req.end(body);
    });
    let parsed: unknown;
    if (raw.length > 0) {
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new AresError(
          'ARES_ERR_UNAVAILABLE',
          `central answered ${method} ${path} with ${status} and a body that is not JSON`,
          { transient: true },
        );
      }
    }
    return { status, headers: resHeaders, body: parsed };
  }
}

/** A JSON body serialised by the caller (the uploader splices stored records into its batch). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** `{"error":{"code"}}` of a central error response, if that is what it is. */
export function errorCode(res: CentralResponse): string | undefined {
  const code = (res.body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}
