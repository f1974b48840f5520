import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The databases a storage test runs on: SQLite always; PostgreSQL when reachable. CI (CI=true)
 * requires PostgreSQL, so a broken service fails the run instead of silently skipping.
 */
export interface DbTarget {
  name: 'sqlite' | 'postgres';
  /** Reason to skip, when the target is absent here. */
  skip: string | false;
  url(dataDir: string): string;
  /** PostgreSQL: a schema of this test file's own. */
  schema?: string;
  cleanup(): Promise<void>;
}

export const PG_URL = process.env['ARES_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pgReachable(): Promise<string | false> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return false;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dbTargets(): Promise<DbTarget[]> {
  const sqlite: DbTarget = {
    name: 'sqlite',
    skip: false,
    url: (dir) => `sqlite:${dir}/central.db`,
    cleanup: async () => undefined,
  };
  const problem = await pgReachable();
  if (problem && process.env['CI']) throw new Error(`CI requires PostgreSQL at ${PG_URL}: ${problem}`);
  const schema = `ares_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const postgres: DbTarget = {
    name: 'postgres',
    skip: problem
      ? `PostgreSQL not reachable at ${PG_URL} (${problem}); start it or set ARES_TEST_PG_URL to run these`
      : false,
    url: () => PG_URL,
    schema,
    async cleanup() {
      if (problem) return;
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
  return [sqlite, postgres];
}
