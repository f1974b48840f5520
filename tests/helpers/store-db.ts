import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { IssuedCertificate } from '../../backend/ca/ca.js';
import { openDatabase, type CentralDb } from '../../backend/db/connect.js';
import { migrateToLatest } from '../../backend/db/migrate.js';
import type { DeviceRole, DeviceStatus } from '../../backend/db/types.js';
import type { DbTarget } from './databases.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * A migrated central database of the caller's own on `target`: a new SQLite file in a temp dir, or a
 * new PostgreSQL schema (the target's name plus a random suffix), so each test starts from the seed data
 * alone. Closed and removed at `t`'s teardown. Store tests use this rather than a whole central.
 */
export async function migratedDb(t: Teardown, target: DbTarget): Promise<CentralDb> {
  const dir = mkdtempSync(join(tmpdir(), 'ares-store-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const schema = target.schema ? `${target.schema}_${randomBytes(3).toString('hex')}` : undefined;
  const db = await openDatabase(target.url(dir), schema ? { schema } : {});
  // Teardowns run last-registered first: the schema goes while connected, then the connection, then the files.
  t.teardown(async () => {
    if (schema) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db.kysely);
    await db.close();
  });
  await migrateToLatest(db);
  return db;
}

/*
 * Rows a store test stands on, written directly: the stores under test are not the ones that make them.
 */

/** A user; resolves to its id. */
export async function addUser(db: CentralDb, name = 'user'): Promise<{ id: number; email: string }> {
  const email = `${name}-${randomBytes(4).toString('hex')}@ares.test`;
  const row = await db.kysely
    .insertInto('users')
    .values({
      username: name,
      email,
      password_hash: 'not-a-hash',
      created_at: 0,
      last_login_at: null,
      is_active: 1,
      token_version: 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, email };
}

/** A hub (a 4B Standard unless told), `provisioned` unless told; past `registered` it has a shared secret. */
export async function addDevice(
  db: CentralDb,
  opts: { status?: DeviceStatus; hardwareVersion?: string; hardwareVariant?: string } = {},
): Promise<{ id: number; uuid: string; cpuSerial: string; publicKey: string; sharedSecret: string | null }> {
  const uuid = randomUUID();
  const cpuSerial = randomBytes(8).toString('hex');
  const publicKey = `key-${randomBytes(4).toString('hex')}`;
  const status = opts.status ?? 'provisioned';
  const sharedSecret = status === 'registered' ? null : randomBytes(16).toString('hex');
  const row = await db.kysely
    .insertInto('devices')
    .values({
      cpu_serial: cpuSerial,
      device_uuid: uuid,
      hardware_version: opts.hardwareVersion ?? '4B',
      hardware_variant: opts.hardwareVariant ?? 'Standard',
      public_key: publicKey,
      claim_code_hash: 'not-a-hash',
      status,
      shared_secret: sharedSecret,
      created_at: 0,
      claimed_at: status === 'registered' ? null : 0,
      last_seen_at: null,
      clock_skew_s: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, uuid, cpuSerial, publicKey, sharedSecret };
}

/** Makes `userId` a member of the device, joining at `joinedAt` (the first owner joined earliest). */
export async function addMember(
  db: CentralDb,
  userId: number,
  deviceId: number,
  role: DeviceRole,
  joinedAt = 0,
): Promise<void> {
  await db.kysely
    .insertInto('user_devices')
    .values({ user_id: userId, device_id: deviceId, role, nickname: null, created_at: joinedAt })
    .execute();
}

/** The audit entries written (only `action`'s, if given), oldest first, without their ids. */
export async function auditEntries(db: CentralDb, action?: string): Promise<Record<string, unknown>[]> {
  let query = db.kysely.selectFrom('audit_log').select(['ts', 'actor_user_id', 'action', 'target', 'details', 'ip']);
  if (action !== undefined) query = query.where('action', '=', action);
  const rows = await query.orderBy('id').execute();
  return rows.map((r) => ({ ...r, details: r.details === null ? null : (JSON.parse(r.details) as unknown) }));
}

/** A certificate as the CA would issue one (the PEM is not parsed by the store). */
export function fakeCertificate(notAfter: number, notBefore = 0): IssuedCertificate {
  return {
    pem: '-----BEGIN CERTIFICATE-----\nnot-a-certificate\n-----END CERTIFICATE-----\n',
    serial: randomBytes(8).toString('hex'),
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
  };
}
