import type { IncomingMessage } from 'node:http';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { FrameScanner, TokenBucket } from '../../core/mqtt-frames.js';
import type { CentralContext } from '../context.js';
import { MQTT_USERNAME_PREFIX, checkMqttCredentials } from '../store/mqtt-credentials.js';
import { loadAuthUser, normalizeEmail } from '../store/users.js';
import { isDeviceMember, liveDeviceCertificates, unrevokedSerials } from '../store/realtime-access.js';
import { appTopicDevice, devicePublishAllowed, deviceSubscribeAllowed, type Principal } from './acl.js';
import { tellRealtime, type BrokerEvents, type RealtimeBroker } from './realtime.js';

type AresClient = Client & { ares?: Principal; aresBucket?: TokenBucket };

/** Largest MQTT packet central accepts: component state and results are small; 256 KiB is generous. */
const MAX_PACKET_BYTES = 256 * 1024;
/** Sustained publishes per second per client (a hub's state is coalesced; an app asks now and then). */
const MAX_PUBLISH_PER_S = 50;

const refuse = (returnCode: 4 | 5, message: string) =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;
/** How often live device connections are re-checked against revocations made by other instances. */
const RECHECK_MS = 60_000;

/**
 * Central's embedded MQTT broker (`central.mqtt_port`, TLS). Devices present client certificates
 * that must chain to central's CA, be unexpired and unrevoked; the certificate CN is the device
 * identity. Apps connect without a certificate, as username = email and password = an access token.
 * The §4.6 ACLs apply (acl.ts). Revoking a device refuses it at once and drops its live connections.
 */
export class CentralBroker implements RealtimeBroker {
  /** Each instance has its own embedded broker. */
  readonly shared = false;
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  #recheck: NodeJS.Timeout | undefined;
  readonly #devices = new Map<string, Set<AresClient>>();
  /** Live app connections by account, to cut off someone who lost access to a device. */
  readonly #apps = new Map<number, Set<AresClient>>();
  readonly #sockets = new Set<TLSSocket>();
  /** Devices with a live subscription to their commands. */
  readonly #listening = new Set<string>();
  /** Set by the realtime layer before start(). */
  events: BrokerEvents | undefined;

  constructor(private readonly ctx: CentralContext) {}

