import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { AresError, isAresError } from '../../core/errors.js';
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
        // Thrown out of the connect as is: undici hands it to the request, which reports it permanent.
        const e = new AresError('ARES_ERR_FORBIDDEN', `${hostname} resolves to a private address (${bad.address})`);
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

/** Of a receiver's answer body only this much is read; past it the connection is closed rather than read through. */
const MAX_ANSWER_BYTES = 4096;

export interface WebhookSenderOptions {
  /** The whole exchange (connect, send, answer) must end within this. */
  timeoutMs: number;
  /** `central.webhook_allow_private`: loopback and private addresses may be called. */
  allowPrivate: boolean;
}

/** Delivers webhooks over kept-alive connections; close() ends them. */
export interface WebhookSender {
  /** Never throws: a failure is a result. `signal` cuts the POST short (result `aborted`). */
  post(url: URL, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<WebhookResult>;
  close(): Promise<void>;
}

/**
 * A webhook sender over its own undici Agent: connections to a receiver are kept alive and reused
 * from one delivery to the next. Unless private addresses are allowed, every connection resolves its
 * host through publicOnlyLookup (undici hands `connect` options to net/tls.connect), so the address
 * checked is the address connected to.
 */
export function webhookSender(opts: WebhookSenderOptions): WebhookSender {
  const agent = new Agent({
    connect: { timeout: opts.timeoutMs, ...(opts.allowPrivate ? {} : { lookup: publicOnlyLookup() }) },
  });
  return {
    post: (url, body, headers, signal) => post(agent, opts, url, body, headers, signal),
    close: () => agent.close(),
  };
}

/** One delivery on a connection of its own, closed afterwards (a one-off send; a worker keeps a sender). */
export async function postWebhook(
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: WebhookSenderOptions & { signal?: AbortSignal },
): Promise<WebhookResult> {
  const sender = webhookSender(opts);
  try {
    return await sender.post(url, body, headers, opts.signal);
  } finally {
    await sender.close();
  }
}

/**
 * POSTs one signed JSON body. Redirects are not followed (a redirect could lead anywhere, past the
 * address check; undici's request follows none); the answer body is read (at most 4 KiB) and dropped.
 */
async function post(
  agent: Agent,
  opts: WebhookSenderOptions,
  url: URL,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<WebhookResult> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An address literal is never looked up, so the lookup's check would not see it.
  if (!opts.allowPrivate && isPrivateAddress(host))
    return { ok: false, error: `${host} is a private address`, permanent: true };
  // One deadline for the whole exchange, so a delivery ends well within its lease (webhook_timeout_ms
  // + 30 s): undici's own timeouts are per phase and would add up.
  const cut = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    cut.abort(new Error(`no answer within ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  const stop = () => cut.abort(signal?.reason);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    const res = await request(url, { dispatcher: agent, method: 'POST', headers, body, signal: cut.signal });
    // The answer came: it decides, even if reading its body is cut short (an answer received just
    // before central stops is recorded, not handed back). Read through, the connection is reused.
    await res.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => undefined);
    return resultOf(res.statusCode);
  } catch (err) {
    if (signal?.aborted) return { ok: false, error: errorText(err), permanent: false, aborted: true };
    if (timedOut) return { ok: false, error: `no answer within ${opts.timeoutMs} ms`, permanent: false };
    // Our own refusal (a private address) is final; network trouble is worth another try.
    return { ok: false, error: errorText(err), permanent: isAresError(err) && !err.transient };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
}

function resultOf(status: number): WebhookResult {
  if (status >= 200 && status < 300) return { ok: true, status, permanent: false };
  if (status >= 300 && status < 400) return { ok: false, status, error: 'redirects are not followed', permanent: true };
  return { ok: false, status, error: `HTTP ${status}`, permanent: status < 500 && !TRANSIENT.has(status) };
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}
