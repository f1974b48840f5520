import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalString, verifyHmac } from '../../sync/device-signing.js';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
}

/**
 * A webhook receiver on a free loopback port: records every POST and answers with the next status of
 * `answers` (then 200). `verify(secret, r)` checks a delivery's signature as a receiver would.
 */
export async function webhookReceiver(answers: number[] = []) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        /* recorded as is */
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, json });
      res.statusCode = answers.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function verifyDelivery(secret: string, r: Received): boolean {
  const sig = String(r.headers['x-ares-signature'] ?? '');
  const ts = String(r.headers['x-ares-timestamp'] ?? '');
  if (!sig.startsWith('v1=')) return false;
  const canonical = canonicalString('POST', r.path, ts, Buffer.from(r.body, 'utf8'));
  return verifyHmac(secret, canonical, Buffer.from(sig.slice(3), 'hex'));
}
