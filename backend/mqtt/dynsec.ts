import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { AresError } from '../../core/errors.js';

const CONTROL = '$CONTROL/dynamic-security/v1';
/** Mosquitto answers in milliseconds; a silent broker is an outage, not something to wait out. */
const TIMEOUT_MS = 10_000;

export interface DynsecCommand {
  command: string;
  [key: string]: unknown;
}

export interface DynsecResponse {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
}

/** Errors that mean "already as wanted": creating what exists, deleting what is gone. */
const IDEMPOTENT = /already exists|not found/i;

/**
 * A client for Mosquitto's dynamic-security plugin: commands are published to `$CONTROL/dynamic-
 * security/v1` and answered on `…/response`, matched by correlation data. A batch is one control
 * message, which Mosquitto (single-threaded) applies without any client packet in between: a role
 * rebuilt by delete + create is never seen half-built.
 */
export class DynsecClient {
  readonly #pending = new Map<string, (r: DynsecResponse) => void>();

  constructor(private readonly mqtt: MqttClient) {}

  async start(): Promise<void> {
    this.mqtt.on('message', (topic, payload) => {
      if (topic === `${CONTROL}/response`) this.#answer(payload);
    });
    await this.mqtt.subscribeAsync(`${CONTROL}/response`, { qos: 1 });
  }

  /** Runs commands in order; resolves to one response each. Rejects (transient) on a timeout. */
  async run(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    if (commands.length === 0) return [];
    const batch = randomBytes(6).toString('hex');
    const answers = commands.map(
      (_c, i) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const id = `${batch}:${i}`;
          const timer = setTimeout(() => {
            this.#pending.delete(id);
            reject(
              new AresError('ARES_ERR_UNAVAILABLE', 'MQTT broker: no answer from its dynamic-security plugin', {
                transient: true,
              }),
            );
          }, TIMEOUT_MS);
          this.#pending.set(id, (r) => (clearTimeout(timer), resolve(r)));
        }),
    );
    const body = { commands: commands.map((c, i) => ({ ...c, correlationData: `${batch}:${i}` })) };
    await this.mqtt.publishAsync(CONTROL, JSON.stringify(body), { qos: 1 });
    return Promise.all(answers);
  }

  /**
   * Sends without waiting for answers, at QoS 0 so it is never re-sent: for commands that make
   * Mosquitto disconnect the sender itself (changing a connected client's roles kicks it).
   */
  async send(commands: DynsecCommand[]): Promise<void> {
    await this.mqtt.publishAsync(CONTROL, JSON.stringify({ commands }), { qos: 0 });
  }

  /** Like run(), but an error other than "exists"/"not found" rejects, naming the command. */
  async apply(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const responses = await this.run(commands);
    const failed = responses.find((r) => r.error && !IDEMPOTENT.test(r.error));
    if (failed)
      throw new AresError('ARES_ERR_UNAVAILABLE', `MQTT broker refused ${failed.command}: ${failed.error}`, {
        transient: true,
      });
    return responses;
  }

  #answer(payload: Buffer): void {
    let body: { responses?: (DynsecResponse & { correlationData?: unknown })[] };
    try {
      body = JSON.parse(payload.toString('utf8')) as typeof body;
    } catch {
      return;
    }
    for (const r of Array.isArray(body.responses) ? body.responses : []) {
      if (typeof r?.correlationData !== 'string') continue;
      const done = this.#pending.get(r.correlationData);
      this.#pending.delete(r.correlationData);
      done?.(r);
    }
  }
}
