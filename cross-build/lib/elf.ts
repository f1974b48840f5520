import { closeSync, openSync, readSync } from 'node:fs';
import { relative } from 'node:path';
import { BuildError } from './errors.js';
import { walkFiles } from './fsutil.js';

export interface ElfHeader {
  /** 32 or 64 (EI_CLASS). */
  bits: 32 | 64;
  littleEndian: boolean;
  /** e_type: 2 executable, 3 shared object (PIE executables and .node addons). */
  type: number;
  /** e_machine: 183 AArch64, 62 x86-64, 40 ARM (32-bit), 3 i386. */
  machine: number;
}

const MACHINE_NAMES: Record<number, string> = {
  3: 'i386',
  40: 'ARM (32-bit)',
  62: 'x86-64',
  183: 'AArch64',
  243: 'RISC-V',
};

export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? `e_machine ${machine}`;
}

/** Parses the ELF identification and e_type/e_machine; undefined when the bytes are not ELF. */
export function parseElfHeader(bytes: Uint8Array): ElfHeader | undefined {
  if (bytes.length < 20 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    return undefined;
  const cls = bytes[4];
  const data = bytes[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = data === 1;
  return { bits: cls === 2 ? 64 : 32, littleEndian: le, type: view.getUint16(16, le), machine: view.getUint16(18, le) };
}

export function readElfHeader(file: string): ElfHeader | undefined {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return parseElfHeader(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** Why `header` cannot run on the target (64-bit little-endian, `machine`), or undefined when it can. */
export function elfMismatch(header: ElfHeader | undefined, machine: number): string | undefined {
  if (!header) return 'not an ELF file';
  const problems: string[] = [];
  if (header.machine !== machine)
    problems.push(`built for ${machineName(header.machine)}, not ${machineName(machine)}`);
  if (header.bits !== 64) problems.push('ELFCLASS32, not ELFCLASS64');
  if (!header.littleEndian) problems.push('big-endian');
  return problems.length ? problems.join(', ') : undefined;
}

/** Throws naming the file when it is not a 64-bit ELF for `machine`. */
export function assertElf(file: string, machine: number, label = file): ElfHeader {
  const header = readElfHeader(file);
  const why = elfMismatch(header, machine);
  if (why) throw new BuildError(`${label}: ${why}`);
  return header!;
}

/**
 * Checks every binary of a bundle: each `.node` addon must be an ELF for the target, and so must any
 * other file that starts with the ELF magic (a prebuilt executable or library a package carries).
 * Returns the files checked, relative to `dir`; throws listing every offender.
 */
export function checkBundleElves(dir: string, machine: number): string[] {
  const checked: string[] = [];
  const bad: string[] = [];
  for (const file of walkFiles(dir)) {
    const header = readElfHeader(file);
    if (!header && !file.endsWith('.node')) continue;
    const rel = relative(dir, file);
    checked.push(rel);
    const why = elfMismatch(header, machine);
    if (why) bad.push(`${rel}: ${why}`);
  }
  if (bad.length) throw new BuildError(`binaries that cannot run on ${machineName(machine)}:\n  ${bad.join('\n  ')}`);
  return checked.sort();
}
