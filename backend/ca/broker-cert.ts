import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AresError } from '../../core/errors.js';
import type { AresConfig } from '../../core/config.js';
import { loadOrCreateCa } from './ca.js';

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^[0-9.]+$|^[0-9a-fA-F:]+$/;

/**
 * The files an external Mosquitto needs (README "External broker"): central's CA, which it uses to
 * check hub certificates and which hubs and apps already trust, and a server certificate for the
 * broker's names issued by that CA. The key is written 0600.
 */
export async function writeBrokerCertificate(
  config: AresConfig,
  hostnames: string[],
  outDir: string,
): Promise<{ ca: string; cert: string; key: string; hostnames: string[] }> {
  const bad = hostnames.find((h) => !HOSTNAME.test(h));
  if (bad !== undefined) throw new AresError('ARES_ERR_USAGE', `--host: "${bad}" is not a host name or IP address`);
  const ca = await loadOrCreateCa(resolve(config.central.data_dir), new Date());
  const server = await ca.issueServerCertificate(hostnames, new Date());
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  writeFileSync(files.ca, ca.certificatePem, { mode: 0o644 });
  writeFileSync(files.cert, server.certPem, { mode: 0o644 });
  writeFileSync(files.key, server.keyPem, { mode: 0o600 });
  return { ...files, hostnames };
}
