import type { FastifyInstance } from 'fastify';
import { notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { errors, id, ident, text } from '../http/schemas.js';
import { addPinRule, listPinRules, removePinRule, updatePinRule } from '../store/pin-rules.js';

const bearer = [{ bearer: [] }];
const pinRuleFields = {
  hardware_version: ident(32),
  hardware_variant: ident(64),
  component_type: ident(64),
  pin_number: { type: 'integer', minimum: 0, maximum: 1023 },
  pin_mode: { type: 'string', enum: ['IN', 'OUT', 'PWM'] },
  default_state: { ...ident(16) },
  description: { ...text(2000, 0) },
  shareable: { type: 'boolean' },
} as const;
const pinRuleOut = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ...Object.fromEntries(Object.keys(pinRuleFields).map((k) => [k, {}])),
  },
} as const;

interface PinRuleBody {
  hardware_version: string;
  hardware_variant: string;
  component_type: string;
  pin_number: number;
  pin_mode?: string;
  default_state?: string;
  description?: string;
  shareable?: boolean;
}

/** Pin rules per board and variant (seed §5.5): which GPIO pins each component type may use. */
export function pinRuleRoutes(app: FastifyInstance, ctx: CentralContext): void {
  app.get<{ Params: { hardware_version: string }; Querystring: { hardware_variant?: string } }>(
    '/api/device-configs/:hardware_version',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        description: 'Pin rules for a board (e.g. 4B), optionally for one hardware_variant.',
        security: bearer,
        params: { type: 'object', required: ['hardware_version'], properties: { hardware_version: ident(32) } },
        querystring: { type: 'object', properties: { hardware_variant: ident(64) } },
        response: { 200: { type: 'array', items: pinRuleOut }, ...errors(400, 401) },
      },
    },
    async (request) => listPinRules(ctx.db, request.params.hardware_version, request.query.hardware_variant),
  );

  app.post<{ Body: PinRuleBody }>(
    '/api/device-configs',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['hardware_version', 'hardware_variant', 'component_type', 'pin_number'],
          properties: pinRuleFields,
        },
        response: { 201: pinRuleOut, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => reply.status(201).send(await addPinRule(ctx.db, request.body)),
  );

  app.put<{ Params: { config_id: number }; Body: Partial<PinRuleBody> }>(
    '/api/device-configs/:config_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: { type: 'object', required: ['config_id'], properties: { config_id: id } },
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: pinRuleFields },
        response: { 200: pinRuleOut, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const rule = await updatePinRule(ctx.db, request.params.config_id, request.body);
      if (!rule) throw notFound('pin rule');
      return rule;
    },
  );

  app.delete<{ Params: { config_id: number } }>(
    '/api/device-configs/:config_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: { type: 'object', required: ['config_id'], properties: { config_id: id } },
        response: { 204: { type: 'null' }, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      if (!(await removePinRule(ctx.db, request.params.config_id))) throw notFound('pin rule');
      return reply.status(204).send();
    },
  );
}
