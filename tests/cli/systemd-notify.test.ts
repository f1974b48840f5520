import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { addonNotifySocket } from '../../core/sd-notify.js';
import { notifyReceiver, type Datagram } from '../helpers/notify-socket.js';
import { until } from '../helpers/wait.js';

// Drives the built CLI (npm test builds first) under a notify socket the test owns, as systemd would
// run it with Type=notify and WatchdogSec=0.4s.
const ARES = fileURLToPath(new URL('../../dist/cli/ares.js', import.meta.url));
const PI4 = fileURLToPath(new URL('../fixtures/hosts/pi4', import.meta.url));
const BLOCK_LOOP = fileURLToPath(new URL('../fixtures/block-event-loop.mjs', import.meta.url));
const START_TIMEOUT_MS = 60_000;

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'ares-sdn-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A hub in simulated-GPIO mode on free ports, its central at a closed port (it keeps waiting; fine here). */
function hubConfig(t: Test): string {
  const dir = tempDir(t);
  const file = join(dir, 'ares.yaml');
  writeFileSync(
    file,
    [
      'hub:',
      `  state_dir: ${JSON.stringify(join(dir, 'state'))}`,
      `  host_root: ${JSON.stringify(PI4)}`,
      '  central_url: http://127.0.0.1:9',
      '  gpio: sim',
      '  mqtt_port: 0',
      '  http_port: 0',
      '',
    ].join('\n'),
  );
  return file;
}

/** `ares ...` with systemd's variables and nothing of ours (or of a systemd running the tests) inherited. */
function startAres(t: Test, args: string[], env: Record<string, string>, nodeArgs: string[] = []) {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(ARES_|NOTIFY_SOCKET$|WATCHDOG_)/.test(k)) clean[k] = v;
  const child = spawn(process.execPath, [...nodeArgs, ARES, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const pings = (ds: Datagram[]) => ds.filter((d) => d.message === 'WATCHDOG=1');
const gaps = (ds: Datagram[]) => ds.slice(1).map((d, i) => d.tMs - ds[i]!.tMs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

t.test('ares hub: READY=1 once it serves, watchdog pings, STOPPING=1 on SIGTERM, exit 0', async (t) => {
  const r = await notifyReceiver(t);
  const hub = startAres(t, ['hub', '--config', hubConfig(t)], { NOTIFY_SOCKET: r.path, WATCHDOG_USEC: '400000' });
  const ready = await r.next(/^READY=1\n/, START_TIMEOUT_MS).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${hub.output()}`);
  });
  t.match(
    ready.message,
    /^READY=1\nSTATUS=hub [0-9a-f-]{36}: mqtt :\d+, http :\d+, provisioned=no, central=unreachable, components=0\/0 ok, fall=off$/,
  );
  t.equal(r.received[0], ready, 'READY=1 is the first message');
  const port = Number(/http :(\d+)/.exec(ready.message)?.[1]);
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) });
  t.match(await res.json(), { status: 'degraded', provisioned: false }, '/healthz answers once READY=1 is sent');

  await until('six watchdog pings', () => pings(r.received).length >= 6, 15_000);
  const gap = median(gaps(pings(r.received)));
  t.ok(gap > 100 && gap < 1000, `pings about every 200 ms (median gap ${gap.toFixed(0)} ms)`);

  hub.child.kill('SIGTERM');
  t.equal(await hub.exited, 0, 'exits 0');
  const stopping = await r.next(/^STOPPING=1/);
  const after = r.received.slice(r.received.indexOf(stopping) + 1);
  t.same(
    after.map((d) => d.message),
    [],
    'nothing after STOPPING=1 (no pings while stopping)',
  );
});

t.test('a hub whose event loop is blocked stops sending watchdog pings', async (t) => {
  const r = await notifyReceiver(t);
  const hub = startAres(t, ['hub', '--config', hubConfig(t)], { NOTIFY_SOCKET: r.path, WATCHDOG_USEC: '400000' }, [
    '--import',
    BLOCK_LOOP,
  ]);
  await r.next(/^READY=1\n/, START_TIMEOUT_MS).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${hub.output()}`);
  });
  await until('pings before the block', () => pings(r.received).length >= 4, 15_000);
  const before = pings(r.received).length;
  hub.child.kill('SIGUSR2'); // the preload busy-waits 1.5 s
  await until('pings after the block', () => pings(r.received).length >= before + 5, 15_000);

  const all = gaps(pings(r.received));
  const longest = Math.max(...all);
  const blockAt = all.indexOf(longest);
  t.ok(longest >= 1200, `no ping while the loop was blocked (longest gap ${longest.toFixed(0)} ms)`);
  t.ok(median(all) < 1000, `otherwise about every 200 ms (median gap ${median(all).toFixed(0)} ms)`);
  t.ok(all.slice(blockAt + 1).length >= 3, 'pings resume when the loop is free again');
  t.equal(all.filter((g) => g >= 1200).length, 1, 'one long gap: the block');

  hub.child.kill('SIGTERM');
  t.equal(await hub.exited, 0);
});

t.test('ares central: READY=1 with its URL once HTTP and MQTT listen, then watchdog pings', async (t) => {
  const r = await notifyReceiver(t, { abstract: true });
  const central = startAres(t, ['central'], {
    ARES_CENTRAL_DATA_DIR: tempDir(t),
    ARES_CENTRAL_PORT: '0',
    ARES_CENTRAL_MQTT_PORT: '0',
    NOTIFY_SOCKET: r.path,
    WATCHDOG_USEC: '400000',
  });
  const ready = await r.next(/^READY=1\n/, START_TIMEOUT_MS).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${central.output()}`);
  });
  const m = /^READY=1\nSTATUS=central (http:\/\/127\.0\.0\.1:\d+), mqtt :\d+$/.exec(ready.message);
  t.ok(m, ready.message);
  const res = await fetch(`${m?.[1]}/healthz`, { signal: AbortSignal.timeout(10_000) });
  t.equal(res.status, 200, 'central answers once READY=1 is sent');
  await until('watchdog pings', () => pings(r.received).length >= 3, 15_000);
  central.child.kill('SIGTERM');
  t.equal(await central.exited, 0);
  await r.next(/^STOPPING=1/);
});

t.test('a hub whose start fails sends no READY=1', async (t) => {
  const r = await notifyReceiver(t);
  const hub = startAres(t, ['hub'], {
    ARES_HUB_STATE_DIR: tempDir(t),
    ARES_HUB_HOST_ROOT: fileURLToPath(new URL('../fixtures/hosts/x86', import.meta.url)),
    ARES_HUB_GPIO: 'sim',
    ARES_HUB_MQTT_PORT: '0',
    ARES_HUB_HTTP_PORT: '0',
    NOTIFY_SOCKET: r.path,
  });
  t.equal(await hub.exited, 2, 'no CPU serial: a configuration error');
  // A datagram of our own after the exit: one socket's queue is first in, first out, so once the
  // receiver has it, anything the hub sent has been received too.
  addonNotifySocket().send(r.path, 'TEST=after-exit');
  await r.next(/^TEST=after-exit$/);
  t.same(
    r.received.map((d) => d.message),
    ['TEST=after-exit'],
    'systemd hears nothing: the start job fails on the exit',
  );
});
