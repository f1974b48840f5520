import type { Logger } from './logger.js';

/**
 * A typed event bus keyed by owner (CONVENTIONS §6): `on(owner, event, fn)`, `removeAll(owner)` when
 * the owner stops. Listeners are isolated: one that throws is logged and the others still run.
 */
export class Bus<Events extends object> {
  readonly #listeners = new Map<keyof Events, Map<string, (payload: never) => void>>();

  constructor(private readonly log: Logger) {}

  on<E extends keyof Events>(owner: string, event: E, fn: (payload: Events[E]) => void): void {
    let byOwner = this.#listeners.get(event);
    if (!byOwner) this.#listeners.set(event, (byOwner = new Map()));
    byOwner.set(owner, fn as (payload: never) => void);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const [owner, fn] of this.#listeners.get(event) ?? []) {
      try {
        (fn as (p: Events[E]) => void)(payload);
      } catch (err) {
        this.log.error({ err, owner, event: String(event) }, 'event listener failed');
      }
    }
  }

  removeAll(owner: string): void {
    for (const byOwner of this.#listeners.values()) byOwner.delete(owner);
  }
}
