import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from '../../core/logger.js';
import { FrameScanner, TokenBucket } from '../../core/mqtt-frames.js';
import type { NodeRegistry } from './nodes.js';

export interface BrokerLimits {
  /** Largest MQTT packet a LAN client may send (bytes). */
  maxPacketBytes: number;
  maxConnections: number;
  /** Sustained publishes per second per client (bursts up to twice that). */
  maxPublishPerSecond: number;
  maxTopicLevels: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  maxPacketBytes: 64 * 1024,
  maxConnections: 64,
  maxPublishPerSecond: 100,
  maxTopicLevels: 8,
};

/**
 * What a LAN node published under its own prefix: `local/{node_id}/{stream}`. Resolves once the
 * message is stored: the node's QoS1 PUBACK waits for it.
 */
export type NodeMessageListener = (nodeId: string, stream: string, payload: Buffer) => void | Promise<void>;

type NodeClient = Client & { aresNodeId?: string; aresBucket?: TokenBucket };

const AUTH_FAILED = Object.assign(new Error('bad node credentials'), { returnCode: 4 }) as AuthenticateError;

/**
 * The hub's LAN broker (§4.6): aedes (MQTT 3.1.1) on `hub.mqtt_port`. LAN clients authenticate as
 * nodes (`ares hub nodes add`); a node publishes only under `local/{its node_id}/…` and subscribes
 * only to `telemetry/#` and `alerts/#`. Packet size, connections, topic depth and publish rate are
 * bounded; a client that breaks a rule is disconnected, the broker and the daemon carry on.
 */
export class LocalBroker {
  #aedes: Aedes | undefined;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #clientsByNode = new Map<string, Set<Client>>();
  #removalCheck: NodeJS.Timeout | undefined;
  onNodeMessage: NodeMessageListener = () => undefined;

  constructor(
    private readonly log: Logger,
    private readonly nodes: NodeRegistry,
    private readonly limits: BrokerLimits = DEFAULT_LIMITS,
  ) {}

  async start(port: number, host = '0.0.0.0'): Promise<number> {
    const aedes = await Aedes.createBroker({
      maxTopicLevels: this.limits.maxTopicLevels,
      maxClientsIdLength: 64,
      concurrency: 100,
    });
    this.#aedes = aedes;
    aedes.authenticate = (client, username, password, done) => {
      if (!username || !password) return done(AUTH_FAILED, false);
      this.nodes.authenticate(username, password).then(
        (ok) => {
          if (ok) (client as NodeClient).aresNodeId = username;
          else
            this.log.warn(
              { node_id: username.slice(0, 64), client_id: client.id },
              'LAN client refused: bad node credentials',
            );
          done(ok ? null : AUTH_FAILED, ok);
        },
        () => done(AUTH_FAILED, false),
      );
    };
    aedes.authorizePublish = (client, packet, done) => {
      if (!client) return done(null); // the hub itself
      const c = client as NodeClient;
      const nodeId = c.aresNodeId;
      if (
        !nodeId ||
        !packet.topic.startsWith(`local/${nodeId}/`) ||
        packet.topic.includes('+') ||
        packet.topic.includes('#')
      ) {
        this.log.warn(
          { node_id: nodeId, topic: packet.topic.slice(0, 128) },
          'LAN publish outside the node prefix: disconnecting',
        );
        return done(new Error('not allowed'));
      }
      if (!this.#takeToken(c)) {
        this.log.warn({ node_id: nodeId }, 'LAN client over its publish rate: disconnecting');
        return done(new Error('rate limit'));
      }
      // The message is handled here, before aedes answers: a QoS1 PUBACK goes out only once the
      // reading is committed to the outbox. If storing fails the node is disconnected unacknowledged
      // and re-sends it when it reconnects.
      const stream = packet.topic.slice(`local/${nodeId}/`.length);
      let handled: Promise<void> | void = undefined;
      try {
        handled = this.onNodeMessage(nodeId, stream, packet.payload as Buffer);
      } catch (err) {
        this.log.error({ err, node_id: nodeId }, 'node message handler failed');
      }
      if (!handled || packet.qos === 0) {
        // QoS 0 is at most once: nothing to withhold. The failing subscriber logged its error; this
        // says the reading is lost.
        handled?.catch((err: unknown) =>
          this.log.warn({ err, node_id: nodeId }, 'LAN message (QoS 0) not stored: lost'),
        );
        return done(null);
      }
      handled.then(
        () => done(null),
        (err: unknown) => {
          this.log.error({ err, node_id: nodeId }, 'LAN message not stored: not acknowledged');
          done(new Error('not stored'));
        },
      );
    };
    aedes.authorizeSubscribe = (client, sub, done) => {
      // A null subscription is refused (SUBACK 0x80) while the client stays connected.
      done(null, /^(telemetry|alerts)(\/|$)/.test(sub.topic) ? sub : null);
    };
    aedes.on('clientReady', (client) => {
      const nodeId = (client as NodeClient).aresNodeId;
      if (!nodeId) return;
      let set = this.#clientsByNode.get(nodeId);
      if (!set) this.#clientsByNode.set(nodeId, (set = new Set()));
      set.add(client);
    });
    aedes.on('clientDisconnect', (client) => {
      const nodeId = (client as NodeClient).aresNodeId;
      const set = nodeId ? this.#clientsByNode.get(nodeId) : undefined;
      set?.delete(client);
      if (nodeId && set?.size === 0) this.#clientsByNode.delete(nodeId);
    });
    // Node removals are made by another process (the CLI) in hub.db; look for them every few seconds.
    this.#removalCheck = setInterval(() => this.dropRemovedNodes(), 5000);
    this.#removalCheck.unref();
    aedes.on('clientError', (client, err) =>
      this.log.debug({ client_id: client.id, err: err.message }, 'LAN client error'),
    );
    aedes.on('connectionError', (client, err) =>
      this.log.debug({ client_id: client?.id, err: err.message }, 'LAN connection error'),
    );

    return this.#listen(
      createServer((socket) => this.#accept(aedes, socket)),
      port,
      host,
    );
  }

