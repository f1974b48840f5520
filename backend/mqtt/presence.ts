/**
 * Which connected devices have gone silent (seed §4.5: TIMEOUT), without scanning every device.
 * All devices share one limit, so ordering by deadline is ordering by last-seen time: a Map re-inserted
 * on every touch keeps that order (a linked list in effect), touch is O(1), and a sweep walks from the
 * oldest entry and stops at the first one still alive — its cost is the number of timed-out devices,
 * not the number connected. (With Redis the same role is played by a sorted set.)
 */
export class PresenceTracker {
  readonly #lastSeen = new Map<string, number>();

  constructor(private readonly limitMs: number) {}

  /** The device said something at `nowMs`; true if it was not tracked before (new, or swept). */
  touch(deviceUuid: string, nowMs: number): boolean {
    const known = this.#lastSeen.delete(deviceUuid);
    this.#lastSeen.set(deviceUuid, nowMs);
    return !known;
  }

  /** The device disconnected: its presence is OFFLINE, no longer a candidate for TIMEOUT. */
  remove(deviceUuid: string): void {
    this.#lastSeen.delete(deviceUuid);
  }

  /** Devices silent for longer than the limit; they leave the tracker until they speak again. */
  sweep(nowMs: number): string[] {
    const out: string[] = [];
    for (const [uuid, seen] of this.#lastSeen) {
      // Touches arrive in time order, so the first live entry ends the walk. A clock step backwards
      // only delays a timeout by at most the step.
      if (nowMs - seen <= this.limitMs) break;
      out.push(uuid);
    }
    for (const uuid of out) this.#lastSeen.delete(uuid);
    return out;
  }

  get size(): number {
    return this.#lastSeen.size;
  }
}
