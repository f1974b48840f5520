import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { canonicalString, signHmac } from '../../sync/device-signing.js';
import { isPrivateAddress } from './webhook-url.js';

/** What one delivery attempt came to. `permanent`: retrying cannot help (the receiver refused it). */
export interface WebhookResult {
  ok: boolean;
  status?: number;
  error?: string;
  permanent: boolean;
  /** Cut short by the caller's signal (central stopping): no answer from the receiver was had. */
  aborted?: boolean;
}

/**
 * The headers that let a receiver check a delivery came from central, signed like device requests
 * (§4.5) with the webhook's secret: `canonical = POST \n path?query \n timestamp \n sha256(body)`.
 */
export function webhookHeaders(
  url: URL,
  body: string,
  secret: string,
  nowMs: number,
  extra: { event: string; delivery: string },
): Record<string, string> {
  const ts = String(Math.floor(nowMs / 1000));
  const canonical = canonicalString('POST', `${url.pathname}${url.search}`, ts, Buffer.from(body, 'utf8'));
  return {
    'content-type': 'application/json',
    'user-agent': 'ares-central-webhooks',
    'x-ares-event': extra.event,
    'x-ares-delivery': extra.delivery,
    'x-ares-timestamp': ts,
    'x-ares-signature': signHmac(secret, canonical),
  };
}

/**
 * A DNS lookup that refuses private addresses: the check happens on the address actually connected
 * to, so a name that resolves differently at delivery than at registration (DNS rebinding) is
 * caught too.
 */
function publicOnlyLookup(): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => isPrivateAddress(a.address));
      if (bad) {
        const e = Object.assign(new Error(`${hostname} resolves to a private address (${bad.address})`), {
          code: 'ARES_PRIVATE_ADDRESS',
        });
        return callback(e, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** Status codes worth retrying: the receiver is busy or broken for now. */
const TRANSIENT = new Set([408, 425, 429]);

/**
 * POSTs one signed JSON body. Redirects are not followed (a redirect could lead anywhere, past the
 * address check); the response body is read (at most 4 KiB kept) and dropped.
 */
export function postWebhook(
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal },
): Promise<WebhookResult> {
  return new Promise((resolve) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivate && isPrivateAddress(host)) {
      resolve({ ok: false, error: `${host} is a private address`, permanent: true });
      return;
    }
    let settled = false;
    const done = (r: WebhookResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: opts.timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.allowPrivate ? {} : { lookup: publicOnlyLookup() }),
      },
      (res: IncomingMessage) => {
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          kept += chunk.length;
          if (kept > 4096) res.destroy();
        });
        const finish = () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) done({ ok: true, status, permanent: false });
          else if (status >= 300 && status < 400)
            done({ ok: false, status, error: 'redirects are not followed', permanent: true });
          else
            done({
              ok: false,
              status,
              error: `HTTP ${status}`,
              permanent: status < 500 && !TRANSIENT.has(status),
            });
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err: Error & { code?: string }) =>
      done({
        ok: false,
        error: err.message.slice(0, 500),
        permanent: err.code === 'ARES_PRIVATE_ADDRESS',
        ...(opts.signal?.aborted ? { aborted: true } : {}),
      }),
    );
    req.end(body);
  });
}
