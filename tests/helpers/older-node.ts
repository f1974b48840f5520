import { spawnSync } from 'node:child_process';

/**
 * A node binary older than 22 on this machine, to check what the project says when started by one:
 * ARES_TEST_OLD_NODE if set, else the distribution's own (/usr/bin/node: Node 20 on the development
 * machines, where scripts/install-node.sh put Node 24 first on PATH). Undefined when there is none.
 */
export function olderNode(): { path: string; version: string } | undefined {
  const candidates = [process.env['ARES_TEST_OLD_NODE'], '/usr/bin/node', '/bin/node'];
  for (const path of candidates) {
    if (!path) continue;
    const r = spawnSync(path, ['-p', 'process.version'], { encoding: 'utf8', timeout: 30_000 });
    const version = r.status === 0 ? r.stdout.trim() : '';
    const major = Number(/^v(\d+)\./.exec(version)?.[1]);
    if (major < 22) return { path, version };
  }
  return undefined;
}

export const NO_OLDER_NODE = 'no node older than 22 here (set ARES_TEST_OLD_NODE to one, e.g. /usr/bin/node v20)';
