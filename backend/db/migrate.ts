import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import { AresError } from '../../core/errors.js';
import type { CentralDb } from './connect.js';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_seed.js';
import * as m0003 from './migrations/0003_mqtt_credentials.js';
import * as m0004 from './migrations/0004_sync.js';
import * as m0005 from './migrations/0005_device_alerts.js';
import * as m0006 from './migrations/0006_notifications.js';

/** Migrations in order. Each is written once for both dialects and receives the dialect name. */
const MIGRATIONS = {
  '0001_initial': m0001,
  '0002_seed': m0002,
  '0003_mqtt_credentials': m0003,
  '0004_sync': m0004,
  '0005_device_alerts': m0005,
  '0006_notifications': m0006,
} as const;

export type MigrationName = keyof typeof MIGRATIONS;
/** Every migration's name, oldest first. */
export const MIGRATION_NAMES = Object.keys(MIGRATIONS) as MigrationName[];

export interface MigrateOptions {
  /** Stop after this migration (tests: a database as an older release left it). Default: the latest. */
  upTo?: MigrationName;
}

class InCodeProvider implements MigrationProvider {
  constructor(private readonly db: CentralDb) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(Object.entries(MIGRATIONS).map(([name, m]) => [name, { up: m.up(this.db.dialect) }]));
  }
}

/**
 * PostgreSQL errors that another session's DDL can cause in kysely's look for its migration table,
 * which introspects every table of every schema (pg_get_serial_sequence on each): a schema or table
 * dropped at that moment — another application's, another test file's — fails the lookup although
 * nothing of ours is wrong. Invalid schema name, undefined table.
 */
const CONCURRENT_DDL = new Set(['3F000', '42P01']);
const ATTEMPTS = 5;

/** Applies every pending migration; refuses to start on a database newer than this code. */
export async function migrateToLatest(db: CentralDb, opts: MigrateOptions = {}): Promise<string[]> {
  // Without an explicit schema, kysely's PostgreSQL introspection finds migration tables in *any*
  // schema and may skip creating ours.
  const migrator = new Migrator({
    db: db.kysely,
    provider: new InCodeProvider(db),
    ...(db.schema ? { migrationTableSchema: db.schema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = opts.upTo ? await migrator.migrateTo(opts.upTo) : await migrator.migrateToLatest();
    // On PostgreSQL the migrations run in one transaction, so a failed attempt left nothing behind.
    const code = (error as { code?: unknown } | undefined)?.code;
    if (
      error &&
      db.dialect === 'postgres' &&
      typeof code === 'string' &&
      CONCURRENT_DDL.has(code) &&
      attempt < ATTEMPTS
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      continue;
    }
    if (error) {
      throw new AresError(
        'ARES_ERR_DATABASE',
        `database migration failed: ${(error as Error).message ?? String(error)}`,
        {
          cause: error,
        },
      );
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }
}
