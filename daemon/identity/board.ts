import { AresError } from '../../core/errors.js';
import type { HostRoot } from '../../core/host-root.js';

export interface BoardIdentity {
  /** Lower-case hex, leading zeros kept as the kernel prints them. */
  cpuSerial: string;
  /** The device-tree model string, e.g. "Raspberry Pi 4 Model B Rev 1.4". */
  model: string;
  /** Central's short name for the board (§4.2): 4B, 5, Z2W, 3B, 3B+ … */
  hardwareVersion: string;
}

/**
 * Board model → hardware_version. Order matters: the first pattern that matches wins, so the more
 * specific ones (Plus, Zero 2 W) come first. An unknown model keeps a readable fallback rather than
 * failing: central's pin rules decide what it may use.
 */
const MODELS: ReadonlyArray<[RegExp, string]> = [
  [/Raspberry Pi Zero 2 W/i, 'Z2W'],
  [/Raspberry Pi 3 Model B Plus/i, '3B+'],
  [/Raspberry Pi 3 Model A Plus/i, '3A+'],
  [/Raspberry Pi 3 Model B/i, '3B'],
  [/Raspberry Pi 4 Model B/i, '4B'],
  [/Raspberry Pi 400/i, '400'],
  [/Raspberry Pi Compute Module 4/i, 'CM4'],
  [/Raspberry Pi 5/i, '5'],
  [/Raspberry Pi 500/i, '500'],
  [/Raspberry Pi Compute Module 5/i, 'CM5'],
];

export function hardwareVersionOf(model: string): string {
  for (const [re, version] of MODELS) if (re.test(model)) return version;
  // Not a Raspberry Pi we know: a compact identifier from the model string.
  return (
    model
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 32) || 'unknown'
  );
}

/** Device-tree strings end with a NUL byte; cpuinfo lines are "Key\t: value". */
const clean = (s: string) => s.replace(/\0/g, '').trim();

export async function readBoardIdentity(host: HostRoot): Promise<BoardIdentity> {
  const cpuinfo = (await host.readText('/proc/cpuinfo')) ?? '';
  let serial = /^Serial\s*:\s*([0-9a-fA-F]+)\s*$/m.exec(cpuinfo)?.[1];
  serial ??= clean((await host.readText('/proc/device-tree/serial-number')) ?? '') || undefined;
  serial ??= clean((await host.readText('/sys/firmware/devicetree/base/serial-number')) ?? '') || undefined;
  if (!serial || !/^[0-9A-Za-z]{4,64}$/.test(serial)) {
    throw new AresError(
      'ARES_ERR_CONFIG',
      `hub.host_root: no CPU serial found under ${host.root} (looked for "Serial" in /proc/cpuinfo and /proc/device-tree/serial-number); on a development machine point hub.host_root at a fixture tree`,
    );
  }
  const model =
    clean((await host.readText('/proc/device-tree/model')) ?? '') ||
    clean((await host.readText('/sys/firmware/devicetree/base/model')) ?? '') ||
    clean(/^Model\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? '') ||
    'unknown';
  return { cpuSerial: serial.toLowerCase(), model, hardwareVersion: hardwareVersionOf(model) };
}
