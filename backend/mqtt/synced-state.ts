import type { SyncRecord } from '../../sync/records.js';
import type { SyncedComponent } from './state-store.js';

/** Component ids as the live channel keys them (database ids). */
const COMPONENT_ID = /^\d{1,10}$/;

/**
 * What one stored sync batch says about the device's current state: per component, its latest
 * `state` record, or its latest reading of each metric, timed by the hub's own clock (the clock the
 * live channel's `at` uses, so the two can be ordered). Events, alerts and the rest carry no state.
 */
export function syncedComponents(records: readonly SyncRecord[]): Record<string, SyncedComponent> {
  const out: Record<string, SyncedComponent> = {};
  // Per metric, so a batch whose readings arrive out of order still keeps each metric's newest.
  const readingAt = new Map<string, number>();
  for (const r of records) {
    const id = r.component_id;
    if (!id || !COMPONENT_ID.test(id) || !r.component_type) continue;
    if (r.type === 'state') {
      const cur = out[id];
      if (cur && cur.at > r.ts) continue;
      out[id] = { component_type: r.component_type, at: r.ts, state: r.data?.['state'] ?? null };
    } else if (r.type === 'reading' && r.metric !== undefined && r.value !== undefined) {
      let c = out[id];
      if (c && !c.readings) {
        if (c.at > r.ts) continue;
        c = undefined; // a component is one or the other; the newer record decides which
      }
      const key = `${id}\u0000${r.metric}`;
      if ((readingAt.get(key) ?? -1) > r.ts) continue;
      readingAt.set(key, r.ts);
      if (!c) out[id] = c = { component_type: r.component_type, at: r.ts, readings: {} };
      c.readings![r.metric] = r.value;
      c.at = Math.max(c.at, r.ts);
    }
  }
  return out;
}
