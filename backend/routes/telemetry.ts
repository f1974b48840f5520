import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { badRequest } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { authorizeDevice } from '../http/guard.js';
import { errors, ident, params } from '../http/schemas.js';

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
      let base = ctx.db.kysely
        .selectFrom('telemetry_data')
        .where('device_id', '=', device_id)
        .where('type', '=', 'reading');
      if (q.component_type) base = base.where('component_type', '=', q.component_type);
      if (q.component_id) base = base.where('component_id', '=', q.component_id);
      if (q.metric) base = base.where('metric', '=', q.metric);
      if (start !== undefined) base = base.where('ts', '>=', start);
      if (end !== undefined) base = base.where('ts', '<', end);

      if (q.bucket) {
        const [, n, unit] = BUCKET.exec(q.bucket)!;
        const width = Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
        if (width === 0) throw badRequest('bucket: must be longer than zero');
        // Integer division in both dialects; the width is inlined (a validated integer) so that the
        // SELECT and GROUP BY expressions are the same text for PostgreSQL.
        const w = sql.lit(width);
        const bucketStart = sql<number>`cast(ts / ${w} as bigint) * ${w}`;
        const after = decode(q.cursor, ['number', 'string', 'string']);
        let agg = base
          .select([
            bucketStart.as('bucket_start'),
            'component_id',
            'metric',
            (eb) => eb.fn.min<number>('value').as('min'),
            (eb) => eb.fn.avg<number>('value').as('avg'),
            (eb) => eb.fn.max<number>('value').as('max'),
            (eb) => eb.fn.countAll<number>().as('count'),
          ])
          .groupBy([bucketStart, 'component_id', 'metric'])
          .orderBy('bucket_start')
          .orderBy('component_id')
          .orderBy('metric')
          .limit(q.limit + 1);
        if (after) {
          const [b, c, m] = after as [number, string, string];
          agg = agg.having(
            sql<boolean>`(${bucketStart} > ${b} or (${bucketStart} = ${b} and (component_id > ${c} or (component_id = ${c} and metric > ${m}))))`,
          );
        }
        const rows = await agg.execute();
        const page = rows.slice(0, q.limit);
        const last = page.at(-1);
        return {
          items: page.map((r) => ({
            bucket_start: new Date(Number(r.bucket_start)).toISOString(),
            component_id: r.component_id,
            metric: r.metric,
            min: Number(r.min),
            avg: Number(r.avg),
            max: Number(r.max),
            count: Number(r.count),
          })),
          next_cursor:
            rows.length > q.limit && last
              ? encode([Number(last.bucket_start), last.component_id ?? '', last.metric ?? ''])
              : null,
        };
      }

      const after = decode(q.cursor, ['number', 'number']);
      let raw = base
        .select(['ts', 'seq', 'component_type', 'component_id', 'metric', 'value'])
        .orderBy('ts')
        .orderBy('seq')
        .limit(q.limit + 1);
      if (after) {
        const [ts, seq] = after as [number, number];
        raw = raw.where((eb) => eb.or([eb('ts', '>', ts), eb.and([eb('ts', '=', ts), eb('seq', '>', seq)])]));
      }
      const rows = await raw.execute();
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => ({
          ts: new Date(Number(r.ts)).toISOString(),
          component_type: r.component_type,
          component_id: r.component_id,
          metric: r.metric,
          value: r.value === null ? null : Number(r.value),
        })),
        next_cursor: rows.length > q.limit && last ? encode([Number(last.ts), Number(last.seq)]) : null,
      };
    },
  );
}
