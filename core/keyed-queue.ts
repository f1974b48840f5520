/**
 * Steps run one after another per key (a device, a LAN node), keys independent of each other. A step
 * that fails is handed to `onError` and the next one still runs; nothing is ever thrown at the caller
 * (a broker callback must not see a rejection).
 */
export class KeyedQueue {
  readonly #chains = new Map<string, Promise<void>>();

  constructor(private readonly onError: (err: unknown, key: string) => void) {}

  /** Runs `step` after every earlier step for `key`; resolves when it has run. */
  run(key: string, step: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(key) ?? Promise.resolve())
      .then(step)
      .catch((err: unknown) => this.onError(err, key));
    this.#chains.set(key, next);
    void next.then(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
    return next;
  }

  /** Resolves when every step queued so far has run. */
  async idle(): Promise<void> {
    await Promise.all(this.#chains.values());
  }
}
