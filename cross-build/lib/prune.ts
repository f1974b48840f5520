import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { removeEmptyDirs, walkFiles } from './fsutil.js';
import { EXCLUDED_PACKAGES } from './stage-app.js';
import { packageDirs } from './prod-modules.js';

/** Licence texts stay whatever their extension: the bundle redistributes these packages. */
const LICENSE = /^(licen[cs]e|copying|notice|authors|patents)([.-].*)?$/i;

/**
 * Files no installed package reads at run time: source maps, TypeScript sources and declarations, docs,
 * and — after the addons are built — their C/C++ sources and gyp files. Dot-files and dot-folders go
 * too (.bin links, npm's hidden lockfile, CI configs).
 */
export function isDeadWeight(name: string): boolean {
  if (LICENSE.test(name)) return false;
  return (
    name.startsWith('.') ||
    /\.(map|ts|mts|cts|tsx|md|markdown)$/i.test(name) ||
    /\.(c|cc|cpp|cxx|h|hh|hpp|hxx|gyp|gypi)$/i.test(name)
  );
}

/**
 * Files of particular packages that no code path loads, named so the reason is on record: better-sqlite3's
 * SQLite extension for its own test suite, pino's documentation site (it pulls scripts from CDNs).
 */
const DEAD_FILES = ['better-sqlite3/build/Release/test_extension.node', 'pino/index.html'];

/**
 * Folders of particular packages the bundle must not carry. better-sqlite3 13's npm package ships
 * prebuilds/ with its addon for every platform it supports (17 MB: darwin and win32 ones, musl and x64
 * ELF files, which the bundle's ELF check rightly refuses, and a linux-arm64 one). The bundle has its own
 * better_sqlite3.node, compiled for the target from source like every addon (lib/addons.ts), under
 * build/Release/, which its lib/binding.js loads in preference to any prebuild.
 */
const DEAD_PACKAGE_DIRS = ['better-sqlite3/prebuilds'];

/** Top-level folders of a package that hold its tests, benchmarks, examples or docs. */
const DEAD_DIRS = new Set([
  'test',
  'tests',
  '__tests__',
  'spec',
  'bench',
  'benchmark',
  'benchmarks',
  'example',
  'examples',
  'integration',
  'fixture',
  'fixtures',
  'doc',
  'docs',
]);

/** Paths a package.json points at (main, module, bin, exports): folders holding them are never pruned. */
function entryPaths(pkgDir: string): string[] {
  const file = join(pkgDir, 'package.json');
  if (!existsSync(file)) return [];
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out: string[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === 'string') out.push(v.replace(/^\.\//, ''));
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  for (const field of ['main', 'module', 'browser', 'bin', 'exports', 'imports']) collect(pkg[field]);
  return out;
}

export interface PruneResult {
  removedFiles: number;
  removedPackages: string[];
}

/** Slims a production node_modules tree in place (see isDeadWeight) and drops EXCLUDED_PACKAGES. */
export function pruneModules(nodeModules: string): PruneResult {
  const removedPackages: string[] = [];
  for (const dir of [...packageDirs(nodeModules)]) {
    // @types/* hold only declarations (some packages list them as dependencies): nothing to run.
    const typesOnly = basename(dirname(dir)) === '@types';
    if (existsSync(dir) && (EXCLUDED_PACKAGES.has(basename(dir)) || typesOnly)) {
      rmSync(dir, { recursive: true, force: true });
      removedPackages.push(dir.slice(nodeModules.length + 1));
    }
  }
  let removedFiles = 0;
  for (const dir of [...packageDirs(nodeModules)]) {
    if (!existsSync(dir)) continue;
    const entries = entryPaths(dir);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || !DEAD_DIRS.has(e.name.toLowerCase())) continue;
      if (entries.some((p) => p === e.name || p.startsWith(`${e.name}/`))) continue;
      rmSync(join(dir, e.name), { recursive: true, force: true });
      removedFiles++;
    }
  }
  for (const rel of DEAD_PACKAGE_DIRS) {
    const dir = join(nodeModules, rel);
    if (existsSync(dir)) {
      rmSync(dir, { recursive: true, force: true });
      removedFiles++;
    }
  }
  for (const rel of DEAD_FILES) {
    const file = join(nodeModules, rel);
    if (existsSync(file)) {
      rmSync(file);
      removedFiles++;
    }
  }
  const dotDirs = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (!e.isDirectory()) continue;
      if (e.name.startsWith('.')) rmSync(p, { recursive: true, force: true });
      else dotDirs(p);
    }
  };
  dotDirs(nodeModules);
  for (const file of [...walkFiles(nodeModules)])
    if (isDeadWeight(basename(file))) {
      rmSync(file);
      removedFiles++;
    }
  // Links npm made (.bin is gone already); none are needed, and one pointing outside would dangle.
  const links = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isSymbolicLink()) rmSync(p);
      else if (e.isDirectory()) links(p);
    }
  };
  links(nodeModules);
  removeEmptyDirs(nodeModules);
  return { removedFiles, removedPackages };
}
