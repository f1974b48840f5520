import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { BuildError } from './errors.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Print the child's output as it comes (long steps the user wants to follow); else keep it for errors. */
  echo?: boolean;
  input?: string;
}

/** What the failure message shows of a chatty tool: its last lines, where compilers put the error. */
function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).join('\n');
}

function describe(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Runs a command to completion; a non-zero exit is a BuildError naming the command and its output. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): string {
  const spawnOpts: SpawnSyncOptions = {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: [
      opts.input === undefined ? 'ignore' : 'pipe',
      opts.echo ? 'inherit' : 'pipe',
      opts.echo ? 'inherit' : 'pipe',
    ],
    ...(opts.input === undefined ? {} : { input: opts.input }),
  };
  const r = spawnSync(cmd, args, spawnOpts);
  if (r.error)
    throw new BuildError(
      `${describe(cmd, args)}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'command not found' : r.error.message}`,
    );
  const out = `${String(r.stdout ?? '')}${String(r.stderr ?? '')}`;
  if (r.status !== 0)
    throw new BuildError(
      `${describe(cmd, args)} (in ${opts.cwd ?? process.cwd()}) failed with ${r.signal ?? `exit code ${r.status}`}` +
        (out ? `:\n${tail(out)}` : ''),
    );
  return String(r.stdout ?? '');
}

/** The asynchronous twin of run(), for steps that run side by side (one .deb per CPU). */
export function runAsync(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new BuildError(`${describe(cmd, args)}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      reject(
        new BuildError(
          `${describe(cmd, args)} failed with ${signal ?? `exit code ${code}`}:\n${tail(stdout + stderr)}`,
        ),
      );
    });
  });
}

/** Whether a command is on PATH (the toolchain checks name Debian packages instead of failing later). */
export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}
