import type { ComponentSpec } from '../sync/components.js';
import type { Driver } from './types.js';

/** Bounds of a sampling driver's `config.interval_s`, in seconds. */
export interface IntervalBounds {
  default: number;
  min: number;
  max: number;
}

export function intervalProblems(component: ComponentSpec, b: IntervalBounds): string[] {
  const v = component.config?.['interval_s'];
  if (v === undefined || v === null) return [];
  if (typeof v === 'number' && Number.isFinite(v) && v >= b.min && v <= b.max) return [];
  return [`config.interval_s must be a number of seconds from ${b.min} to ${b.max}`];
}

/** Clamped as well as checked: a timer must never spin even if check() was skipped. */
export function intervalMs(component: ComponentSpec, b: IntervalBounds): number {
  const v = component.config?.['interval_s'];
  const s = typeof v === 'number' && Number.isFinite(v) ? v : b.default;
  return Math.min(Math.max(s, b.min), b.max) * 1000;
}

/**
 * The lifecycle every sampling sensor shares: one sample at start (a fresh hub shows values at once,
 * not after the first interval), then one per interval; one sample at a time (a slow read skips a
 * tick instead of piling up); `stop()` waits for a sample in progress. `sample` must not reject (a
 * timer has nobody to throw to) and should ask `isRunning()` before emitting a late result.
 */
export function periodicDriver(everyMs: number, sample: (isRunning: () => boolean) => Promise<void>): Driver {
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let running = false;
  const isRunning = () => running;
  const poll = (): Promise<void> => (inFlight ??= sample(isRunning).finally(() => (inFlight = undefined)));
  return {
    async start() {
      if (running) return;
      running = true;
      await poll();
      if (running) timer = setInterval(() => void poll(), everyMs);
    },
    async stop() {
      running = false;
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
