import type { Logger } from '../../core/logger.js';
import { isAresError } from '../../core/errors.js';
import type { HubIdentity } from '../identity/identity.js';
import { isHubCredentials, type CredentialStore, type HubCredentials } from '../state/credentials.js';
import { Backoff, sleep } from './backoff.js';
import { errorCode, type CentralClient } from './client.js';

export interface ProvisionerDeps {
  client: CentralClient;
  identity: HubIdentity;
  store: CredentialStore;
  log: Logger;
  backoff?: Backoff;
  /** Tests shorten the waits; production sleeps for real. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Gets the hub its credentials (§4.5): a fresh single-use challenge, then the credentials request
 * signed with the enrolled key and carrying a CSR. While central answers `not_claimed` the owner has
 * not claimed the hub yet: keep asking, backing off up to 30 s. Returns the stored credentials, or
 * undefined when `signal` aborts first.
 */
export async function obtainCredentials(
  deps: ProvisionerDeps,
  signal: AbortSignal,
): Promise<HubCredentials | undefined> {
  const { client, identity, store, log } = deps;
  const backoff = deps.backoff ?? new Backoff();
  const wait = deps.wait ?? sleep;
  let lastState = '';
  const report = (state: string, fields: Record<string, unknown> = {}) => {
    // One log line per change of situation, not one per retry.
    if (state !== lastState) log.info({ state, ...fields }, `provisioning: ${state}`);
    lastState = state;
  };
  // The X.509 library is large; a provisioned hub never needs it, so it is loaded only here.
  const { createCsr } = await import('../identity/csr.js');
  const csr = await createCsr(identity.privateKey, identity.deviceUuid);
  while (!signal.aborted) {
    try {
      const ch = await client.send('GET', `/api/devices/challenge?device_uuid=${identity.deviceUuid}`, undefined);
      const challenge = (ch.body as { challenge?: unknown } | undefined)?.challenge;
      if (ch.status !== 200 || typeof challenge !== 'string') {
        report('central refused a challenge', { status: ch.status });
      } else {
        const res = await client.send(
          'POST',
          '/api/devices/credentials',
          { privateKey: identity.privateKey },
          {
            cpu_serial: identity.cpuSerial,
            device_uuid: identity.deviceUuid,
            challenge,
            csr,
          },
        );
        if (res.status === 200 && isHubCredentials(res.body)) {
          store.save(res.body);
          log.info({ device_id: res.body.device_id }, 'provisioning: credentials received and stored');
          return res.body;
        }
        const code = errorCode(res);
        if (res.status === 409 && code === 'not_claimed') report('waiting for the owner to claim this hub');
        else if (res.status === 401) report('central does not know this hub yet (preregister its enrollment record)');
        else if (res.status === 403)
          report('central refused this hub: its board does not match the registry (seed §10)', { status: 403 });
        else report('central refused the credentials request', { status: res.status, code });
      }
    } catch (err) {
      if (!isAresError(err) || !err.transient) throw err;
      report('central unreachable', { err: err.message });
    }
    await wait(backoff.next(), signal);
  }
  return undefined;
}
