import { imu } from './imu.js';
import type { NodeKind } from './node-kind.js';
import { radar } from './radar.js';

/**
 * The LAN node kinds this hub knows, by `component_type` (= their stream name on the broker). A
 * component of such a type has no driver: its data arrives from the node it names.
 */
const KINDS = new Map<string, NodeKind<never>>([
  [imu.type, imu as NodeKind<never>],
  [radar.type, radar as NodeKind<never>],
]);

export function nodeKind(type: string): NodeKind | undefined {
  return KINDS.get(type) as NodeKind | undefined;
}

/** Whether components of this type are served by a LAN node rather than a driver. */
export function isNodeType(type: string): boolean {
  return KINDS.has(type);
}

/** Every kind whose stream fall detection watches. */
export function fallKinds(): NodeKind[] {
  return [...KINDS.values()].filter((k) => k.fall !== undefined) as NodeKind[];
}

/** Adds a kind (an extension's sensor; tests). A type already known is refused. */
export function registerNodeKind<Msg>(kind: NodeKind<Msg>): void {
  if (KINDS.has(kind.type)) throw new Error(`LAN node kind ${kind.type} is already registered`);
  KINDS.set(kind.type, kind as unknown as NodeKind<never>);
}

/** Removes a registered kind (tests clean up after themselves). */
export function unregisterNodeKind(type: string): void {
  if (type !== imu.type && type !== radar.type) KINDS.delete(type);
}
