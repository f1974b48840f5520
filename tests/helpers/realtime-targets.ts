import mqtt, { type MqttClient } from 'mqtt';
import { startRealtimeChannel, type RealtimeChannel } from '../../backend/mqtt/channel.js';
import { REDIS_URL, redisPrefix, redisProblem } from './redis.js';
import { json, newUser, provisionedHub, startTestCentral, type TestCentral } from './central.js';

type Teardown = { teardown(fn: () => unknown): void };

/** A central with its realtime channel running, and where devices and apps connect. */
export interface RealtimeSetup {
  c: TestCentral;
  channel: RealtimeChannel;
  /** The broker port for devices (client certificates) and for apps (passwords). */
  devicePort: number;
  appPort: number;
  /** The CA that signs the broker's server certificate (central's). */
  ca: string;
}

/**
 * Where the realtime channel's shared tests run: the embedded broker with state in memory and in
 * Redis, and an external Mosquitto (tests/helpers/mosquitto.ts). `external`: the broker is not
 * central's own, so refusals look like Mosquitto's (a revoked device may finish its handshake, but
 * is dropped and may neither publish nor subscribe).
 */
export interface RealtimeTarget {
  name: string;
  skip: string | false;
  external: boolean;
  setup(t: Teardown, overrides?: Record<string, unknown>): Promise<RealtimeSetup>;
}

async function embedded(t: Teardown, overrides: Record<string, unknown>): Promise<RealtimeSetup> {
  const c = await startTestCentral(t, undefined, { 'central.mqtt_port': 0, ...overrides });
  const channel = await startRealtimeChannel(c.ctx, '127.0.0.1');
  t.teardown(() => channel.stop());
  return { c, channel, devicePort: channel.mqttPort!, appPort: channel.mqttPort!, ca: c.ctx.ca.certificatePem };
}

export async function realtimeTargets(): Promise<RealtimeTarget[]> {
  const redisSkip = await redisProblem();
  const { mosquittoTargets } = await import('./mosquitto.js');
  return [
    { name: 'embedded broker, state in memory', skip: false, external: false, setup: (t, o = {}) => embedded(t, o) },
    {
      name: 'embedded broker, state in Redis',
      skip: redisSkip ?? false,
      external: false,
      setup: (t, o = {}) =>
        embedded(t, { 'central.redis_url': REDIS_URL, 'central.redis_prefix': redisPrefix(), ...o }),
    },
    ...mosquittoTargets(redisSkip),
  ];
}

/** A hub preregistered, claimed by `ownerAuth`'s user, with the certificate central issued it. */
export const provisioned = provisionedHub;

/** Short-lived app credentials from the API, as an app gets them. */
export async function appLogin(
  c: TestCentral,
  auth: Record<string, string>,
): Promise<{ username: string; password: string }> {
  const res = await c.app.inject({ method: 'POST', url: '/api/users/me/mqtt-credentials', headers: auth });
  if (res.statusCode !== 201) throw new Error(`mqtt-credentials: ${res.statusCode} ${res.body}`);
  return json(res);
}

export { newUser };

/** Connects and resolves either way: `error` says why it did not (or the connection closed at once). */
export function connect(
  t: Teardown,
  port: number,
  opts: mqtt.IClientOptions,
): Promise<{ c: MqttClient; error?: Error }> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      connectTimeout: 3000,
      protocolVersion: 4,
      ...opts,
    });
    t.teardown(() => c.end(true));
    c.once('connect', () => resolve({ c }));
    c.once('error', (error) => resolve({ c, error }));
    c.once('close', () => resolve({ c, error: new Error('closed') }));
  });
}

export const closed = (c: MqttClient) =>
  new Promise<void>((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));

/** The SUBACK return code for one topic (128 = refused). */
export const suback = (c: MqttClient, topic: string) =>
  c.subscribeAsync(topic).then(
    (g) => g[0]!.qos,
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0],
  );
