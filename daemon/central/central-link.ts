import { X509Certificate } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import type { AresConfig } from '../../core/config.js';
import { AresError, isAresError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { HubBus } from '../hub-events.js';
import type { HubIdentity } from '../identity/identity.js';
import { CredentialStore, type HubCredentials } from '../state/credentials.js';
import { Backoff } from './backoff.js';
import { CentralClient } from './client.js';
import { ComponentList, type ComponentSpec } from './component-list.js';
import { obtainCredentials } from './provisioner.js';

/** Hubs renew when fewer than this remain of their certificate (§4.3). */
const RENEW_BEFORE_MS = 30 * 24 * 3600_000;
const RENEWAL_CHECK_MS = 12 * 3600_000;

export interface LinkStatus {
  provisioned: boolean;
  deviceId: number | undefined;
  central: { reachable: boolean };
  components: ComponentSpec[];
  componentsSource: 'central' | 'cache' | 'none';
}

export interface CentralLinkDeps {
  config: AresConfig;
  log: Logger;
  clock: Clock;
  db: Database.Database;
  identity: HubIdentity;
  /** Announces `components.changed` and `credentials.changed`. */
  bus: HubBus;
  wait: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * The hub's link to central: credentials (waiting for the owner's claim), then the attached-component
 * list polled with conditional requests and cached in hub.db. Credentials central revokes (401) are
 * wiped and the link goes back to waiting for provisioning. `start()` starts the background loop;
 * `stop()` aborts it, in-flight requests included.
 */
export class CentralLink {
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #creds: HubCredentials | undefined;
  #status: LinkStatus = {
    provisioned: false,
    deviceId: undefined,
    central: { reachable: false },
    components: [],
    componentsSource: 'none',
  };
  #renewalCheckedAt = Number.NEGATIVE_INFINITY;
  #wake = new AbortController();
  #resetRequested = false;

  constructor(private readonly deps: CentralLinkDeps) {}

  status(): Readonly<LinkStatus> {
    return this.#status;
  }

  /** The credentials the hub holds now, if any. */
  credentials(): HubCredentials | undefined {
    return this.#creds;
  }

  /** The owner's email once provisioned (it names the LAN telemetry topics). */
  userEmail(): string | null {
    return this.#creds?.user_email ?? null;
  }

  /** system/reload_components: ask central for the list now instead of at the next poll. */
  pollNow(): void {
    this.#wake.abort();
    this.#wake = new AbortController();
  }

  /** system/reset: central de-provisioned this hub; wipe as for a 401 and wait to be claimed again. */
  reset(): void {
    this.#resetRequested = true;
    this.pollNow();
  }

  start(): void {
    const { config, db, clock } = this.deps;
    const store = new CredentialStore(config.hub.state_dir);
    this.#creds = store.load();
    if (this.#creds) this.deps.bus.emit('credentials.changed', { creds: this.#creds, reason: 'loaded' });
    this.#status = { ...this.#status, provisioned: this.#creds !== undefined, deviceId: this.#creds?.device_id };
    const list = new ComponentList(db, () => clock.now());
    if (this.#creds) {
      const cached = list.cached(this.#creds.device_id);
      if (cached) this.#apply(cached.components, 'cache');
    }
    this.#abort = new AbortController();
    this.#loop = this.#run(store, list, this.#abort.signal).catch((err: unknown) => {
      this.deps.log.error({ err }, 'central link stopped by an unexpected error');
    });
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
  }

  async #run(store: CredentialStore, list: ComponentList, signal: AbortSignal): Promise<void> {
    const { config, log, identity, clock } = this.deps;
    // Waits end early for pollNow()/reset() as well as for stop().
    const wait = (ms: number, stop: AbortSignal) => this.deps.wait(ms, AbortSignal.any([stop, this.#wake.signal]));
    const cfg = config.hub;
    const pollBackoff = new Backoff(1000, cfg.components_poll_s * 1000);
    while (!signal.aborted) {
      const centralUrl = cfg.central_url ?? this.#creds?.api_url;
      if (!centralUrl) {
        log.warn('not provisioned and hub.central_url is unset: waiting for provisioning');
        await wait(2 ** 31 - 1, signal);
        continue;
      }
      const client = new CentralClient(centralUrl, identity.deviceUuid, clock, signal);
      if (!this.#creds) {
        this.#creds = await obtainCredentials({ client, identity, store, log, wait }, signal);
        if (!this.#creds) return;
        this.deps.bus.emit('credentials.changed', { creds: this.#creds, reason: 'issued' });
        this.#status = { ...this.#status, provisioned: true, deviceId: this.#creds.device_id };
      }
      try {
        if (this.#resetRequested) {
          this.#resetRequested = false;
          throw new AresError('ARES_ERR_UNAUTHORIZED', 'central sent system/reset');
        }
        await this.#renewIfDue(client, store);
        const result = await list.refresh(client, this.#creds);
        this.#status = { ...this.#status, central: { reachable: result.source === 'central' } };
        if (result.source === 'cache')
          log.warn({ reason: result.reason }, 'central unreachable: running on the cached component list');
        if (result.changed || this.#status.componentsSource === 'none') this.#apply(result.components, result.source);
        pollBackoff.reset();
        await wait(cfg.components_poll_s * 1000, signal);
      } catch (err) {
        if (isAresError(err) && err.code === 'ARES_ERR_UNAUTHORIZED') {
          log.warn(
            { device_id: this.#creds.device_id },
            'central revoked this hub’s credentials: wiping them and returning to provisioning',
          );
          store.wipe();
          list.clear();
          this.#creds = undefined;
          this.deps.bus.emit('credentials.changed', { creds: undefined, reason: 'wiped' });
          this.#status = { ...this.#status, provisioned: false, deviceId: undefined };
          this.#apply([], 'none');
          continue;
        }
        if (!isAresError(err) || !err.transient) throw err;
        this.#status = { ...this.#status, central: { reachable: false } };
        log.warn({ err: err.message }, 'component list: central unreachable and no cached copy yet');
        await wait(pollBackoff.next(), signal);
      }
    }
  }

  /**
   * Renews the device certificate through `POST /api/devices/certificate` when fewer than 30 days
   * remain (checked at most every 12 hours). A failure is logged and retried at the next check:
   * the old certificate still works until it expires.
   */
  async #renewIfDue(client: CentralClient, store: CredentialStore): Promise<void> {
    const now = this.deps.clock.now();
    const creds = this.#creds;
    if (!creds || now - this.#renewalCheckedAt < RENEWAL_CHECK_MS) return;
    this.#renewalCheckedAt = now;
    const notAfter = Date.parse(new X509Certificate(creds.device_certificate).validTo);
    if (notAfter - now > RENEW_BEFORE_MS) return;
    const { createCsr } = await import('../identity/csr.js');
    const csr = await createCsr(this.deps.identity.privateKey, this.deps.identity.deviceUuid);
    const res = await client.send('POST', '/api/devices/certificate', { secret: creds.shared_secret }, { csr });
    const body = res.body as { device_certificate?: unknown; ca_certificate?: unknown } | undefined;
    if (res.status !== 200 || typeof body?.device_certificate !== 'string' || typeof body.ca_certificate !== 'string') {
      if (res.status === 401)
        throw new AresError('ARES_ERR_UNAUTHORIZED', 'central refused the renewal: credentials revoked');
      this.deps.log.warn({ status: res.status }, 'certificate renewal failed; will retry');
      this.#renewalCheckedAt = Number.NEGATIVE_INFINITY;
      return;
    }
    this.#creds = { ...creds, device_certificate: body.device_certificate, ca_certificate: body.ca_certificate };
    store.save(this.#creds);
    this.deps.log.info({ expires: new X509Certificate(body.device_certificate).validTo }, 'device certificate renewed');
    this.deps.bus.emit('credentials.changed', { creds: this.#creds, reason: 'renewed' });
  }

  #apply(components: ComponentSpec[], source: LinkStatus['componentsSource']): void {
    this.#status = { ...this.#status, components, componentsSource: source };
    this.deps.log.info(
      { source, components: components.map((c) => `${c.component_type}#${c.id}`) },
      'component list applied',
    );
    // The bus isolates listeners: one that fails must not stop the hub from tracking central.
    this.deps.bus.emit('components.changed', { list: components, source });
  }
}
