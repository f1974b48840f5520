import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './files.js';

/** What central hands a provisioned hub (§4.3 credentials response), kept in state_dir with mode 0600. */
export interface HubCredentials {
  device_id: number;
  device_uuid: string;
  user_email: string | null;
  shared_secret: string;
  device_certificate: string;
  ca_certificate: string;
  mqtt_url: string;
  api_url: string;
}

const FILE = 'credentials.json';
const CERT = 'device-cert.pem';
const CA = 'ca.pem';

export function isHubCredentials(v: unknown): v is HubCredentials {
  const c = v as Partial<HubCredentials> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    Number.isSafeInteger(c.device_id) &&
    typeof c.device_uuid === 'string' &&
    (typeof c.user_email === 'string' || c.user_email === null) &&
    typeof c.shared_secret === 'string' &&
    /^[0-9a-f]{32,128}$/.test(c.shared_secret) &&
    typeof c.device_certificate === 'string' &&
    c.device_certificate.includes('BEGIN CERTIFICATE') &&
    typeof c.ca_certificate === 'string' &&
    typeof c.mqtt_url === 'string' &&
    typeof c.api_url === 'string'
  );
}

export class CredentialStore {
  constructor(private readonly stateDir: string) {}

  load(): HubCredentials | undefined {
    const file = join(this.stateDir, FILE);
    if (!existsSync(file)) return undefined;
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return isHubCredentials(parsed) ? parsed : undefined;
  }

  /** The certificate files are written first: credentials.json appearing means the set is complete. */
  save(c: HubCredentials): void {
    writeFileAtomic(join(this.stateDir, CERT), c.device_certificate);
    writeFileAtomic(join(this.stateDir, CA), c.ca_certificate);
    writeFileAtomic(join(this.stateDir, FILE), JSON.stringify(c, null, 2) + '\n');
  }

  /** De-provisioning (seed §11): secret, certificate and CA go; the identity (key, uuid, label code) stays. */
  wipe(): void {
    for (const f of [FILE, CERT, CA]) rmSync(join(this.stateDir, f), { force: true });
  }
}
