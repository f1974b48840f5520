import type { FastifyInstance } from 'fastify';
import { conflict, notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { authorizeDevice, currentUser } from '../http/guard.js';
import { errors, params } from '../http/schemas.js';
import type { DeviceAlertsTable } from '../db/types.js';
import { FALL_TYPES, alertView, type AlertRow } from '../notify/events.js';
import { queueAlertNotifications } from '../notify/queue.js';
import { answerAlert, findAlert, listAlerts } from '../store/alerts.js';
import { queueCommand } from '../store/commands.js';
import { deviceUuidOf } from '../store/devices.js';

const alertSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string', enum: ['open', 'acknowledged', 'cancelled', 'resolved'] },
    ts: { type: 'string' },
    node_id: { type: ['string', 'null'] },
    component_id: { type: ['string', 'null'] },
    prob: { type: ['number', 'null'] },
    acknowledged_by: { type: ['string', 'null'] },
    cancelled_by: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
    escalations: { type: 'integer' },
    duplicates: { type: 'integer' },
  },
} as const;

const alertParams = {
  type: 'object',
  required: ['device_id', 'alert_id'],
  properties: {
    device_id: params('device_id').properties.device_id,
    alert_id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' },
  },
} as const;

/** The route's view of an alert: the shared row, with its escalation count rather than a round. */
const view = (r: AlertRow) => {
  const { escalation: _, ...rest } = alertView(r);
  return { ...rest, escalations: Number(r.escalations) };
};

/**
 * A hub's alerts (§4.3), for its owners and viewers: newest first; `ack` (a caregiver takes it) and
 * `cancel` ("I'm OK"). Both are idempotent for the state they set; a cancelled alert cannot be
 * acknowledged (409), an acknowledged one can still be cancelled.
 */
export function alertRoutes(app: FastifyInstance, ctx: CentralContext): void {
  app.get<{ Params: { device_id: number }; Querystring: { status?: DeviceAlertsTable['status']; limit: number } }>(
    '/api/devices/:device_id/alerts',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['alerts'],
        description: 'Fall and other alerts of a hub (owner, viewer), newest first.',
        security: [{ bearer: [] }],
        params: params('device_id'),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['open', 'acknowledged', 'cancelled', 'resolved'] },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: { 200: { type: 'array', items: alertSchema }, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner', 'viewer']);
      const { status, limit } = request.query;
      const rows = await listAlerts(ctx.db, device_id, { ...(status ? { status } : {}), limit });
      return rows.map(view);
    },
  );

  for (const action of ['ack', 'cancel'] as const)
    app.post<{ Params: { device_id: number; alert_id: string } }>(
      `/api/devices/:device_id/alerts/:alert_id/${action}`,
      {
        config: { auth: 'user' },
        schema: {
          tags: ['alerts'],
          description:
            action === 'ack'
              ? 'A caregiver takes the alert (owner, viewer).'
              : 'Cancel the alert: "I\'m OK" (owner, viewer).',
          security: [{ bearer: [] }],
          params: alertParams,
          response: { 200: alertSchema, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const { device_id, alert_id } = request.params;
        await authorizeDevice(ctx, request, device_id, ['owner', 'viewer']);
        const who = currentUser(request).email;
        const now = ctx.clock.now();
        const before = await findAlert(ctx.db, device_id, alert_id);
        if (!before) throw notFound('alert');
        if (action === 'ack' && before.status === 'cancelled') throw conflict('the alert was cancelled');
        if (before.status === 'resolved') throw conflict('the alert is resolved: detection is running again');
        const changed = await answerAlert(
          ctx.db,
          { deviceId: device_id, alertId: alert_id, action, by: who },
          now,
          (trx) =>
            queueAlertNotifications(
              trx,
              {
                deviceId: device_id,
                alertId: alert_id,
                event: action === 'ack' ? 'alert_acknowledged' : 'alert_cancelled',
                by: who,
              },
              now,
            ),
        );
        if (changed) {
          const uuid = await deviceUuidOf(ctx.db, device_id);
          ctx.bus.emit('alerts.changed', { deviceUuid: uuid });
          ctx.bus.emit('notify.queued', {});
          // "I'm OK" from the app silences the alarm in the home too (and clears the LAN alert).
          if (action === 'cancel' && (FALL_TYPES as readonly string[]).includes(before.type)) {
            try {
              const cancelAlert = {
                component_id: 'system',
                component_type: 'system',
                action: 'cancel_alert',
                payload: { value: { alert_id, by: who } },
              };
              ctx.bus.emit('command.queued', await queueCommand(ctx.db, device_id, cancelAlert, ctx.clock.now()));
            } catch (err) {
              request.log.warn({ err, device_id, alert_id }, 'the hub could not be told of the cancel');
            }
          }
        }
        request.log.info({ device_id, alert_id, action, by: who }, `alert ${action}`);
        return view((await findAlert(ctx.db, device_id, alert_id))!);
      },
    );
}
