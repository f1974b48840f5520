import type { CentralContext } from '../context.js';
import { MQTT_USERNAME_PREFIX } from '../store/mqtt-credentials.js';
import type { DynsecClient, DynsecCommand } from './dynsec.js';

/** Who may connect to an external broker, kept in step with central's database. */
export interface BrokerAccounts {
  /** A hub got (or renewed) its certificate: it may connect as its uuid from now on. */
  deviceProvisioned(deviceUuid: string): Promise<void>;
  /** An app login was issued: it exists on the broker before the app is told. */
  appLoginIssued(userId: number, username: string, password: string, expiresAt: number): Promise<void>;
}

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
 */
export class DynsecAccounts implements BrokerAccounts {
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly ctx: CentralContext,
    private readonly dynsec: DynsecClient,
  ) {}

  start(): void {
    const { bus, log } = this.ctx;
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

  async deviceProvisioned(deviceUuid: string): Promise<void> {
    await this.dynsec.apply(deviceCommands(deviceUuid));
  }

  async appLoginIssued(userId: number, username: string, password: string, expiresAt: number): Promise<void> {
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
    const db = this.ctx.db.kysely;
    const now = this.ctx.clock.now();
    const [listed] = await this.dynsec.apply([{ command: 'listClients', verbose: false, count: -1, offset: 0 }]);
    const clients = new Set(
      (Array.isArray(listed?.data?.['clients']) ? (listed.data['clients'] as unknown[]) : []).filter(
        (c): c is string => typeof c === 'string',
      ),
    );
    const devices = await db
      .selectFrom('devices')
      .innerJoin('device_certificates', 'device_certificates.device_id', 'devices.id')
      .select('devices.device_uuid')
      .distinct()
      .where('devices.status', '=', 'provisioned')
      .where('device_certificates.revoked_at', 'is', null)
      .where('device_certificates.not_after', '>', now)
      .execute();
    const wantedDevices = new Set(devices.map((d) => d.device_uuid));
    const logins = await db.selectFrom('mqtt_credentials').select('username').where('expires_at', '>', now).execute();
    const liveLogins = new Set(logins.map((l) => l.username));
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
    const logins = await this.ctx.db.kysely
      .selectFrom('mqtt_credentials')
      .select('username')
      .where('user_id', '=', userId)
      .where('expires_at', '>', this.ctx.clock.now())
      .execute();
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
        ...logins.map((l) => ({ command: 'addClientRole', username: l.username, rolename })),
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
    const rows = await this.ctx.db.kysely
      .selectFrom('users')
      .leftJoin('user_devices', 'user_devices.user_id', 'users.id')
      .leftJoin('devices', 'devices.id', 'user_devices.device_id')
      .select(['users.email', 'devices.device_uuid'])
      .where('users.id', '=', userId)
      .execute();
    const email = rows[0]?.email;
    const acls: Acl[] = [
      // Nothing reaches an app but its own devices' state (priority: the allows below win).
      { acltype: 'publishClientReceive', topic: '#', allow: false, priority: 0 },
    ];
    if (email && !NOT_A_LEVEL.test(email))
      for (const { device_uuid: uuid } of rows) {
        if (!uuid) continue;
        const state = `client/state/${email}/${uuid}`;
        acls.push(
          { acltype: 'subscribePattern', topic: state, allow: true, priority: 1 },
          { acltype: 'publishClientReceive', topic: state, allow: true, priority: 1 },
          { acltype: 'publishClientSend', topic: `client/request_state/${email}/${uuid}`, allow: true, priority: 1 },
        );
      }
    return acls;
  }
}

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
