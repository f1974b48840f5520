import type { DriverDescriptor } from './types.js';

type DriverModule = { default: DriverDescriptor };

/**
 * component_type → driver module, imported only when a hub has such a component. Adding a type is
 * one file and one line here.
 */
export const DRIVER_LOADERS: Readonly<Record<string, () => Promise<DriverModule>>> = {
  led: () => import('./led.js'),
  relay: () => import('./relay.js'),
  pump: () => import('./pump.js'),
  button: () => import('./button.js'),
  pir: () => import('./pir.js'),
  dht22: () => import('./dht22.js'),
  cpu_temp: () => import('./cpu-temp.js'),
  system: () => import('./system.js'),
};

/** The descriptor for `type`, or undefined when no driver exists (the caller reports it). */
export async function loadDriver(type: string): Promise<DriverDescriptor | undefined> {
  // Own keys only: 'constructor' or 'toString' must not find Object.prototype's functions.
  if (!Object.hasOwn(DRIVER_LOADERS, type)) return undefined;
  const load = DRIVER_LOADERS[type];
  return load ? (await load()).default : undefined;
}
