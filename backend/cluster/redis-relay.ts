import { randomBytes } from 'node:crypto';
import type { CentralContext, CentralEvents } from '../context.js';
import type { RedisClient } from '../redis.js';

type Publish = (topic: string, payload: string, retain: boolean) => Promise<void>;

/** Bus events another instance may have to act on. */
const RELAYED = ['device.revoked', 'command.queued', 'membership.changed'] as const;
type Relayed = (typeof RELAYED)[number];

type RelayMessage =
  | { origin: string; kind: 'event'; event: Relayed; payload: CentralEvents[Relayed] }
  | { origin: string; kind: 'publish'; topic: string; payload: string; retain: boolean };

/**
 * Ties several central instances together over Redis pub/sub (`central.redis_url`), for what one
 * instance decides but another must act on: a device revoked through instance B is dropped by A,
 * where it is connected; a command queued through B is delivered by A; a member removed through B
 * loses A's subscriptions; the state an instance
 * publishes to apps reaches the apps connected to the other instances' embedded brokers.
 * Relayed bus events carry `remote: true` so they are not relayed back.
 */
export class RedisRelay {
  readonly #origin = randomBytes(8).toString('hex');
  #subscriber: RedisClient | undefined;
  #localPublish: Publish | undefined;

  constructor(
    private readonly ctx: CentralContext,
    private readonly redis: RedisClient,
  ) {}

  get #channel(): string {
    return `${this.ctx.config.central.redis_prefix}relay`;
  }

  /** `localPublish` puts a relayed app publish on this instance's broker (embedded broker only). */
  async start(localPublish?: Publish): Promise<void> {
    this.#localPublish = localPublish;
    const { bus, log } = this.ctx;
    // A connection in subscriber mode can do nothing else: it gets its own.
    const sub = this.redis.duplicate();
    sub.on('error', (err: Error) => log.warn({ err: err.message }, 'Redis relay connection error'));
    await sub.connect();
    this.#subscriber = sub;
    await sub.subscribe(this.#channel, (message) => this.#receive(message));
    for (const event of RELAYED)
      bus.on('redis-relay', event, (payload: CentralEvents[Relayed]) => {
        if (!payload.remote) this.#send({ origin: this.#origin, kind: 'event', event, payload });
      });
  }

  /** Publishes on every other instance's broker (this instance's own publish is the caller's). */
  publishElsewhere(topic: string, payload: string, retain: boolean): void {
    this.#send({ origin: this.#origin, kind: 'publish', topic, payload, retain });
  }

  #send(message: RelayMessage): void {
    this.redis
      .publish(this.#channel, JSON.stringify(message))
      .catch((err: unknown) =>
        this.ctx.log.warn({ err, kind: message.kind }, 'relay to other central instances failed'),
      );
  }

  #receive(raw: string): void {
    let m: RelayMessage;
    try {
      m = JSON.parse(raw) as RelayMessage;
    } catch {
      return this.ctx.log.warn('unreadable relay message ignored');
    }
    if (!m || typeof m !== 'object' || m.origin === this.#origin) return;
    if (m.kind === 'event' && RELAYED.includes(m.event) && m.payload && typeof m.payload === 'object')
      this.ctx.bus.emit(m.event, { ...m.payload, remote: true } as never);
    else if (m.kind === 'publish' && typeof m.topic === 'string' && typeof m.payload === 'string')
      this.#localPublish?.(m.topic, m.payload, m.retain === true).catch((err: unknown) =>
        this.ctx.log.warn({ err, topic: m.topic }, 'relayed publish failed'),
      );
  }

  async stop(): Promise<void> {
    this.ctx.bus.removeAll('redis-relay');
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    if (sub?.isOpen) await sub.quit().catch(() => sub.destroy());
  }
}