  async start(port: number, host: string): Promise<number> {
    const { ctx } = this;
    const aedes = await Aedes.createBroker({ maxClientsIdLength: 128 });
    this.#aedes = aedes;
    aedes.authenticate = (client, username, password, done) => {
      this.#authenticate(client as AresClient, username, password).then(
        (principal) => {
          (client as AresClient).ares = principal;
          done(null, true);
        },
        (err: AuthenticateError) => {
          ctx.metrics.authFailures.inc({ kind: 'mqtt', reason: err.message });
          ctx.log.warn({ client_id: client.id, reason: err.message }, 'MQTT connection refused');
          done(err, false);
        },
      );
    };
    aedes.authorizePublish = (client, packet, done) => {
      const p = (client as AresClient | null)?.ares;
      if (!client) return done(null); // central itself
      const c = client as AresClient;
      c.aresBucket ??= new TokenBucket(MAX_PUBLISH_PER_S);
      if (!c.aresBucket.take()) {
        ctx.log.warn({ client_id: client.id }, 'MQTT client over its publish rate: disconnecting');
        return done(new Error('rate limit'));
      }
      if (p?.kind === 'device')
        return done(devicePublishAllowed(p.deviceUuid, packet.topic) ? null : new Error('not allowed'));
      if (p?.kind === 'app') {
        const uuid = appTopicDevice(p.email, packet.topic, 'request_state');
        if (!uuid) return done(new Error('not allowed'));
        void this.#isMember(p.userId, uuid).then(
          (ok) => done(ok ? null : new Error('not allowed')),
          () => done(new Error('not allowed')),
        );
        return;
      }
      done(new Error('not authenticated'));
    };
    aedes.authorizeSubscribe = (client, sub, done) => {
      const p = (client as AresClient).ares;
      // A refused subscription answers SUBACK 0x80; the client stays connected.
      if (p?.kind === 'device') return done(null, deviceSubscribeAllowed(p.deviceUuid, sub.topic) ? sub : null);
      if (p?.kind === 'app') {
        const uuid = appTopicDevice(p.email, sub.topic, 'state');
        if (!uuid) return done(null, null);
        void this.#isMember(p.userId, uuid).then(
          (ok) => done(null, ok ? sub : null),
          () => done(null, null),
        );
        return;
      }
      done(null, null);
    };
    aedes.on('clientReady', (client) => {
      const p = (client as AresClient).ares;
      if (p?.kind === 'app') return addTo(this.#apps, p.userId, client as AresClient);
      if (p?.kind !== 'device') return;
      addTo(this.#devices, p.deviceUuid, client as AresClient);
      this.#tell((e) => e.deviceOnline(p));
    });
    aedes.on('clientDisconnect', (client) => {
      const p = (client as AresClient).ares;
      if (p?.kind === 'app') return removeFrom(this.#apps, p.userId, client as AresClient);
      if (p?.kind !== 'device') return;
      removeFrom(this.#devices, p.deviceUuid, client as AresClient);
      if (!this.#devices.has(p.deviceUuid)) {
        this.#listening.delete(p.deviceUuid);
        this.#tell((e) => e.deviceOffline(p));
      }
    });
    aedes.on('subscribe', (subscriptions, client) => {
      const p = (client as AresClient).ares;
      if (p?.kind !== 'device' || !subscriptions.some((s) => s.topic.startsWith(`commands/${p.deviceUuid}/`))) return;
      this.#listening.add(p.deviceUuid);
      this.#tell((e) => e.deviceListening(p));
    });
    aedes.on('publish', (packet, client) => {
      const p = (client as AresClient | null)?.ares;
      if (p?.kind === 'device') this.#tell((e) => e.deviceMessage(p, packet.topic, packet.payload as Buffer));
      else if (p?.kind === 'app') {
        const uuid = appTopicDevice(p.email, packet.topic, 'request_state');
        if (uuid) this.#tell((e) => e.stateRequested(p, uuid));
      }
    });
    aedes.on('clientError', (client, err) =>
      ctx.log.debug({ client_id: client.id, err: err.message }, 'MQTT client error'),
    );
    ctx.bus.on('central-broker', 'device.revoked', ({ deviceUuid }) => this.drop(deviceUuid, 'revoked'));
    // Subscriptions are authorised when made: someone who lost access is disconnected, and what
    // they subscribe to on reconnecting is checked again.
    ctx.bus.on('central-broker', 'membership.changed', ({ userIds, lost }) => {
      if (!lost) return;
      for (const id of userIds) for (const c of this.#apps.get(id) ?? []) c.close();
    });

    const hostname = ctx.config.central.public_url ? new URL(ctx.config.central.public_url).hostname : host;
    const tls = await ctx.ca.issueServerCertificate(
      [hostname, host, 'localhost', '127.0.0.1'],
      new Date(ctx.clock.now()),
    );
    const server = createServer(
      // Client certificates are requested, not required: apps log in without one. Unverified
      // certificates are refused in authenticate(), which can say why.
      {
        cert: tls.certPem,
        key: tls.keyPem,
        ca: [ctx.ca.certificatePem],
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (socket) => {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
        aedes.handle(socket, undefined as unknown as IncomingMessage);
        // aedes reads with read(); each read also emits 'data', so oversized packets are caught as
        // their header arrives, before their body is buffered.
        const scanner = new FrameScanner(MAX_PACKET_BYTES);
        socket.on('data', (chunk: Buffer) => {
          const violation = scanner.feed(chunk);
          if (violation) {
            ctx.log.warn({ reason: violation }, 'MQTT client sent an oversized or malformed packet: disconnecting');
            socket.destroy();
          }
        });
      },
    );
    server.on('tlsClientError', (err) => ctx.log.debug({ err: err.message }, 'MQTT TLS handshake failed'));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => (server.off('error', reject), resolve()));
    });
    this.#recheck = setInterval(() => void this.#recheckDevices(), RECHECK_MS);
    this.#recheck.unref();
    const addr = server.address();
    const bound = typeof addr === 'object' && addr ? addr.port : port;
    ctx.log.info({ port: bound }, 'central MQTT broker listening (TLS)');
    return bound;
  }

  async #authenticate(
    client: AresClient,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Principal> {
    const socket = client.conn as unknown as TLSSocket;
    const cert = socket.getPeerCertificate?.();
    if (cert && Object.keys(cert).length > 0) {
      if (!socket.authorized) throw refuse(5, `device certificate not accepted: ${String(socket.authorizationError)}`);
      const deviceUuid = String(cert.subject?.CN ?? '').toLowerCase();
      const serial = String(cert.serialNumber ?? '')
        .toLowerCase()
        .replace(/^0+/, '');
      const live = await liveDeviceCertificates(this.ctx.db, deviceUuid);
      const match = live.find((r) => r.serial.replace(/^0+/, '') === serial);
      if (!match) throw refuse(5, 'device certificate revoked or unknown');
      return { kind: 'device', deviceId: match.deviceId, deviceUuid, serial: match.serial };
    }
    if (!username || !password || password.length > 4096) throw refuse(4, 'credentials required');
    if (username.startsWith(MQTT_USERNAME_PREFIX)) {
      const app = await checkMqttCredentials(
        this.ctx.db.kysely,
        username,
        password.toString('utf8'),
        this.ctx.clock.now(),
      );
      if (!app) throw refuse(4, 'MQTT credentials unknown, expired or wrong');
      return { kind: 'app', userId: app.userId, email: app.email };
    }
    let claims;
    try {
      claims = await this.ctx.tokens.verify(password.toString('utf8'), this.ctx.clock.now());
    } catch (err) {
      throw refuse(4, (err as Error).message);
    }
    const user = await loadAuthUser(this.ctx.db, claims.userId, claims.tokenVersion);
    if (!user || user.email !== normalizeEmail(username)) throw refuse(4, 'token does not belong to this account');
    return { kind: 'app', userId: user.id, email: user.email };
  }

  #isMember(userId: number, deviceUuid: string): Promise<boolean> {
    return isDeviceMember(this.ctx.db, userId, deviceUuid);
  }

  #tell(fn: (events: BrokerEvents) => void): void {
    tellRealtime(this.events, this.ctx.log, fn);
  }

  /** Connected and subscribed to its commands: a command published now reaches it. */
  isListening(deviceUuid: string): boolean {
    return this.#listening.has(deviceUuid);
  }

  /** Disconnects every live connection of a device (revocation, de-provisioning). */
  drop(deviceUuid: string, why: string): void {
    const clients = this.#devices.get(deviceUuid);
    if (!clients) return;
    this.ctx.log.info({ device_uuid: deviceUuid, why }, 'dropping device connections');
    for (const c of clients) c.close();
  }

  /** Revocations made by another central instance reach this one within RECHECK_MS. */
  async #recheckDevices(): Promise<void> {
    const bySerial = new Map<string, string>();
    for (const [uuid, clients] of this.#devices)
      for (const c of clients) if (c.ares?.kind === 'device') bySerial.set(c.ares.serial, uuid);
    const serials = [...bySerial.keys()];
    // One query per 500 connections rather than one per connection.
    for (let i = 0; i < serials.length; i += 500) {
      const chunk = serials.slice(i, i + 500);
      let live: Set<string>;
      try {
        live = await unrevokedSerials(this.ctx.db, chunk);
      } catch {
        continue; // a database outage is no reason to drop devices
      }
      for (const serial of chunk) if (!live.has(serial)) this.drop(bySerial.get(serial)!, 'revoked elsewhere');
    }
  }

  /** Tests: run the revocation recheck now instead of waiting for its timer. */
  recheckNow(): Promise<void> {
    return this.#recheckDevices();
  }

  /** Central's own publishes (state to apps, commands to devices). */
  publish(topic: string, payload: string, retain = false): Promise<void> {
    const aedes = this.#aedes;
    // Stopping or stopped: aedes throws synchronously once closed; there is nobody left to tell.
    if (!aedes || aedes.closed) return Promise.resolve();
    return new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  async stop(): Promise<void> {
    // Disconnects during shutdown are not presence changes to report.
    this.events = undefined;
    if (this.#recheck) clearInterval(this.#recheck);
    this.ctx.bus.removeAll('central-broker');
    // aedes first: it ends every client; then no socket keeps the listener from closing.
    await new Promise<void>((resolve) => (this.#aedes ? this.#aedes.close(() => resolve()) : resolve()));
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

function addTo<K>(map: Map<K, Set<AresClient>>, key: K, client: AresClient): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(client);
}

function removeFrom<K>(map: Map<K, Set<AresClient>>, key: K, client: AresClient): void {
  const set = map.get(key);
  set?.delete(client);
  if (set?.size === 0) map.delete(key);
}
