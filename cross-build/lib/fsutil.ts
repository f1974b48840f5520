import { lstatSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Every regular file under `dir` (symlinks are not followed, so nothing is visited twice). */
export function* walkFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFiles(path);
    else if (entry.isFile()) yield path;
  }
}

/** Bytes of the regular files under `dir`. */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const file of walkFiles(dir)) total += lstatSync(file).size;
  return total;
}

/** Removes the empty directories under `dir` (bottom-up); `dir` itself stays. */
export function removeEmptyDirs(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    removeEmptyDirs(path);
    if (readdirSync(path).length === 0) rmdirSync(path);
  }
}

export function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/**
 * Moves a finished folder or file into a cache path in one rename, so builds running side by side (the
 * tests, a benchmark) never see half of it. When another build got there first, theirs stays and ours goes.
 */
export function publishToCache(tmp: string, dest: string): void {
  try {
    renameSync(tmp, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
    rmSync(tmp, { recursive: true, force: true });
  }
}
