/**
 * The actions each actuator type accepts: central validates `POST /api/devices/{id}/command` against
 * this table and the hub's drivers declare the same lists, so the two cannot disagree.
 */
export const COMPONENT_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  led: ['on', 'off', 'toggle'],
  relay: ['on', 'off', 'toggle'],
  pump: ['on', 'off', 'toggle'],
};

export function actionsFor(componentType: string): readonly string[] {
  return Object.hasOwn(COMPONENT_ACTIONS, componentType) ? COMPONENT_ACTIONS[componentType]! : [];
}
