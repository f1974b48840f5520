import type { FastifyInstance } from 'fastify';
import { notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { errors, ident, text } from '../http/schemas.js';
import {
  addComponentType,
  listComponentTypes,
  removeComponentType,
  updateComponentType,
  type ComponentType,
} from '../store/catalog.js';

const bearer = [{ bearer: [] }];
const category = { type: 'string', enum: ['sensor', 'actuator', 'internal_module'] } as const;
const metadata = { type: 'object', maxProperties: 64 } as const;
const componentFields = {
  display_name: text(128),
  category,
  description: { ...text(2000, 0) },
  component_metadata: metadata,
  telemetry_category: { ...ident(64) },
} as const;
const componentOut = {
  type: 'object',
  properties: {
    component_type: { type: 'string' },
    display_name: { type: 'string' },
    category: { type: 'string' },
    description: { type: ['string', 'null'] },
    component_metadata: { type: ['object', 'null'], additionalProperties: true },
    telemetry_category: { type: ['string', 'null'] },
  },
} as const;

interface ComponentBody {
  component_type: string;
  display_name: string;
  category: ComponentType['category'];
  description?: string;
  component_metadata?: Record<string, unknown>;
  telemetry_category?: string;
}

/** The component catalog (seed §5.5): what kinds of parts a hub can have. Reads: any user; writes: admins. */
export function componentCatalogRoutes(app: FastifyInstance, ctx: CentralContext): void {
  app.get(
    '/api/components',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        response: { 200: { type: 'array', items: componentOut }, ...errors(401) },
      },
    },
    async () => listComponentTypes(ctx.db),
  );

  app.post<{ Body: ComponentBody }>(
    '/api/components',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['component_type', 'display_name', 'category'],
          properties: { component_type: ident(64), ...componentFields },
        },
        response: { 201: componentOut, ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const added = await addComponentType(ctx.db, {
        component_type: b.component_type,
        display_name: b.display_name,
        category: b.category,
        description: b.description ?? null,
        component_metadata: b.component_metadata ?? null,
        telemetry_category: b.telemetry_category ?? null,
      });
      return reply.status(201).send(added);
    },
  );

  app.put<{ Params: { component_type: string }; Body: Partial<Omit<ComponentBody, 'component_type'>> }>(
    '/api/components/:component_type',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: { type: 'object', required: ['component_type'], properties: { component_type: ident(64) } },
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: componentFields },
        response: { 200: componentOut, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const updated = await updateComponentType(ctx.db, request.params.component_type, request.body);
      if (!updated) throw notFound('component type');
      return updated;
    },
  );

  app.delete<{ Params: { component_type: string } }>(
    '/api/components/:component_type',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: { type: 'object', required: ['component_type'], properties: { component_type: ident(64) } },
        response: { 204: { type: 'null' }, ...errors(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      if (!(await removeComponentType(ctx.db, request.params.component_type))) throw notFound('component type');
      return reply.status(204).send();
    },
  );
}
