import type { Logger } from '../../core/logger.js';

/** One output of one component, as it flows through the hub. */
export interface ComponentOutput {
  componentId: number;
  componentType: string;
  kind: 'reading' | 'state' | 'event';
  /** reading: the metric; event: the event name; state: 'state'. */
  name: string;
  value?: number;
  state?: string;
  data?: Record<string, unknown>;
  /** Epoch ms from the hub clock. */
  ts: number;
}

/** A listener may return a promise: `emitStored` waits for it (the outbox resolves once committed). */
export type OutputListener = (out: ComponentOutput) => unknown;

/**
 * The one path every reading, state change and event takes: the latest state per component is kept
 * here, and every subscriber (local broker, outbox, fall detection) hears every output. Subscribers
 * register under an owner name and are isolated: one that throws is logged, the others still hear.
 */
export class Pipeline {
  readonly #listeners = new Map<string, OutputListener>();
  readonly #latest = new Map<number, { state?: string; readings: Record<string, number>; ts: number }>();

  constructor(private readonly log: Logger) {}

  on(owner: string, listener: OutputListener): void {
    this.#listeners.set(owner, listener);
  }

  off(owner: string): void {
    this.#listeners.delete(owner);
  }

  /** Hands the output to every subscriber; what they do asynchronously is theirs to log. */
  emit(out: ComponentOutput): void {
    this.emitStored(out).catch(() => undefined); // each failure was logged where it happened
  }

  /**
   * Like emit(), resolving once every subscriber that returned a promise has settled it — for the
   * producers whose acknowledgement means "stored" (a LAN node's PUBACK, POST /events' 2xx). Rejects
   * if any of them failed.
   */
  emitStored(out: ComponentOutput): Promise<void> {
    const cur = this.#latest.get(out.componentId) ?? { readings: {}, ts: 0 };
    if (out.kind === 'state' && out.state !== undefined) cur.state = out.state;
    if (out.kind === 'reading' && out.value !== undefined) cur.readings[out.name] = out.value;
    cur.ts = out.ts;
    this.#latest.set(out.componentId, cur);
    const waits: Promise<unknown>[] = [];
    for (const [owner, listener] of this.#listeners) {
      try {
        const r = listener(out);
        if (r instanceof Promise)
          waits.push(
            r.catch((err: unknown) => {
              this.log.error({ err, owner }, 'pipeline subscriber failed');
              throw err;
            }),
          );
      } catch (err) {
        this.log.error({ err, owner }, 'pipeline subscriber failed');
      }
    }
    return waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => undefined);
  }

  /** The latest state and readings of a component (for health, state topics and central). */
  latest(componentId: number): Readonly<{ state?: string; readings: Record<string, number>; ts: number }> | undefined {
    return this.#latest.get(componentId);
  }

  forget(componentId: number): void {
    this.#latest.delete(componentId);
  }
}
