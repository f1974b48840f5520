import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { BuildError } from './errors.js';
import { run } from './run.js';

export interface ProjectPackage {
  name: string;
  version: string;
  description?: string;
  license?: string;
  type?: string;
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Packages that never ship in a bundle: pigpio needs root and a C library the bundle cannot carry (§3). */
export const EXCLUDED_PACKAGES = new Set(['pigpio']);

export function readProjectPackage(root: string): ProjectPackage {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as ProjectPackage;
}

/** `file:` dependencies (local packages such as native/sd-notify): name → folder relative to the root. */
export function localDependencies(pkg: ProjectPackage): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, spec] of Object.entries({ ...pkg.dependencies, ...pkg.optionalDependencies }))
    if (spec.startsWith('file:')) out.set(name, spec.slice('file:'.length).replace(/^\.\//, ''));
  return out;
}

/**
 * Compiles the project into `<appDir>/dist` (a fresh tsc run, not the shared dist/ folder: stale output
 * of deleted sources, source maps and earlier build artifacts must not ship), without source maps.
 */
export function compileApp(root: string, appDir: string): void {
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  if (!existsSync(tsc)) throw new BuildError(`${tsc} is missing: run npm ci in ${root} first`);
  run(tsc, ['-p', 'tsconfig.build.json', '--outDir', join(appDir, 'dist'), '--sourceMap', 'false'], { cwd: root });
  for (const file of walk(join(appDir, 'dist')))
    if (!/\.(js|cjs|mjs|json)$/.test(file)) throw new BuildError(`tsc emitted an unexpected file: ${file}`);
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/**
 * The trimmed package.json of the bundle: what Node and `ares` read at run time (type: module for
 * ESM, name and version for `packageVersion()`, bin for humans), nothing for development.
 */
export function writeAppPackage(pkg: ProjectPackage, appDir: string, localVersions: Map<string, string>): void {
  const dependencies: Record<string, string> = {};
  for (const [name, spec] of Object.entries(pkg.dependencies ?? {})) {
    if (EXCLUDED_PACKAGES.has(name)) continue;
    // A local package is installed as a copy; its version says which one.
    dependencies[name] = localVersions.get(name) ?? spec;
  }
  const trimmed = {
    name: pkg.name,
    version: pkg.version,
    ...(pkg.description ? { description: pkg.description } : {}),
    ...(pkg.license ? { license: pkg.license } : {}),
    private: true,
    type: pkg.type ?? 'commonjs',
    ...(pkg.engines ? { engines: pkg.engines } : {}),
    bin: pkg.bin ?? { ares: 'dist/cli/ares.js' },
    dependencies,
  };
  writeFileSync(join(appDir, 'package.json'), JSON.stringify(trimmed, null, 2) + '\n');
}

/**
 * The shipped fall models: every `models/<name>/` holding a meta.json, copied to `<appDir>/models/<name>/`,
 * where models/runtime/model-dir.ts finds them walking up from dist/models/runtime/.
 */
export function copyModels(root: string, appDir: string): string[] {
  const names: string[] = [];
  const modelsDir = join(root, 'models');
  for (const name of readdirSync(modelsDir).sort()) {
    const src = join(modelsDir, name);
    if (!statSync(src).isDirectory() || !existsSync(join(src, 'meta.json'))) continue;
    const dest = join(appDir, 'models', name);
    mkdirSync(dest, { recursive: true });
    for (const file of readdirSync(src)) {
      const from = join(src, file);
      if (file.startsWith('.') || !statSync(from).isFile()) continue;
      copyFileSync(from, join(dest, file));
    }
    for (const need of ['model.json', 'meta.json'])
      if (!existsSync(join(dest, need))) throw new BuildError(`models/${name}/${need} is missing`);
    names.push(name);
  }
  if (names.length === 0) throw new BuildError(`no model artifacts under ${modelsDir} (models/<name>/meta.json)`);
  return names;
}

/** Copies a local package for npm ci, without its build output (rebuilt for the target) or node_modules. */
export function copyLocalPackage(src: string, dest: string): void {
  if (!existsSync(join(src, 'package.json'))) throw new BuildError(`local dependency ${src} has no package.json`);
  cpSync(src, dest, {
    recursive: true,
    filter: (from) => !/[\\/](build|node_modules|\.git)$/.test(from.slice(src.length)),
  });
}
