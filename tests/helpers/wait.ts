/** Polls `cond` every 10 ms until it holds; fails naming what it waited for after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A hub `wait` for tests: the production loop, with each wait capped at `capMs`. */
export const fastWait =
  (capMs = 50) =>
  (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.min(ms, capMs));
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
