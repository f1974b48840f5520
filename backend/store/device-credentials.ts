import type { IssuedCertificate } from '../ca/ca.js';
import type { CentralDb } from '../db/connect.js';
import { audit } from './audit.js';
import { recordCertificate } from './devices.js';

// What a hub authenticates with (§4.5): its enrolled key and shared secret, the single-use challenges
// of its credentials request, and the certificates central issued it.

/**
 * Remembers a challenge for a registered hub, clearing expired ones as it goes. For an unknown uuid
 * nothing is stored: the caller answers the same either way, so the answer reveals nothing.
 */
export async function rememberChallenge(
  db: CentralDb,
  challenge: { nonce: string; deviceUuid: string; expiresAt: number },
  now: number,
): Promise<void> {
  const known = await db.kysely
    .selectFrom('devices')
    .select('id')
    .where('device_uuid', '=', challenge.deviceUuid)
    .executeTakeFirst();
  if (!known) return;
  await db.kysely.deleteFrom('device_challenges').where('expires_at', '<=', now).execute();
  await db.kysely
    .insertInto('device_challenges')
    .values({ nonce: challenge.nonce, device_uuid: challenge.deviceUuid, expires_at: challenge.expiresAt })
    .execute();
}

/** Uses up the hub's challenge: false when it is unknown, expired, another hub's or already used. */
export async function consumeChallenge(
  db: CentralDb,
  nonce: string,
  deviceUuid: string,
  now: number,
): Promise<boolean> {
  const used = await db.kysely
    .deleteFrom('device_challenges')
    .where('nonce', '=', nonce)
    .where('device_uuid', '=', deviceUuid)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(used.numDeletedRows) === 1;
}

/** What a device-signed request is verified with, for the hub of this (lower-case) uuid. */
export function deviceSigningKeys(
  db: CentralDb,
  deviceUuid: string,
): Promise<{ id: number; device_uuid: string; public_key: string; shared_secret: string | null } | undefined> {
  return db.kysely
    .selectFrom('devices')
    .select(['id', 'device_uuid', 'public_key', 'shared_secret'])
    .where('device_uuid', '=', deviceUuid)
    .executeTakeFirst();
}

/** A verified request: when the hub was last heard from, and how far its clock is off (seconds). */
export async function markDeviceSeen(db: CentralDb, deviceId: number, now: number, clockSkewS: number): Promise<void> {
  await db.kysely
    .updateTable('devices')
    .set({ last_seen_at: now, clock_skew_s: clockSkewS })
    .where('id', '=', deviceId)
    .execute();
}

/** The hub registered with this CPU serial, if any (an SD card moved to another board shows up here). */
export function deviceWithCpuSerial(
  db: CentralDb,
  cpuSerial: string,
): Promise<{ id: number; device_uuid: string } | undefined> {
  return db.kysely
    .selectFrom('devices')
    .select(['id', 'device_uuid'])
    .where('cpu_serial', '=', cpuSerial)
    .executeTakeFirst();
}

/** What the credentials request is checked against and answered with; throws if there is no such device. */
export function credentialsRecord(db: CentralDb, deviceId: number) {
  return db.kysely
    .selectFrom('devices')
    .select(['id', 'device_uuid', 'cpu_serial', 'status', 'shared_secret'])
    .where('id', '=', deviceId)
    .executeTakeFirstOrThrow();
}

/**
 * A claimed hub fetched its credentials: certificates it held before are superseded (a hub asking
 * again has lost its state), the new one recorded, the hub `provisioned` and audited, in one transaction.
 */
export async function recordProvisioning(
  db: CentralDb,
  deviceId: number,
  cert: IssuedCertificate,
  now: number,
  ip: string,
): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await trx
      .updateTable('device_certificates')
      .set({ revoked_at: now, revoke_reason: 'superseded' })
      .where('device_id', '=', deviceId)
      .where('revoked_at', 'is', null)
      .execute();
    await recordCertificate(trx, deviceId, cert, now);
    await trx.updateTable('devices').set({ status: 'provisioned' }).where('id', '=', deviceId).execute();
    await audit(trx, {
      ts: now,
      actor: null,
      action: 'device.credentials',
      target: `device:${deviceId}`,
      details: { serial: cert.serial },
      ip,
    });
  });
}

/** A hub renewed its certificate: the new one recorded (the old stays valid until it expires) and audited. */
export async function recordRenewal(
  db: CentralDb,
  deviceId: number,
  cert: IssuedCertificate,
  now: number,
  ip: string,
): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await recordCertificate(trx, deviceId, cert, now);
    await audit(trx, {
      ts: now,
      actor: null,
      action: 'device.certificate_renew',
      target: `device:${deviceId}`,
      details: { serial: cert.serial },
      ip,
    });
  });
}

/** The central id of the provisioned hub with this uuid; undefined for one not (or no longer) provisioned. */
export async function provisionedDeviceId(db: CentralDb, deviceUuid: string): Promise<number | undefined> {
  const row = await db.kysely
    .selectFrom('devices')
    .select('id')
    .where('device_uuid', '=', deviceUuid)
    .where('status', '=', 'provisioned')
    .executeTakeFirst();
  return row?.id;
}

/** The uuids of provisioned hubs holding a certificate that is neither revoked nor expired at `now`. */
export async function devicesWithLiveCertificates(db: CentralDb, now: number): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('devices')
    .innerJoin('device_certificates', 'device_certificates.device_id', 'devices.id')
    .select('devices.device_uuid')
    .distinct()
    .where('devices.status', '=', 'provisioned')
    .where('device_certificates.revoked_at', 'is', null)
    .where('device_certificates.not_after', '>', now)
    .execute();
  return rows.map((r) => r.device_uuid);
}
