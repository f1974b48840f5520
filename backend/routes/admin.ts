import type { FastifyInstance } from 'fastify';
import type { CentralContext } from '../context.js';
import type { CentralDb } from '../db/connect.js';
import { errors, id, iso } from '../http/schemas.js';
import { adminAlertPage, auditLogPage, type AdminPage } from '../store/audit.js';

const page = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    before_id: id,
    type: { type: 'string', maxLength: 64 },
  },
} as const;
type Page = { limit: number; before_id?: number; type?: string };

const listOf = (item: object) => ({
  type: 'object',
  properties: { items: { type: 'array', items: item }, next_before_id: { type: ['integer', 'null'] } },
});
const alertItem = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ts: { type: 'string' },
    type: { type: 'string' },
    device_id: { type: ['integer', 'null'] },
    device_uuid: { type: ['string', 'null'] },
    cpu_serial: { type: ['string', 'null'] },
    details: {},
  },
};
const auditItem = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ts: { type: 'string' },
    actor_user_id: { type: ['integer', 'null'] },
    action: { type: 'string' },
    target: { type: ['string', 'null'] },
    details: {},
    ip: { type: ['string', 'null'] },
  },
};

/** What both views' rows have in common (the rest passes through to the response). */
type ViewRow = { id: number; ts: number; details: string | null };

/** Admin views: clone/swap and security alerts, and the audit log; newest first, paged by id. */
export function adminRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const views: { url: string; list: (db: CentralDb, page: AdminPage) => Promise<ViewRow[]>; item: object }[] = [
    { url: '/api/admin/alerts', list: adminAlertPage, item: alertItem },
    { url: '/api/admin/audit', list: auditLogPage, item: auditItem },
  ];
  for (const view of views) {
    app.get<{ Querystring: Page }>(
      view.url,
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          security: [{ bearer: [] }],
          querystring: page,
          response: { 200: listOf(view.item), ...errors(400, 401, 403) },
        },
      },
      async (request) => {
        const { limit, before_id, type } = request.query;
        const rows = await view.list(ctx.db, { limit, beforeId: before_id, type });
        return {
          items: rows.map((r) => ({
            ...r,
            ts: iso(r.ts),
            details: r.details ? (JSON.parse(r.details) as unknown) : null,
          })),
          next_before_id: rows.length === limit ? rows.at(-1)!.id : null,
        };
      },
    );
  }
}
