import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AresError } from '../../core/errors.js';
import { generateClaimCode, type EnrollmentRecord } from '../../sync/enrollment.js';
import { writeFileAtomic } from '../state/files.js';
import type { BoardIdentity } from './board.js';

export const IDENTITY_FILE = 'identity.json';
export const KEY_FILE = 'device-key.pem';

interface StoredIdentity {
  device_uuid: string;
  /** The board this SD card was enrolled on. */
  cpu_serial: string;
  claim_code: string;
  created_at: string;
}

export interface HubIdentity {
  deviceUuid: string;
  /** The board the hub runs on now (what it reports to central, always the truth). */
  cpuSerial: string;
  /** The board it was enrolled on; differs from cpuSerial when the SD card moved (seed §10). */
  enrolledCpuSerial: string;
  hardwareVersion: string;
  hardwareVariant: string;
  claimCode: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

/**
 * The hub's identity, created once in `hub.state_dir`: a v4 uuid, a P-256 key pair whose private half
 * never leaves this file (mode 0600), and the claim code printed on the label. The key is written
 * before identity.json, so a crash in between leaves no identity that lacks its key.
 */
export function loadOrCreateIdentity(
  stateDir: string,
  board: BoardIdentity,
  hardwareVariant: string,
): { identity: HubIdentity; created: boolean } {
  const idFile = join(stateDir, IDENTITY_FILE);
  const keyFile = join(stateDir, KEY_FILE);
  let created = false;
  if (!existsSync(idFile)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileAtomic(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const stored: StoredIdentity = {
      device_uuid: randomUUID(),
      cpu_serial: board.cpuSerial,
      claim_code: generateClaimCode(),
      created_at: new Date().toISOString(),
    };
    writeFileAtomic(idFile, JSON.stringify(stored, null, 2) + '\n');
    created = true;
  }
  let stored: StoredIdentity;
  let privateKey: KeyObject;
  try {
    stored = JSON.parse(readFileSync(idFile, 'utf8')) as StoredIdentity;
    privateKey = createPrivateKey(readFileSync(keyFile));
  } catch (err) {
    throw new AresError(
      'ARES_ERR_CONFIG',
      `hub.state_dir: identity in ${stateDir} is unreadable (${(err as Error).message}); restore it from backup or remove identity.json to enroll anew`,
      {
        cause: err,
      },
    );
  }
  if (
    !/^[0-9a-f-]{36}$/.test(stored.device_uuid ?? '') ||
    typeof stored.cpu_serial !== 'string' ||
    typeof stored.claim_code !== 'string'
  ) {
    throw new AresError('ARES_ERR_CONFIG', `hub.state_dir: ${idFile} is not a valid identity file`);
  }
  const identity: HubIdentity = {
    deviceUuid: stored.device_uuid,
    cpuSerial: board.cpuSerial,
    enrolledCpuSerial: stored.cpu_serial,
    hardwareVersion: board.hardwareVersion,
    hardwareVariant,
    claimCode: stored.claim_code,
    privateKey,
    publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
  };
  return { identity, created };
}

/** The §4.4 record `ares hub enroll` prints and central's preregister accepts. */
export function enrollmentRecord(id: HubIdentity): EnrollmentRecord {
  return {
    cpu_serial: id.cpuSerial,
    device_uuid: id.deviceUuid,
    hardware_version: id.hardwareVersion,
    hardware_variant: id.hardwareVariant,
    public_key: id.publicKeyPem,
    claim_code: id.claimCode,
  };
}

/** Seed §10: an SD card moved to another board (or cloned onto one). Reported, never silently accepted. */
export function boardChanged(id: HubIdentity): boolean {
  return id.cpuSerial !== id.enrolledCpuSerial;
}
