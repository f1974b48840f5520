import type { FastifyInstance } from 'fastify';
import { badRequest, notFound, unprocessable } from '../../core/errors.js';
import { actionsFor } from '../../sync/component-actions.js';
import type { CentralContext } from '../context.js';
import { authorizeDevice, currentUser } from '../http/guard.js';
import { errors, id, ident, iso, params, text, uuid } from '../http/schemas.js';
import { findAttachedComponents } from '../store/attached-components.js';
import { findCommand, queueCommand } from '../store/commands.js';
import { recordDeviceAction } from '../store/devices.js';

const VALUE_MAX_BYTES = 1024;

interface CommandBody {
  component_id?: number;
  component_type?: string;
  action: string;
  value?: unknown;
  duration_s?: number;
}

/**
 * Commands (§4.3, §4.6): validated against the device's attached components and what each type's
 * driver accepts, stored, and published to `commands/{uuid}/{component_id}/{action}` at once if the
 * hub is connected or when it next connects (the `command.queued` event reaches the MQTT side).
 */
export function commandRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const bearer = [{ bearer: [] }];

  /** Stores the command and announces it, so the MQTT side delivers it (now or when the hub connects). */
  const queue = async (deviceId: number, c: Parameters<typeof queueCommand>[2]) => {
    const queued = await queueCommand(ctx.db, deviceId, c, ctx.clock.now());
    ctx.bus.emit('command.queued', queued);
    return queued.commandId;
  };

  app.post<{ Params: { device_id: number }; Body: CommandBody }>(
    '/api/devices/:device_id/command',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['commands'],
        description:
          'Name the component by component_id, or by component_type when the hub has exactly one of that type.',
        security: bearer,
        params: params('device_id'),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['action'],
          properties: {
            component_id: id,
            component_type: ident(64),
            action: ident(32),
            value: {},
            duration_s: { type: 'number', exclusiveMinimum: 0, maximum: 86400 },
          },
        },
        response: {
          202: { type: 'object', properties: { command_id: { type: 'string' } } },
          ...errors(400, 401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner']);
      const b = request.body;
      if (b.component_id === undefined && b.component_type === undefined)
        throw badRequest('give component_id or component_type');
      const matches = await findAttachedComponents(ctx.db, device_id, {
        ...(b.component_id !== undefined ? { id: b.component_id } : {}),
        ...(b.component_type !== undefined ? { componentType: b.component_type } : {}),
      });
      if (matches.length === 0) throw unprocessable('no such component on this hub');
      if (matches.length > 1)
        throw unprocessable(`this hub has ${matches.length} ${b.component_type} components: name one by component_id`);
      const component = matches[0]!;
      const actions = actionsFor(component.component_type);
      if (!actions.includes(b.action)) {
        throw unprocessable(
          actions.length
            ? `action ${b.action} is not one of ${actions.join(', ')} for ${component.component_type}`
            : `a ${component.component_type} takes no commands`,
        );
      }
      if (b.value !== undefined && Buffer.byteLength(JSON.stringify(b.value)) > VALUE_MAX_BYTES)
        throw badRequest(`value: larger than ${VALUE_MAX_BYTES} bytes`);
      const commandId = await queue(device_id, {
        component_id: String(component.id),
        component_type: component.component_type,
        action: b.action,
        payload: {
          ...(b.value !== undefined ? { value: b.value } : {}),
          ...(b.duration_s !== undefined ? { duration_s: b.duration_s } : {}),
        },
      });
      await recordDeviceAction(
        ctx.db,
        { userId: currentUser(request).id, ip: request.ip },
        'device.command',
        device_id,
        ctx.clock.now(),
        { command_id: commandId, component_id: component.id, action: b.action },
      );
      return reply.status(202).send({ command_id: commandId });
    },
  );

  app.get<{ Params: { device_id: number; command_id: string } }>(
    '/api/devices/:device_id/commands/:command_id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['commands'],
        security: bearer,
        params: {
          type: 'object',
          required: ['device_id', 'command_id'],
          properties: { device_id: id, command_id: uuid },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              command_id: { type: 'string' },
              status: { type: 'string' },
              result: {},
              created_at: { type: 'string' },
              updated_at: { type: 'string' },
            },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { device_id, command_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner']);
      const row = await findCommand(ctx.db, device_id, command_id);
      if (!row) throw notFound('command');
      // A queued command past its expiry is expired whether or not a sweep has marked it yet.
      const status = row.status === 'queued' && row.expires_at <= ctx.clock.now() ? 'expired' : row.status;
      return {
        command_id: row.id,
        status,
        ...('result' in row ? { result: row.result } : {}),
        created_at: iso(row.created_at),
        updated_at: iso(row.updated_at),
      };
    },
  );

  app.post<{ Params: { device_id: number }; Body: { ssid: string; password: string } }>(
    '/api/devices/:device_id/change-wifi',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['commands'],
        description:
          'Relayed to the hub as system/change_wifi; the hub keeps its previous network if the new one fails.',
        security: bearer,
        params: params('device_id'),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['ssid', 'password'],
          properties: { ssid: text(32), password: { type: 'string', maxLength: 63 } },
        },
        response: {
          202: { type: 'object', properties: { command_id: { type: 'string' } } },
          ...errors(400, 401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner']);
      const { ssid, password } = request.body;
      if (password.length > 0 && password.length < 8)
        throw unprocessable('password: WPA2 passphrases are 8–63 characters (empty for an open network)');
      const commandId = await queue(device_id, {
        component_id: 'system',
        component_type: 'system',
        action: 'change_wifi',
        payload: { value: { ssid, password } },
      });
      await recordDeviceAction(
        ctx.db,
        { userId: currentUser(request).id, ip: request.ip },
        'device.change_wifi',
        device_id,
        ctx.clock.now(),
        { command_id: commandId, ssid },
      );
      return reply.status(202).send({ command_id: commandId });
    },
  );
}
