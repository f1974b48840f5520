import type { CentralContext, CentralEvents } from '../context.js';
import { devicesWithLiveCertificates } from '../store/device-credentials.js';
import { devicesVisibleTo } from '../store/memberships.js';
import { MQTT_USERNAME_PREFIX, liveAppLogins, liveAppLoginsOf } from '../store/mqtt-credentials.js';
import type { DynsecClient, DynsecCommand } from './dynsec.js';

/** What the accounts need of central: its database, clock and log, and the bus that says what changed. */
type AccountsContext = Pick<CentralContext, 'bus' | 'clock' | 'db' | 'log'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Characters that are wildcards or level separators in MQTT: such an email cannot be a topic level. */
const NOT_A_LEVEL = /[+#/]/;

interface Acl {
  acltype: string;
  topic: string;
  allow: boolean;
  priority?: number;
}

export const deviceRole = (uuid: string) => `ares-device-${uuid}`;
export const userRole = (userId: number) => `ares-user-${userId}`;

/**
 * Mirrors central's devices and app logins into Mosquitto's dynamic-security plugin:
 * - a device is a client named by its uuid (the certificate CN, `use_identity_as_username`) with a
 *   role that may publish under `devices/{uuid}/` and subscribe to `commands/{uuid}/#` (§4.6);
 * - an app login is a client with the password central issued and its account's role, which may
 *   subscribe to, and receive, `client/state/{email}/{uuid}` and publish `client/request_state/…`
 *   only for the devices the account owns or views; the role is rebuilt when that changes;
 * - revoking a device disables (disconnecting it) and deletes it: Mosquitto still completes the
 *   TLS handshake of a certificate it cannot check against central's revocations, but a device
 *   without a client entry may neither publish nor subscribe (default deny).
 * `reconcile()` (start-up and every minute) repairs any drift: expired logins, revocations made
 * while central was down, a broker whose plugin file was restored from an old backup.
 * New devices and logins arrive as awaited bus events (`device.provisioned`, `app-login.issued`):
 * the route that emits them answers only once the broker has the account.
 */
export class DynsecAccounts {
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly ctx: AccountsContext,
    private readonly dynsec: DynsecClient,
  ) {}

  start(): void {
    const { bus, log } = this.ctx;
    bus.on('dynsec-accounts', 'device.provisioned', ({ deviceUuid, waitFor }) =>
      waitFor(this.dynsec.apply(deviceCommands(deviceUuid))),
    );
    bus.on('dynsec-accounts', 'app-login.issued', ({ waitFor, ...login }) => waitFor(this.#appLoginIssued(login)));
    // Events relayed from other instances were handled by the instance that raised them.
    bus.on('dynsec-accounts', 'device.revoked', ({ deviceUuid, remote }) => {
      if (!remote)
        void this.#deviceRevoked(deviceUuid).catch((err: unknown) =>
          log.error({ err, device_uuid: deviceUuid }, 'broker: revoking the device failed; the next reconcile retries'),
        );
    });
    bus.on('dynsec-accounts', 'membership.changed', ({ userIds, remote }) => {
      if (!remote)
        for (const id of userIds)
          void this.#rebuildUser(id).catch((err: unknown) =>
            log.error({ err, user_id: id }, 'broker: updating the account’s access failed; the next reconcile retries'),
          );
    });
  }

  stop(): void {
    this.ctx.bus.removeAll('dynsec-accounts');
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  async #appLoginIssued({ userId, username, password, expiresAt }: AppLogin): Promise<void> {
    // The role is created if missing, never rebuilt here: Mosquitto disconnects every client of a
    // changed role, and the account's other apps need not reconnect because this one logged in.
    // Membership events and reconcile() keep an existing role current.
    await this.dynsec.apply([
      { command: 'createRole', rolename: userRole(userId), acls: await this.#userAcls(userId) },
      { command: 'createClient', username, password, roles: [{ rolename: userRole(userId) }] },
    ]);
    // Gone from the broker the moment it expires; reconcile() is the backstop.
    const delay = Math.min(Math.max(0, expiresAt - this.ctx.clock.now()), 2 ** 31 - 1);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.dynsec
        .apply(deleteClient(username))
        .catch((err: unknown) =>
          this.ctx.log.warn({ err, username }, 'expired app login not removed from the broker: reconcile will retry'),
        );
    }, delay);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Makes the broker's clients match the database: devices, live app logins. */
  async reconcile(): Promise<void> {
    const now = this.ctx.clock.now();
    const [listed] = await this.dynsec.apply([{ command: 'listClients', verbose: false, count: -1, offset: 0 }]);
    const clients = new Set(
      (Array.isArray(listed?.data?.['clients']) ? (listed.data['clients'] as unknown[]) : []).filter(
        (c): c is string => typeof c === 'string',
      ),
    );
    const wantedDevices = new Set(await devicesWithLiveCertificates(this.ctx.db, now));
    const liveLogins = new Set(await liveAppLogins(this.ctx.db, now));
    const commands: DynsecCommand[] = [];
    for (const uuid of wantedDevices) if (!clients.has(uuid)) commands.push(...deviceCommands(uuid));
    for (const name of clients) {
      if (UUID.test(name) && !wantedDevices.has(name)) commands.push(...revokeCommands(name));
      if (name.startsWith(MQTT_USERNAME_PREFIX) && !liveLogins.has(name)) commands.push(...deleteClient(name));
    }
    // Large drifts go in slices: one control message stays small.
    for (let i = 0; i < commands.length; i += 200) await this.dynsec.apply(commands.slice(i, i + 200));
    if (commands.length > 0) this.ctx.log.info({ changes: commands.length }, 'broker accounts reconciled');
  }

  async #deviceRevoked(deviceUuid: string): Promise<void> {
    await this.dynsec.apply(revokeCommands(deviceUuid));
  }

  /** The account's role rebuilt for its current devices, if it has live logins; else removed. */
  async #rebuildUser(userId: number): Promise<void> {
    const logins = await liveAppLoginsOf(this.ctx.db, userId, this.ctx.clock.now());
    if (logins.length === 0) {
      await this.dynsec.apply([{ command: 'deleteRole', rolename: userRole(userId) }]);
      return;
    }
    // The role is edited in place, ACL by ACL, never deleted and re-created: Mosquitto 2.0.11 was
    // seen to crash on a later command after a role its connected clients held was deleted.
    const rolename = userRole(userId);
    const wanted = await this.#userAcls(userId);
    const [current] = await this.dynsec.run([{ command: 'getRole', rolename }]);
    const role = current?.data?.['role'] as { acls?: Acl[] } | undefined;
    if (!role) {
      await this.dynsec.apply([
        { command: 'createRole', rolename, acls: wanted },
        ...logins.map((username) => ({ command: 'addClientRole', username, rolename })),
      ]);
      return;
    }
    const key = (a: Acl) => `${a.acltype} ${a.topic} ${String(a.allow)} ${a.priority ?? 0}`;
    const want = new Set(wanted.map(key));
    const have = new Set((role.acls ?? []).map(key));
    await this.dynsec.apply([
      ...(role.acls ?? [])
        .filter((a) => !want.has(key(a)))
        .map((a) => ({ command: 'removeRoleACL', rolename, acltype: a.acltype, topic: a.topic })),
      ...wanted.filter((a) => !have.has(key(a))).map((a) => ({ command: 'addRoleACL', rolename, ...a })),
    ]);
  }

  async #userAcls(userId: number): Promise<Acl[]> {
    const visible = await devicesVisibleTo(this.ctx.db, userId);
    const acls: Acl[] = [
      // Nothing reaches an app but its own devices' state (priority: the allows below win).
      { acltype: 'publishClientReceive', topic: '#', allow: false, priority: 0 },
    ];
    if (visible && !NOT_A_LEVEL.test(visible.email))
      for (const uuid of visible.deviceUuids) {
        const state = `client/state/${visible.email}/${uuid}`;
        acls.push(
          { acltype: 'subscribePattern', topic: state, allow: true, priority: 1 },
          { acltype: 'publishClientReceive', topic: state, allow: true, priority: 1 },
          {
            acltype: 'publishClientSend',
            topic: `client/request_state/${visible.email}/${uuid}`,
            allow: true,
            priority: 1,
          },
        );
      }
    return acls;
  }
}

type AppLogin = Omit<CentralEvents['app-login.issued'], 'waitFor'>;

function deviceCommands(uuid: string): DynsecCommand[] {
  return [
    {
      command: 'createRole',
      rolename: deviceRole(uuid),
      acls: [
        { acltype: 'publishClientSend', topic: `devices/${uuid}/#`, allow: true },
        { acltype: 'subscribePattern', topic: `commands/${uuid}/#`, allow: true },
      ],
    },
    { command: 'createClient', username: uuid, roles: [{ rolename: deviceRole(uuid) }] },
  ];
}

function revokeCommands(uuid: string): DynsecCommand[] {
  return [
    // Disabling disconnects its live connections; deleting leaves it no rights at all.
    { command: 'disableClient', username: uuid },
    ...deleteClient(uuid),
    { command: 'deleteRole', rolename: deviceRole(uuid) },
  ];
}

function deleteClient(username: string): DynsecCommand[] {
  return [{ command: 'deleteClient', username }];
}
