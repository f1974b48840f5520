import type Database from 'better-sqlite3';
import { systemClock, type Clock } from '../core/clock.js';
import type { AresConfig } from '../core/config.js';
import { isAresError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Backoff, sleep } from './central/backoff.js';
import { CentralClient } from './central/client.js';
import { ComponentList, type ComponentSpec } from './central/component-list.js';
import { obtainCredentials } from './central/provisioner.js';
import { HostRoot } from '../core/host-root.js';
import { readBoardIdentity } from './identity/board.js';
import { boardChanged, loadOrCreateIdentity, type HubIdentity } from './identity/identity.js';
import { CredentialStore, type HubCredentials } from './state/credentials.js';
import { openHubDb } from './state/hub-db.js';

export interface HubDeps {
  clock?: Clock;
  /** Tests shorten the waits between polls and retries. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface HubStatus {
  provisioned: boolean;
  deviceUuid: string | undefined;
  deviceId: number | undefined;
  boardChanged: boolean;
  central: { reachable: boolean };
  components: ComponentSpec[];
  componentsSource: 'central' | 'cache' | 'none';
}

/**
 * The hub daemon (`ares hub`): identity, credentials from central, and the attached-component list
 * polled with conditional requests. Constructors do nothing; `start()` reads state and starts the
 * background loop; `stop()` aborts it, in-flight requests included. Credentials
 * central revokes (401) are wiped and the hub goes back to waiting for provisioning.
 */
export class Hub {
  readonly #config: AresConfig;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #wait: (ms: number, signal: AbortSignal) => Promise<void>;
  #db: Database.Database | undefined;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #creds: HubCredentials | undefined;
  #status: HubStatus = {
    provisioned: false,
    deviceUuid: undefined,
    deviceId: undefined,
    boardChanged: false,
    central: { reachable: false },
    components: [],
    componentsSource: 'none',
  };
  /** Called with each new component list (drivers subscribe here). */
  onComponents: (list: ComponentSpec[]) => void = () => undefined;

  constructor(config: AresConfig, log: Logger, deps: HubDeps = {}) {
    this.#config = config;
    this.#log = log;
    this.#clock = deps.clock ?? systemClock;
    this.#wait = deps.wait ?? sleep;
  }

  status(): Readonly<HubStatus> {
    return this.#status;
  }

  async start(): Promise<void> {
    const cfg = this.#config.hub;
    const board = await readBoardIdentity(new HostRoot(cfg.host_root));
    const { identity, created } = loadOrCreateIdentity(cfg.state_dir, board, cfg.hardware_variant);
    if (created) this.#log.info({ device_uuid: identity.deviceUuid }, 'new hub identity created');
    if (boardChanged(identity)) {
      // Seed §10: the SD card now runs on another board (moved or cloned). Central decides what that
      // means; the hub reports the truth and says so loudly instead of adopting the new board.
      this.#log.error(
        {
          enrolled_cpu_serial: identity.enrolledCpuSerial,
          cpu_serial: identity.cpuSerial,
          device_uuid: identity.deviceUuid,
        },
        'hardware identity changed: this SD card was enrolled on another board; central will refuse it until an administrator re-registers it',
      );
    }
    this.#db = openHubDb(cfg.state_dir);
    const store = new CredentialStore(cfg.state_dir);
    this.#creds = store.load();
    this.#status = {
      ...this.#status,
      deviceUuid: identity.deviceUuid,
      boardChanged: boardChanged(identity),
      provisioned: this.#creds !== undefined,
      deviceId: this.#creds?.device_id,
    };
    const list = new ComponentList(this.#db, () => this.#clock.now());
    if (this.#creds) {
      const cached = list.cached(this.#creds.device_id);
      if (cached) this.#apply(cached.components, 'cache');
    }
    this.#abort = new AbortController();
    this.#loop = this.#run(identity, store, list, this.#abort.signal).catch((err: unknown) => {
      this.#log.error({ err }, 'hub loop stopped by an unexpected error');
    });
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#db?.close();
    this.#db = undefined;
  }

  async #run(identity: HubIdentity, store: CredentialStore, list: ComponentList, signal: AbortSignal): Promise<void> {
    const cfg = this.#config.hub;
    const pollBackoff = new Backoff(1000, cfg.components_poll_s * 1000);
    while (!signal.aborted) {
      const centralUrl = cfg.central_url ?? this.#creds?.api_url;
      if (!centralUrl) {
        this.#log.warn('not provisioned and hub.central_url is unset: waiting for provisioning');
        await this.#wait(2 ** 31 - 1, signal);
        continue;
      }
      const client = new CentralClient(centralUrl, identity.deviceUuid, this.#clock, signal);
      if (!this.#creds) {
        this.#creds = await obtainCredentials({ client, identity, store, log: this.#log, wait: this.#wait }, signal);
        if (!this.#creds) return;
        this.#status = { ...this.#status, provisioned: true, deviceId: this.#creds.device_id };
      }
      try {
        const result = await list.refresh(client, this.#creds);
        this.#status = { ...this.#status, central: { reachable: result.source === 'central' } };
        if (result.source === 'cache')
          this.#log.warn({ reason: result.reason }, 'central unreachable: running on the cached component list');
        if (result.changed || this.#status.componentsSource === 'none') this.#apply(result.components, result.source);
        pollBackoff.reset();
        await this.#wait(cfg.components_poll_s * 1000, signal);
      } catch (err) {
        if (isAresError(err) && err.code === 'ARES_ERR_UNAUTHORIZED') {
          this.#log.warn(
            { device_id: this.#creds.device_id },
            'central revoked this hub’s credentials: wiping them and returning to provisioning',
          );
          store.wipe();
          list.clear();
          this.#creds = undefined;
          this.#status = { ...this.#status, provisioned: false, deviceId: undefined };
          this.#apply([], 'none');
          continue;
        }
        if (!isAresError(err) || !err.transient) throw err;
        this.#status = { ...this.#status, central: { reachable: false } };
        this.#log.warn({ err: err.message }, 'component list: central unreachable and no cached copy yet');
        await this.#wait(pollBackoff.next(), signal);
      }
    }
  }

  #apply(components: ComponentSpec[], source: HubStatus['componentsSource']): void {
    this.#status = { ...this.#status, components, componentsSource: source };
    this.#log.info(
      { source, components: components.map((c) => `${c.component_type}#${c.id}`) },
      'component list applied',
    );
    try {
      this.onComponents(components);
    } catch (err) {
      // A listener's failure must not stop the hub from tracking central.
      this.#log.error({ err }, 'component listener failed');
    }
  }
}