  /**
   * An additional MQTT-over-TLS listener with the same rules (nodes that can do TLS, such as phones);
   * call after start(). Handshake failures drop that connection only.
   */
  async startTls(port: number, tls: TlsOptions, host = '0.0.0.0'): Promise<number> {
    const aedes = this.#aedes;
    if (!aedes) throw new Error('LocalBroker.startTls before start');
    const server = createTlsServer(tls, (socket) => this.#accept(aedes, socket));
    server.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'LAN TLS handshake failed'));
    return this.#listen(server, port, host);
  }

  async #listen(server: Server, port: number, host: string): Promise<number> {
    server.maxConnections = this.limits.maxConnections;
    this.#servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'LAN broker listener error'));
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  #accept(aedes: Aedes, socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    aedes.handle(socket);
    // aedes pulls chunks with read(); each read also emits 'data', so the scanner sees every chunk
    // as aedes gets it, without a stream in between.
    const scanner = new FrameScanner(this.limits.maxPacketBytes);
    socket.on('data', (chunk: Buffer) => {
      const violation = scanner.feed(chunk);
      if (violation) {
        this.log.warn(
          { remote: socket.remoteAddress, reason: violation },
          'LAN client sent an oversized or malformed packet: disconnecting',
        );
        socket.destroy();
      }
    });
  }

  /** Token bucket per client: `maxPublishPerSecond` sustained, twice that in a burst. */
  #takeToken(c: NodeClient): boolean {
    c.aresBucket ??= new TokenBucket(this.limits.maxPublishPerSecond);
    return c.aresBucket.take();
  }

  /** Publishes from the hub itself (component states, alerts), retained by default. */
  publish(topic: string, payload: string | Buffer, retain = true): Promise<void> {
    const aedes = this.#aedes;
    if (!aedes) return Promise.resolve();
    return new Promise((resolve, reject) =>
      aedes.publish(
        {
          cmd: 'publish',
          topic,
          payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
          qos: 1,
          retain,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  /** Disconnects clients of nodes removed with `ares hub nodes remove` since they connected. */
  dropRemovedNodes(): void {
    for (const [nodeId, clients] of this.#clientsByNode) {
      if (this.nodes.exists(nodeId)) continue;
      this.log.info({ node_id: nodeId }, 'node removed: disconnecting its clients');
      for (const c of clients) c.close();
    }
  }

  async stop(): Promise<void> {
    if (this.#removalCheck) clearInterval(this.#removalCheck);
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await new Promise<void>((resolve) => (this.#aedes ? this.#aedes.close(() => resolve()) : resolve()));
    this.#aedes = undefined;
  }
}
