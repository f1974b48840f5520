import type { Bus } from '../core/bus.js';
import type { ComponentSpec } from '../sync/components.js';
import type { HubCredentials } from './state/credentials.js';

/**
 * What the hub's parts tell each other (CONVENTIONS §6): one typed table instead of callbacks assigned
 * across the composition root. Listeners run synchronously and isolated (core/bus.ts): one that throws is
 * logged and the others still run.
 */
export interface HubEvents {
  /** A new attached-component list: from central, from the cache at start, or empty once de-provisioned. */
  'components.changed': { list: ComponentSpec[]; source: 'central' | 'cache' | 'none' };
  /** The component runtime runs the drivers of that list (commands held by central can find them now). */
  'components.running': { list: readonly ComponentSpec[] };
  /**
   * The credentials the hub holds changed: loaded at start, issued by central once claimed, renewed (a new
   * device certificate), or wiped (unlinked, revoked, `system/reset`; then `creds` is undefined).
   */
  'credentials.changed': { creds: HubCredentials | undefined; reason: 'loaded' | 'issued' | 'renewed' | 'wiped' };
}

export type HubBus = Bus<HubEvents>;
