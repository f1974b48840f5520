import { spawnSync } from 'node:child_process';

export interface SourceInfo {
  commit: string | null;
  /** Uncommitted changes in the working tree when the bundle was built. */
  dirty: boolean | null;
  /** Seconds since the epoch: SOURCE_DATE_EPOCH, else the commit's time, else now. */
  time: number;
}

function git(root: string, args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Where the sources come from; the time stamps every file of the tarball (reproducible builds). */
export function sourceInfo(root: string): SourceInfo {
  const commit = git(root, ['rev-parse', 'HEAD']) ?? null;
  const status = commit ? git(root, ['status', '--porcelain', '--untracked-files=no']) : undefined;
  const epoch = process.env['SOURCE_DATE_EPOCH'];
  const commitTime = commit ? Number(git(root, ['log', '-1', '--format=%ct'])) : NaN;
  const time =
    epoch && /^\d+$/.test(epoch)
      ? Number(epoch)
      : Number.isFinite(commitTime) && commitTime > 0
        ? commitTime
        : Math.floor(Date.now() / 1000);
  return { commit, dirty: status === undefined ? null : status !== '', time };
}
