/** Polls `cond` every 10 ms until it holds; fails naming what it waited for after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Asserts that `cond` holds for the whole of the next `windowMs`: checked at once, every 10 ms, and
 * once more after the window has fully elapsed; throws naming `what` the first time it does not.
 *
 * For "X did not happen": a fixed sleep followed by one check passes vacuously when X merely comes
 * late (a slow machine, a loaded CI runner), and never notices an X that happened and was undone
 * before the check. Wait first for what must happen (`until`), then observe the window with this.
 */
export function holds(what: string, cond: () => boolean | Promise<boolean>, windowMs: number): Promise<void> {
  return observe(cond, windowMs, (ms) => `did not hold for ${windowMs} ms (broke after ${ms} ms): ${what}`);
}

/** Asserts that `happened` stays false for the whole of the next `windowMs` (see holds()). */
export function never(what: string, happened: () => boolean | Promise<boolean>, windowMs: number): Promise<void> {
  return observe(
    async () => !(await happened()),
    windowMs,
    (ms) => `happened within ${windowMs} ms (after ${ms} ms): ${what}`,
  );
}

async function observe(
  ok: () => boolean | Promise<boolean>,
  windowMs: number,
  failure: (afterMs: number) => string,
): Promise<void> {
  const start = Date.now();
  const end = start + windowMs;
  for (;;) {
    const now = Date.now();
    if (!(await ok())) throw new Error(failure(now - start));
    // The last check is one that began once the whole window had passed.
    if (now >= end) return;
    await new Promise((r) => setTimeout(r, Math.min(10, end - now)));
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
