import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { publishToCache } from './fsutil.js';
import { BuildError } from './errors.js';
import { run } from './run.js';
import { NODE_VERSION, type Target } from './targets.js';

export interface NodeRuntime {
  version: string;
  /** The unpacked npm package: bin/node, include/node (node-gyp's --nodedir), LICENSE. */
  dir: string;
  binary: string;
  integrity: string;
}

function sha512(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/**
 * Node.js for the target, from the npm registry (nodejs.org is not reachable from the build machines)
 * as the package node-linux-<arch>@NODE_VERSION. The tarball is cached under `cacheDir` and checked
 * against the integrity pinned in targets.ts every time, so a cached or fetched file that differs from
 * what npm published for that version fails the build instead of shipping.
 */
export function fetchNode(target: Target, cacheDir: string, log: (line: string) => void): NodeRuntime {
  mkdirSync(cacheDir, { recursive: true });
  const spec = `${target.nodePackage}@${NODE_VERSION}`;
  const tgz = join(cacheDir, `${target.nodePackage}-${NODE_VERSION}.tgz`);
  if (!existsSync(tgz) || sha512(tgz) !== target.nodeIntegrity) {
    log(`fetching ${spec} from the npm registry`);
    // Into a folder of our own, then one rename: another build may be fetching the same file.
    const scratch = mkdtempSync(join(cacheDir, '.fetch-'));
    try {
      // npm pack checks the download against the registry's integrity itself; the pin below also
      // catches a registry that answers with different bits for the same version.
      const out = run('npm', ['pack', spec, '--pack-destination', scratch, '--json', '--silent']);
      let reported: string | undefined;
      try {
        reported = (JSON.parse(out) as { integrity?: string }[])[0]?.integrity;
      } catch {
        throw new BuildError(`npm pack ${spec}: unexpected output ${JSON.stringify(out.slice(0, 200))}`);
      }
      const fetched = join(scratch, basename(tgz));
      if (!existsSync(fetched)) throw new BuildError(`npm pack ${spec} did not write ${fetched}`);
      if (reported !== target.nodeIntegrity)
        throw new BuildError(`${spec}: npm reports integrity ${reported}, expected ${target.nodeIntegrity}`);
      renameSync(fetched, tgz);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  } else {
    log(`using cached ${tgz}`);
  }
  const actual = sha512(tgz);
  if (actual !== target.nodeIntegrity) {
    rmSync(tgz, { force: true });
    throw new BuildError(`${tgz}: integrity ${actual} does not match the pinned ${target.nodeIntegrity}`);
  }

  // Unpacked once per integrity, into a private folder renamed into place when complete.
  const dir = join(cacheDir, `${target.nodePackage}-${NODE_VERSION}`);
  const stamp = join(dir, '.ares-integrity');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== actual) {
    rmSync(dir, { recursive: true, force: true });
    const tmp = mkdtempSync(`${dir}.tmp-`);
    run('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1', '--no-same-owner']);
    writeFileSync(join(tmp, '.ares-integrity'), actual);
    publishToCache(tmp, dir);
  }
  const binary = join(dir, 'bin', 'node');
  for (const need of [binary, join(dir, 'include', 'node', 'common.gypi'), join(dir, 'include', 'node', 'node_api.h')])
    if (!existsSync(need)) throw new BuildError(`${spec} lacks ${need.slice(dir.length + 1)}`);
  return { version: NODE_VERSION, dir, binary, integrity: actual };
}
