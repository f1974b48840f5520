import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from './wait.js';

const RECEIVER = fileURLToPath(new URL('./notify-socket.py', import.meta.url));

export interface Datagram {
  /** When the receiver got it (its monotonic clock, ms): gaps between datagrams are what tests compare. */
  tMs: number;
  message: string;
}

export interface NotifyReceiver {
  /** The NOTIFY_SOCKET value: a filesystem path, or '@name' in the abstract namespace. */
  path: string;
  received: Datagram[];
  /** Waits for the first datagram (after index `from`) whose message matches. */
  next(match: RegExp, timeoutMs?: number, from?: number): Promise<Datagram>;
}

/**
 * A real notify socket for the tests: Node cannot bind AF_UNIX datagram sockets, so a small python3
 * receiver (notify-socket.py) binds it and reports each datagram as a JSON line. `path` picks the exact
 * path (the tests probe sun_path's length limit); default a fresh one under the temp dir.
 */
export async function notifyReceiver(
  t: { teardown(fn: () => unknown): void },
  opts: { abstract?: boolean; path?: string } = {},
): Promise<NotifyReceiver> {
  let path = opts.path;
  if (path === undefined && opts.abstract) path = `@ares-test-${randomUUID()}`;
  if (path === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'ares-notify-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    path = join(dir, 'notify.sock');
  }
  const child = spawn('python3', [RECEIVER, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  // Closing its stdin ends the receiver (it removes its socket file); SIGKILL if it does not go.
  t.teardown(async () => {
    child.stdin.end();
    if (child.exitCode !== null) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await new Promise((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
  });
  const received: Datagram[] = [];
  let bound = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as { bound?: boolean; t_ms?: number; message?: string };
    if (msg.bound) bound = true;
    else received.push({ tMs: msg.t_ms ?? 0, message: msg.message ?? '' });
  });
  await until(`notify receiver bound at ${path}`, () => bound || child.exitCode !== null, 10_000);
  if (!bound) throw new Error(`notify receiver at ${path} exited with ${child.exitCode}`);
  const found = (match: RegExp, from: number) => received.slice(from).find((d) => match.test(d.message));
  return {
    path,
    received,
    async next(match, timeoutMs = 15_000, from = 0) {
      await until(`a datagram matching ${match}`, () => found(match, from) !== undefined, timeoutMs);
      return found(match, from)!;
    },
  };
}
