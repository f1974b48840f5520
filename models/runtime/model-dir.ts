import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a shipped model's artifacts are: `models/<name>/` at the package root, found by walking up
 * from this file (it runs from the sources in development and from dist/ when built or bundled).
 */
export function modelDir(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'models', name);
    if (existsSync(join(candidate, 'meta.json'))) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', name);
}
