import type Database from 'better-sqlite3';
import { AresError } from '../../core/errors.js';
import type { HubCredentials } from '../state/credentials.js';
import { isComponentList, type ComponentSpec } from '../../sync/components.js';
import type { CentralClient } from './client.js';

export type { ComponentSpec };

export type ListResult =
  | { source: 'central'; changed: boolean; components: ComponentSpec[] }
  | { source: 'cache'; changed: false; components: ComponentSpec[]; reason: string };

/**
 * The hub's attached-component list: asked of central with a conditional request (If-None-Match),
 * kept in hub.db so the hub starts from the last good copy when central is unreachable. A 401 means
 * central revoked this hub's credentials: that is thrown (ARES_ERR_UNAUTHORIZED) for the daemon to
 * wipe them, never papered over with the cache.
 */
export class ComponentList {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {}

  cached(deviceId: number): { etag: string | null; components: ComponentSpec[] } | undefined {
    const row = this.db
      .prepare('select etag, body from component_cache where id = 1 and device_id = ?')
      .get(deviceId) as { etag: string | null; body: string } | undefined;
    return row ? { etag: row.etag, components: JSON.parse(row.body) as ComponentSpec[] } : undefined;
  }

  async refresh(client: CentralClient, creds: HubCredentials): Promise<ListResult> {
    const cached = this.cached(creds.device_id);
    let res;
    try {
      res = await client.send(
        'GET',
        `/api/components/devices/${creds.device_id}/components`,
        { secret: creds.shared_secret },
        undefined,
        cached?.etag ? { 'if-none-match': cached.etag } : {},
      );
    } catch (err) {
      if (cached)
        return { source: 'cache', changed: false, components: cached.components, reason: (err as Error).message };
      throw err;
    }
    if (res.status === 304 && cached) return { source: 'central', changed: false, components: cached.components };
    if (res.status === 401)
      throw new AresError('ARES_ERR_UNAUTHORIZED', 'central refused this hub’s signature: credentials revoked');
    if (res.status !== 200 || !isComponentList(res.body)) {
      const reason = `central answered the component list with ${res.status}`;
      if (cached) return { source: 'cache', changed: false, components: cached.components, reason };
      throw new AresError('ARES_ERR_UNAVAILABLE', reason, { transient: true });
    }
    const etag = typeof res.headers['etag'] === 'string' ? res.headers['etag'] : null;
    const body = JSON.stringify(res.body);
    const changed = !cached || JSON.stringify(cached.components) !== body;
    this.db
      .prepare(
        'insert into component_cache (id, device_id, etag, body, fetched_at) values (1, ?, ?, ?, ?) on conflict(id) do update set device_id = excluded.device_id, etag = excluded.etag, body = excluded.body, fetched_at = excluded.fetched_at',
      )
      .run(creds.device_id, etag, body, this.now());
    return { source: 'central', changed, components: res.body };
  }

  clear(): void {
    this.db.prepare('delete from component_cache').run();
  }
}
