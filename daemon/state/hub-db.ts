import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The hub's own SQLite file in state_dir (`hub.db`). Migrations are numbered by `user_version`; the
 * store-and-forward outbox adds its tables here in its own issue.
 */
const MIGRATIONS: string[] = [
  `create table component_cache (
     id integer primary key check (id = 1),
     device_id integer not null,
     etag text,
     body text not null,
     fetched_at integer not null
   )`,
  `create table lan_nodes (
     node_id text primary key,
     password_hash text,
     legacy_http integer not null default 0,
     source_addr text,
     created_at integer not null
   )`,
];

export function openHubDb(stateDir: string): Database.Database {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(stateDir, 'hub.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const version = db.pragma('user_version', { simple: true }) as number;
  const apply = db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  apply();
  return db;
}
