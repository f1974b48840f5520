import { join } from 'node:path';
import { systemClock } from '../../core/clock.js';
import { CONFIG_SCHEMA } from '../../core/config-schema.js';
import { silentLogger } from '../../core/logger.js';
import { Outbox } from '../../sync/outbox.js';

/** The hub's default group-commit interval (hub.buffer_commit_ms), what production runs with. */
export const DEFAULT_COMMIT_MS = CONFIG_SCHEMA.hub.buffer_commit_ms.default as number;

/** A started hub outbox (buffer.db in `dir`) configured as the hub's defaults: what the benches measure. */
export function benchOutbox(dir: string): Outbox {
  const outbox = new Outbox({
    path: join(dir, 'buffer.db'),
    maxBytes: 256 * 1024 * 1024,
    commitMs: DEFAULT_COMMIT_MS,
    clock: systemClock,
    bootId: '00000000-0000-4000-8000-000000000000',
    monoMs: () => performance.now(),
    clockSynced: () => true,
    log: silentLogger(),
  });
  outbox.start();
  return outbox;
}
