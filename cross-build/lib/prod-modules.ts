import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { BuildError } from './errors.js';
import { run } from './run.js';
import { copyLocalPackage, localDependencies, readProjectPackage } from './stage-app.js';
import type { Target } from './targets.js';

/** Each installed package folder under a node_modules tree (scoped and nested ones included). */
export function* packageDirs(nodeModules: string): Generator<string> {
  if (!existsSync(nodeModules)) return;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(nodeModules, entry.name);
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      for (const sub of readdirSync(path, { withFileTypes: true })) {
        const pkg = join(path, sub.name);
        yield pkg;
        yield* packageDirs(join(pkg, 'node_modules'));
      }
      continue;
    }
    yield path;
    yield* packageDirs(join(path, 'node_modules'));
  }
}

interface PlatformFields {
  name?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

function allows(list: string[] | undefined, value: string): boolean {
  if (!list || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const positive = list.filter((v) => !v.startsWith('!'));
  return positive.length === 0 || positive.includes(value);
}

/**
 * Installs the production dependencies for the target in `stageDir` from the project's lockfile:
 * `npm ci --omit=dev` with npm's platform overrides, so optional per-platform packages are the target's
 * (@node-rs/argon2-linux-arm64-gnu, not the build machine's -x64-gnu). Install scripts do not run: they
 * would build or download for the build machine; addons are built for the target afterwards. Local
 * `file:` packages, which npm links, become real copies. Returns the node_modules folder.
 */
export function installProdModules(root: string, target: Target, stageDir: string): string {
  rmSync(stageDir, { recursive: true, force: true });
  mkdirSync(stageDir, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) {
    if (!existsSync(join(root, file))) throw new BuildError(`${join(root, file)} is missing`);
    copyFileSync(join(root, file), join(stageDir, file));
  }
  const pkg = readProjectPackage(root);
  for (const rel of localDependencies(pkg).values()) copyLocalPackage(join(root, rel), join(stageDir, rel));

  run(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      '--os=linux',
      `--cpu=${target.npmCpu}`,
      '--libc=glibc',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: stageDir },
  );
  const nodeModules = join(stageDir, 'node_modules');

  // npm links file: dependencies; the bundle needs the files themselves.
  for (const dir of [...packageDirs(nodeModules)]) {
    if (!lstatSync(dir).isSymbolicLink()) continue;
    const real = realpathSync(dir);
    rmSync(dir);
    cpSync(real, dir, { recursive: true, dereference: true });
  }

  // Belt and braces over npm's own platform filter: a package for another platform fails the build.
  const foreign: string[] = [];
  for (const dir of packageDirs(nodeModules)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const p = JSON.parse(readFileSync(file, 'utf8')) as PlatformFields;
    if (!allows(p.os, 'linux') || !allows(p.cpu, target.npmCpu) || !allows(p.libc, 'glibc'))
      foreign.push(`${p.name ?? dir} (os ${p.os ?? '-'}, cpu ${p.cpu ?? '-'}, libc ${p.libc ?? '-'})`);
  }
  if (foreign.length)
    throw new BuildError(
      `npm installed packages for another platform than linux-${target.npmCpu}-glibc: ${foreign.join(', ')}`,
    );
  return nodeModules;
}
