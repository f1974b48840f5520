import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { AresError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { CommittedReader, type CommittedReads } from './committed-reader.js';
import { FastSqliteDialect } from './sqlite-dialect.js';
import type { Database } from './types.js';

export type DialectName = 'sqlite' | 'postgres';

export interface CentralDb {
  readonly kysely: Kysely<Database>;
  readonly dialect: DialectName;
  /** PostgreSQL: the schema central's tables live in (the migrator must not look elsewhere). */
  readonly schema?: string;
  /**
   * SQLite on a file: synchronous reads of committed data on a read-only connection, for the hot
   * reads of prepared.ts. Absent on PostgreSQL and `:memory:` (a second connection would not see it).
   */
  readonly committedReads?: CommittedReads;
  /** Cheap round trip for /healthz. */
  ping(): Promise<void>;
  /**
   * True once close() was called. Queries fail from then on with Kysely's uncoded "driver has already
   * been destroyed"; the HTTP error handler answers those 503 by this flag, not by the message.
   */
  readonly closed: boolean;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL only: run in this schema (created if missing). Tests give each file its own. */
  schema?: string;
  /** PostgreSQL only: where an idle pooled connection's loss is logged. */
  log?: Logger;
}

/**
 * Opens `sqlite:<path>` (WAL, foreign keys on) or `postgres://…`. Which dialect is chosen by the URL
 * scheme only; everything above this file is dialect-blind.
 */
export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<CentralDb> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, opts.schema, opts.log);
  throw new AresError(
    'ARES_ERR_CONFIG',
    `central.database: expected sqlite:<path> or postgres://…, got ${url.split(':')[0]}:…`,
  );
}

function openSqlite(path: string): CentralDb {
  if (path === '') throw new AresError('ARES_ERR_CONFIG', 'central.database: sqlite: needs a file path');
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let raw: BetterSqlite3.Database;
  try {
    raw = new BetterSqlite3(path);
  } catch (err) {
    throw new AresError('ARES_ERR_DATABASE', `cannot open SQLite database ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('mmap_size = 268435456');
  const kysely = new Kysely<Database>({ dialect: new FastSqliteDialect(raw) });
  const reader = path === ':memory:' ? undefined : new CommittedReader(path);
  let closed = false;
  return {
    kysely,
    dialect: 'sqlite',
    ...(reader ? { committedReads: reader } : {}),
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    get closed() {
      return closed;
    },
    async close() {
      closed = true;
      reader?.close();
      await kysely.destroy();
    },
  };
}

// bigint (int8) and numeric come back from node-pg as strings; our bigints are epoch ms and
// sequence numbers, well inside 2^53, so parse them to numbers for this pool only.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

async function openPostgres(url: string, schema?: string, log?: Logger): Promise<CentralDb> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new AresError('ARES_ERR_CONFIG', `invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    types: pgTypes,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that
  // would crash central. The next query reconnects; /healthz reports the outage meanwhile.
  pool.on('error', (err) => log?.warn({ err }, 'PostgreSQL: an idle pooled connection failed'));
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  const db: CentralDb = {
    kysely,
    dialect: 'postgres',
    schema: schema ?? 'public',
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    get closed() {
      return closed;
    },
    async close() {
      closed = true;
      await kysely.destroy();
    },
  };
  try {
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(kysely);
    else await db.ping();
  } catch (err) {
    // Only releases a pool that never connected; the connect error below is what matters (kept as cause).
    await kysely.destroy().catch(() => undefined);
    throw new AresError('ARES_ERR_DATABASE', `cannot reach PostgreSQL: ${(err as Error).message}`, {
      transient: true,
      cause: err,
    });
  }
  return db;
}
