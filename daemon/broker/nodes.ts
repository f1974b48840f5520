import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { AresError } from '../../core/errors.js';

export interface LanNode {
  node_id: string;
  legacy_http: boolean;
  source_addr: string | null;
  created_at: string;
}

/** Node ids become MQTT topic levels and usernames: keep them to a safe alphabet. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * Node passwords are 192-bit random tokens generated here, never chosen by people, so a slow KDF adds
 * nothing: guessing 2^192 is out of reach whatever the hash. SHA-256 (as for API tokens) keeps the
 * hub free of an argon2 addon (memory on a Pi Zero 2 W) and authentication cheap.
 */
const hashToken = (token: string) => 'sha256:' + createHash('sha256').update(token).digest('hex');

/**
 * LAN sensor nodes allowed on the hub's broker (and, with `legacy_http`, on POST /events). Kept in
 * hub.db: `ares hub nodes add|list|remove` writes, the running daemon reads on every connection, so
 * changes take effect without a restart. Only a hash of each password is stored.
 */
export class NodeRegistry {
  constructor(private readonly db: Database.Database) {}

  async add(
    nodeId: string,
    opts: { legacyHttp?: boolean; sourceAddr?: string } = {},
  ): Promise<{ node_id: string; password?: string }> {
    if (!NODE_ID_PATTERN.test(nodeId))
      throw new AresError(
        'ARES_ERR_USAGE',
        `node name ${JSON.stringify(nodeId)}: use 1–64 letters, digits, '-' or '_'`,
      );
    if (this.db.prepare('select 1 from lan_nodes where node_id = ?').get(nodeId))
      throw new AresError('ARES_ERR_USAGE', `node ${nodeId} already exists (remove it first to issue a new password)`);
    // Legacy CareDian firmware cannot authenticate: it is pinned by source address instead.
    const password = opts.legacyHttp ? undefined : randomBytes(24).toString('base64url');
    this.db
      .prepare(
        'insert into lan_nodes (node_id, password_hash, legacy_http, source_addr, created_at) values (?, ?, ?, ?, ?)',
      )
      .run(nodeId, password ? hashToken(password) : null, opts.legacyHttp ? 1 : 0, opts.sourceAddr ?? null, Date.now());
    return password ? { node_id: nodeId, password } : { node_id: nodeId };
  }

  list(): LanNode[] {
    const rows = this.db
      .prepare('select node_id, legacy_http, source_addr, created_at from lan_nodes order by node_id')
      .all() as { node_id: string; legacy_http: number; source_addr: string | null; created_at: number }[];
    return rows.map((r) => ({
      node_id: r.node_id,
      legacy_http: r.legacy_http === 1,
      source_addr: r.source_addr,
      created_at: new Date(r.created_at).toISOString(),
    }));
  }

  remove(nodeId: string): boolean {
    return this.db.prepare('delete from lan_nodes where node_id = ?').run(nodeId).changes === 1;
  }

  exists(nodeId: string): boolean {
    return this.db.prepare('select 1 from lan_nodes where node_id = ?').get(nodeId) !== undefined;
  }

  /** MQTT login: a node with a password, and the right one. Unknown nodes cost the same time. */
  async authenticate(nodeId: string, password: Buffer): Promise<boolean> {
    const row = NODE_ID_PATTERN.test(nodeId)
      ? (this.db.prepare('select password_hash from lan_nodes where node_id = ?').get(nodeId) as
          { password_hash: string | null } | undefined)
      : undefined;
    if (!row?.password_hash || password.length > 256) return false;
    const given = Buffer.from(hashToken(password.toString('utf8')));
    const stored = Buffer.from(row.password_hash);
    return given.length === stored.length && timingSafeEqual(given, stored);
  }

  /** POST /events: a legacy node, from its pinned address when one was given. */
  legacyAllowed(nodeId: string, remoteAddr: string | undefined): boolean {
    const row = this.db.prepare('select legacy_http, source_addr from lan_nodes where node_id = ?').get(nodeId) as
      { legacy_http: number; source_addr: string | null } | undefined;
    if (!row || row.legacy_http !== 1) return false;
    if (!row.source_addr) return true;
    return remoteAddr === row.source_addr || remoteAddr === `::ffff:${row.source_addr}`;
  }
}
