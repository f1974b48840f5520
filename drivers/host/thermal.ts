import type { HostRoot } from '../../core/host-root.js';
import { SensorError } from './sensor-error.js';

/** Zone 0 is the SoC ("cpu-thermal") on every Raspberry Pi and on most single-board computers. */
export const CPU_THERMAL_PATH = '/sys/class/thermal/thermal_zone0/temp';

/** The CPU temperature in °C, one decimal (the kernel reports millidegrees, e.g. `48312`). */
export async function readCpuTemperature(host: HostRoot): Promise<number> {
  const path = host.path(CPU_THERMAL_PATH);
  let text: string | undefined;
  try {
    text = await host.readText(CPU_THERMAL_PATH);
  } catch (err) {
    // The file exists but could not be read (EIO, EACCES): may clear up, so worth another tick.
    throw new SensorError(`cannot read ${path}: ${(err as Error).message}`, { transient: true, cause: err });
  }
  if (text === undefined) throw new SensorError(`no CPU temperature: ${path} does not exist (no thermal zone?)`);
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed))
    throw new SensorError(`unexpected content in ${path}: ${JSON.stringify(trimmed.slice(0, 40))}`);
  return Math.round(Number(trimmed) / 100) / 10;
}
