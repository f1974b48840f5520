import type { FastifyInstance } from 'fastify';
import { forbidden, rateLimited } from '../../core/errors.js';
import {
  isBootId,
  recordProblem,
  toRanges,
  type SyncAnswer,
  type SyncBatch,
  type SyncRecord,
} from '../../sync/records.js';
import type { CentralContext } from '../context.js';
import { errors, uuid } from '../http/schemas.js';
import { syncedComponents } from '../mqtt/synced-state.js';
import { queueAlertNotifications } from '../notify/queue.js';
import { storeAlertRecords } from '../store/alerts.js';
import { storeRecords } from '../store/telemetry.js';

/** Records one batch may carry; the hub sends fewer (it batches by bytes too). */
export const MAX_RECORDS_PER_BATCH = 5000;
/** Batches per device per second: a hub drains a backlog in a few large batches, not a flood. */
const BATCHES_PER_S = 20;

/**
 * `POST /api/sync/batches` (§4.5). The signature was checked over the raw bytes before the body was
 * parsed (http/body.ts, bounded gunzip). Each record is checked on its own: the valid ones are
 * stored once by (device, seq) in one transaction and acknowledged as ranges; the invalid ones are
 * rejected individually, for the hub to dead-letter. A clock that was not synchronised is repaired
 * from the batch's monotonic send time: central's receive time minus how long before the send the
 * record was made.
 */
export function syncRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const recordsTotal = ctx.metrics.syncRecords;
  app.post<{ Body: SyncBatch }>(
    '/api/sync/batches',
    {
      config: { auth: 'device' },
      schema: {
        tags: ['sync'],
        description:
          'Store-and-forward upload (§4.5): signed, gzip allowed; answers acked seq ranges and rejected records.',
        security: [{ device: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['device_uuid', 'boot_id', 'records'],
          properties: {
            device_uuid: uuid,
            boot_id: { type: 'string', maxLength: 64 },
            sent_mono_ms: { type: 'integer', minimum: 0 },
            // Each record is checked by recordProblem(), so one bad record does not fail the batch.
            records: { type: 'array', maxItems: MAX_RECORDS_PER_BATCH, items: {} },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              acked: { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
              rejected: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { seq: { type: 'integer' }, code: { type: 'string' }, reason: { type: 'string' } },
                },
              },
            },
          },
          ...errors(400, 401, 403, 413, 429),
        },
      },
    },
    async (request): Promise<SyncAnswer> => {
      const device = request.device!;
      const body = request.body;
      if (body.device_uuid.toLowerCase() !== device.deviceUuid)
        throw forbidden('device_uuid is not the device that signed the request');
      const rate = await ctx.counters.increment(`sync:${device.id}`, 1);
      if (rate.count > BATCHES_PER_S) throw rateLimited('too many sync batches; slow down', rate.retryAfterS);
      const now = ctx.clock.now();
      const bootOk = isBootId(body.boot_id);
      const accepted: { record: SyncRecord; ts: number }[] = [];
      const rejected: SyncAnswer['rejected'] = [];
      const seen = new Set<number>();
      for (const raw of body.records) {
        const seq = (raw as { seq?: unknown } | null)?.seq;
        const problem = recordProblem(raw);
        if (problem) {
          if (Number.isSafeInteger(seq)) rejected.push({ seq: seq as number, ...problem });
          continue;
        }
        const r = raw as SyncRecord;
        if (seen.has(r.seq)) continue; // twice in one batch: stored once, acked once
        seen.add(r.seq);
        accepted.push({ record: r, ts: repairedTs(r, body, bootOk, now) });
      }
      await storeRecords(ctx.db.kysely, device.id, accepted, now, ctx.telemetry);
      if (accepted.some((a) => a.record.lane === 'alert')) {
        const changes = await storeAlertRecords(
          ctx.db,
          { id: device.id, uuid: device.deviceUuid },
          accepted,
          now,
          (trx, c) => queueAlertNotifications(trx, c, now),
        );
        if (changes.length > 0) {
          ctx.bus.emit('alerts.changed', { deviceUuid: device.deviceUuid });
          ctx.bus.emit('notify.queued', {});
        }
      }
      const components = syncedComponents(accepted.map((a) => a.record));
      if (Object.keys(components).length > 0)
        ctx.bus.emit('sync.stored', { deviceUuid: device.deviceUuid, components });
      recordsTotal.inc({ result: 'stored' }, accepted.length);
      if (rejected.length > 0) {
        recordsTotal.inc({ result: 'rejected' }, rejected.length);
        request.log.warn({ device_uuid: device.deviceUuid, rejected: rejected.slice(0, 5) }, 'sync records rejected');
      }
      return { acked: toRanges(accepted.map((a) => a.record.seq)), rejected };
    },
  );
}

/** A synchronised clock is trusted; otherwise the time is rebuilt from the monotonic clock of this boot. */
function repairedTs(r: SyncRecord, batch: SyncBatch, bootOk: boolean, now: number): number {
  if (r.clock_synced || !bootOk || batch.sent_mono_ms === undefined || r.mono_ms > batch.sent_mono_ms) return r.ts;
  return now - (batch.sent_mono_ms - r.mono_ms);
}
