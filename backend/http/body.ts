import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AresError } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { verifyDeviceRequest } from './device-auth.js';

/**
 * The JSON body parser. It receives the raw bytes, so device signatures are checked over exactly
 * what was sent (gzip bytes if gzipped) before any parsing; then it inflates (bounded, against
 * gzip bombs) and parses with fastify's prototype-poisoning-safe JSON parser.
 */
export function registerJsonParser(app: FastifyInstance, ctx: CentralContext): void {
  const limit = ctx.config.central.body_limit_kb * 1024;
  const parseJson = app.getDefaultJsonParser('error', 'error');

  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: limit },
    async (request: FastifyRequest, raw: Buffer) => {
      const auth = request.routeOptions.config.auth;
      if (auth === 'device' || (auth === 'user_or_device' && request.headers['x-ares-signature'] !== undefined)) {
        request.device = await verifyDeviceRequest(ctx, request, raw, 'hmac');
      } else if (auth === 'device_key') {
        request.device = await verifyDeviceRequest(ctx, request, raw, 'es256');
      }
      const text = decode(request, raw, limit * 8).toString('utf8');
      return new Promise((resolve, reject) => {
        // fastify's parser answers through the callback (its type also allows a promise, never returned here).
        void parseJson(request, text, (err, value) => (err ? reject(err) : resolve(value)));
      });
    },
  );
}

function decode(request: FastifyRequest, raw: Buffer, maxInflated: number): Buffer {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return raw;
  if (encoding !== 'gzip')
    throw new AresError('ARES_ERR_BAD_REQUEST', `unsupported content-encoding ${encoding.slice(0, 32)}`);
  try {
    return gunzipSync(raw, { maxOutputLength: maxInflated });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new AresError('ARES_ERR_PAYLOAD_TOO_LARGE', 'gzip body inflates beyond the size limit');
    }
    throw new AresError('ARES_ERR_BAD_REQUEST', 'gzip body is corrupt');
  }
}
