import { relative } from 'node:path';
import { BuildError } from './errors.js';
import { run } from './run.js';

/** Which Debian package provides a shared library the bundle's binaries load. */
const PACKAGE_OF: Record<string, string> = {
  'libc.so.6': 'libc6',
  'libm.so.6': 'libc6',
  'libdl.so.2': 'libc6',
  'libpthread.so.0': 'libc6',
  'librt.so.1': 'libc6',
  'ld-linux-aarch64.so.1': 'libc6',
  'ld-linux-x86-64.so.2': 'libc6',
  'libstdc++.so.6': 'libstdc++6',
  'libgcc_s.so.1': 'libgcc-s1',
};

/** libstdc++'s symbol versions and the GCC release that introduced each (libstdc++6's Debian version). */
const GLIBCXX_TO_GCC: [number, string][] = [
  [19, '4.8'],
  [20, '4.9'],
  [21, '5'],
  [22, '6'],
  [23, '7'],
  [24, '7'],
  [25, '8'],
  [26, '9'],
  [27, '9'],
  [28, '10'],
  [29, '11'],
  [30, '12'],
  [31, '13'],
  [32, '13'],
  [33, '14'],
];

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface SharedLibNeeds {
  /** Debian dependency strings, e.g. "libc6 (>= 2.34)". */
  depends: string[];
  /** Libraries the binaries load, with the newest symbol version each needs. */
  libraries: Record<string, string | null>;
}

/**
 * The shared libraries the bundle's ELF files need (objdump -p: NEEDED entries and version references)
 * and the Debian dependencies that provide them, each with the minimum version its newest symbol needs.
 */
export function sharedLibNeeds(files: string[], objdump: string, baseDir: string): SharedLibNeeds {
  const newest = new Map<string, string | null>();
  let glibc = '2.17';
  let glibcxx = 0;
  const unknown: string[] = [];
  for (const file of files) {
    const out = run(objdump, ['-p', file]);
    let lib: string | undefined;
    for (const line of out.split('\n')) {
      const needed = /^\s+NEEDED\s+(\S+)/.exec(line);
      if (needed) {
        const name = needed[1]!;
        if (!PACKAGE_OF[name]) unknown.push(`${name} (needed by ${relative(baseDir, file)})`);
        if (!newest.has(name)) newest.set(name, null);
        continue;
      }
      const from = /^\s+required from (\S+):/.exec(line);
      if (from) {
        lib = from[1]!;
        continue;
      }
      const ver = /^\s+0x[0-9a-f]+ 0x[0-9a-f]+ \d+ (\S+)/.exec(line);
      if (ver && lib) {
        const v = ver[1]!;
        const g = /^GLIBC_(\d+(?:\.\d+)*)$/.exec(v);
        if (g && compareVersions(g[1]!, glibc) > 0) glibc = g[1]!;
        const x = /^GLIBCXX_3\.4\.(\d+)$/.exec(v);
        if (x) glibcxx = Math.max(glibcxx, Number(x[1]));
        const prev = newest.get(lib);
        if (prev === undefined || prev === null || compareVersions(v.replace(/^\D+/, ''), prev.replace(/^\D+/, '')) > 0)
          newest.set(lib, v);
      }
    }
  }
  if (unknown.length)
    throw new BuildError(
      `no Debian package known for ${[...new Set(unknown)].join(', ')}: add it to PACKAGE_OF in cross-build/lib/shlibs.ts`,
    );
  const packages = new Set([...newest.keys()].map((l) => PACKAGE_OF[l]!));
  const depends: string[] = [];
  if (packages.has('libc6')) depends.push(`libc6 (>= ${glibc})`);
  if (packages.has('libstdc++6')) {
    const gcc = [...GLIBCXX_TO_GCC].reverse().find(([n]) => n <= glibcxx)?.[1];
    depends.push(gcc ? `libstdc++6 (>= ${gcc})` : 'libstdc++6');
  }
  if (packages.has('libgcc-s1')) depends.push('libgcc-s1');
  return { depends, libraries: Object.fromEntries([...newest].sort()) };
}
