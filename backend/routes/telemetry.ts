import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { authorizeDevice } from '../http/guard.js';
import { errors, ident, params } from '../http/schemas.js';
import { aggregateReadings, listReadings, type ReadingFilter } from '../store/telemetry.js';

const BUCKET = /^(\d{1,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

interface Query {
  component_type?: string;
  component_id?: string;
  metric?: string;
  start?: string;
  end?: string;
  limit: number;
  cursor?: string;
  bucket?: string;
}

/** ISO 8601 or epoch ms (§4.3), or a 400 naming the parameter. */
function instant(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw badRequest(`${name}: not an ISO 8601 time or epoch milliseconds`);
  return ms;
}

/** Opaque keyset cursors: the last row's sort key, base64url. */
const encode = (parts: (string | number)[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
function decode(cursor: string | undefined, shape: ('number' | 'string')[]): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parts) && parts.length === shape.length && parts.every((p, i) => typeof p === shape[i]))
      return parts as (string | number)[];
  } catch {
    // falls through to the error below
  }
  throw badRequest('cursor: not one this API issued');
}

/**
 * `GET /api/devices/{id}/telemetry` (§4.3): a device's readings, filtered, in time order, a page at a
 * time (keyset cursor on time and seq, so pages never skip or repeat rows while new ones arrive);
 * with `bucket`, min/avg/max/count per bucket, component and metric.
 */
export function telemetryRoutes(app: FastifyInstance, ctx: CentralContext): void {
  app.get<{ Params: { device_id: number }; Querystring: Query }>(
    '/api/devices/:device_id/telemetry',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['telemetry'],
        description:
          'Readings of a device (owner, viewer): filters, `limit` (≤ 10000), `cursor` from the previous page, optional `bucket` aggregation (e.g. 5m, 1h, 1d).',
        security: [{ bearer: [] }],
        params: params('device_id'),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            component_type: ident(),
            component_id: ident(),
            metric: ident(),
            start: { type: 'string', maxLength: 40 },
            end: { type: 'string', maxLength: 40 },
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 },
            cursor: { type: 'string', maxLength: 512 },
            bucket: { type: 'string', pattern: BUCKET.source, maxLength: 8 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'array', items: { type: 'object', additionalProperties: true } },
              next_cursor: { type: ['string', 'null'] },
            },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner', 'viewer']);
      const q = request.query;
      const start = instant('start', q.start);
      const end = instant('end', q.end);
      const filter: ReadingFilter = {
        ...(q.component_type ? { componentType: q.component_type } : {}),
        ...(q.component_id ? { componentId: q.component_id } : {}),
        ...(q.metric ? { metric: q.metric } : {}),
        ...(start !== undefined ? { start } : {}),
        ...(end !== undefined ? { end } : {}),
      };

      if (q.bucket) {
        const [, n, unit] = BUCKET.exec(q.bucket)!;
        const width = Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
        if (width === 0) throw badRequest('bucket: must be longer than zero');
        const after = decode(q.cursor, ['number', 'string', 'string']) as [number, string, string] | undefined;
        const { items, more } = await aggregateReadings(ctx.db, device_id, filter, width, {
          limit: q.limit,
          ...(after ? { after: { bucketStart: after[0], componentId: after[1], metric: after[2] } } : {}),
        });
        const last = items.at(-1);
        return {
          items: items.map((r) => ({ ...r, bucket_start: new Date(r.bucket_start).toISOString() })),
          next_cursor: more && last ? encode([last.bucket_start, last.component_id ?? '', last.metric ?? '']) : null,
        };
      }

      const after = decode(q.cursor, ['number', 'number']) as [number, number] | undefined;
      const { items, more } = await listReadings(ctx.db, device_id, filter, {
        limit: q.limit,
        ...(after ? { after: { ts: after[0], seq: after[1] } } : {}),
      });
      const last = items.at(-1);
      return {
        items: items.map((r) => ({
          ts: new Date(r.ts).toISOString(),
          component_type: r.component_type,
          component_id: r.component_id,
          metric: r.metric,
          value: r.value,
        })),
        next_cursor: more && last ? encode([last.ts, last.seq]) : null,
      };
    },
  );
}
