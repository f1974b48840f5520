import { closeSync, openSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { BuildError } from './errors.js';

/**
 * `<parent>/<folder>` as a gzip tarball with one top folder. Reproducible for the same inputs: entries
 * sorted by name, owner root, one mtime (the commit's), normalized modes, gzip without name or time.
 */
export async function makeTarball(parent: string, folder: string, outFile: string, mtime: number): Promise<number> {
  const tarArgs = [
    '--create',
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    `--mtime=@${mtime}`,
    '--mode=u+rwX,go+rX,go-w',
    '--format=gnu',
    '-C',
    parent,
    folder,
  ];
  const fd = openSync(outFile, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const tar = spawn('tar', tarArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
      const gzip = spawn('gzip', ['-n', '-6'], { stdio: ['pipe', fd, 'pipe'] });
      let errors = '';
      tar.stderr.on('data', (d: Buffer) => (errors += d.toString()));
      gzip.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
      tar.stdout.pipe(gzip.stdin!);
      let pending = 2;
      const done = (what: string) => (code: number | null) => {
        if (code !== 0) reject(new BuildError(`${what} failed (exit ${code}) writing ${outFile}: ${errors.trim()}`));
        else if (--pending === 0) resolve();
      };
      tar.on('error', (e) => reject(new BuildError(`tar: ${e.message}`)));
      gzip.on('error', (e) => reject(new BuildError(`gzip: ${e.message}`)));
      tar.on('close', done('tar'));
      gzip.on('close', done('gzip'));
    });
  } finally {
    closeSync(fd);
  }
  return statSync(outFile).size;
}
