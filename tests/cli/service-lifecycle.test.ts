import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { freePort, refused } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';

/*
 * The daemons' lifecycle as systemd meets it, on the built CLI: a part that cannot start makes the
 * process exit 1 with one line naming it and nothing left listening; a SIGTERM during start-up unwinds
 * what had started and exits 0. "Within 5 s" is counted from the moment the process says it is giving
 * up (or is told to stop), so a slow machine's module loading does not count against it.
 */
const ARES = fileURLToPath(new URL('../../dist/cli/ares.js', import.meta.url));
const PI4 = fileURLToPath(new URL('../fixtures/hosts/pi4', import.meta.url));
const LOAD_MS = 60_000;
const UNWIND_MS = 5000;

/** A server holding a port on all interfaces (as the hub binds), closed at teardown. */
async function holdPort(t: Test): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

/** The test's own directory (t.testdir() empties it on every call, so it is made once per test). */
const dirs = new WeakMap<Test, string>();
function tmpdirOf(t: Test): string {
  let dir = dirs.get(t);
  if (!dir) dirs.set(t, (dir = t.testdir()));
  return dir;
}

function writeConfig(t: Test, lines: string[]): { file: string; dir: string } {
  const dir = tmpdirOf(t);
  const file = join(dir, 'ares.yaml');
  writeFileSync(file, [...lines, ''].join('\n'));
  return { file, dir };
}

function hubConfig(t: Test, hub: Record<string, string | number>, hostRoot = PI4) {
  const dir = tmpdirOf(t);
  const fields = {
    state_dir: join(dir, 'state'),
    host_root: hostRoot,
    central_url: 'http://127.0.0.1:9',
    gpio: 'sim',
    ...hub,
  };
  return writeConfig(t, [
    'log:',
    '  level: debug',
    'hub:',
    ...Object.entries(fields).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
  ]);
}

function centralConfig(t: Test, central: Record<string, string | number>) {
  const dir = tmpdirOf(t);
  const fields = { data_dir: join(dir, 'central'), host: '127.0.0.1', port: 0, mqtt_port: 0, ...central };
  return writeConfig(t, [
    'log:',
    '  level: info',
    'central:',
    ...Object.entries(fields).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
  ]);
}

/** `ares ...` with no ARES_ or systemd variables inherited; stdout (pino JSON) and stderr kept apart. */
function startAres(t: Test, args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(ARES_|NOTIFY_SOCKET$|WATCHDOG_)/.test(k)) env[k] = v;
  const child = spawn(process.execPath, [ARES, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exit: number | null | undefined;
  child.on('exit', (code, signal) => (exit = signal ? -1 : code));
  const logged = (msg: RegExp) => stdout.split('\n').some((l) => msg.test(l));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exitCode: () => exit,
    logged,
    /** Waits for a log line, then for the exit within UNWIND_MS of it. */
    async exitsAfter(what: RegExp): Promise<number | null> {
      await until(`log line ${what}`, () => logged(what) || exit !== undefined, LOAD_MS).catch((err: unknown) => {
        throw new Error(`${String(err)}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      });
      await until(`exit within ${UNWIND_MS} ms`, () => exit !== undefined, UNWIND_MS).catch((err: unknown) => {
        throw new Error(`${String(err)}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      });
      return exit!;
    },
  };
}

const FAILED = /failed to start: stopping what had started/;

/** stderr is one line: what `systemctl status` and a person at a terminal read. */
function oneLine(t: Test, stderr: string, pattern: RegExp) {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  t.equal(lines.length, 1, `one line on stderr:\n${stderr}`);
  t.match(lines[0], pattern);
}

t.test('hub: HTTP port taken → exit 1, one line, the LAN broker it had opened is closed', async (t) => {
  const taken = await holdPort(t);
  const mqtt = await freePort();
  const { file } = hubConfig(t, { http_port: taken, mqtt_port: mqtt });
  const hub = startAres(t, ['hub', '--config', file]);
  t.equal(await hub.exitsAfter(FAILED), 1);
  oneLine(
    t,
    hub.stderr(),
    new RegExp(`^ares: hub failed to start: local-http: hub\\.http_port: .*EADDRINUSE.*:${taken}$`),
  );
  t.ok(await refused(mqtt), 'the LAN broker port is closed again');
});

t.test('hub: MQTT port taken → exit 1, one line naming hub.mqtt_port, nothing listening', async (t) => {
  const taken = await holdPort(t);
  const http = await freePort();
  const { file } = hubConfig(t, { http_port: http, mqtt_port: taken });
  const hub = startAres(t, ['hub', '--config', file]);
  t.equal(await hub.exitsAfter(FAILED), 1);
  oneLine(t, hub.stderr(), /^ares: hub failed to start: lan-broker: hub\.mqtt_port: .*EADDRINUSE/);
  t.ok(await refused(http));
});

t.test('hub: state dir that cannot be used → exit 1, one line naming the identity part', async (t) => {
  // A file where the state directory should be: root can read anything, but not into a file.
  const state = join(tmpdirOf(t), 'not-a-dir');
  const { file } = hubConfig(t, { state_dir: state, http_port: 0, mqtt_port: 0 });
  writeFileSync(state, 'x');
  const hub = startAres(t, ['hub', '--config', file]);
  t.equal(await hub.exitsAfter(FAILED), 1);
  oneLine(t, hub.stderr(), /^ares: hub failed to start: identity: .*(ENOTDIR|EEXIST|not a directory)/i);
});

t.test('central: HTTP port taken → exit 1, one line naming central.port', async (t) => {
  const taken = await holdPort(t);
  const { file } = centralConfig(t, { port: taken });
  const central = startAres(t, ['central', '--config', file]);
  t.equal(await central.exitsAfter(FAILED), 1);
  oneLine(t, central.stderr(), /^ares: central failed to start: http: central\.port: .*EADDRINUSE/);
});

t.test('central: MQTT port taken → exit 1, and its HTTP listener is closed again', async (t) => {
  const taken = await holdPort(t);
  const http = await freePort();
  const { file } = centralConfig(t, { port: http, mqtt_port: taken });
  const central = startAres(t, ['central', '--config', file]);
  t.equal(await central.exitsAfter(FAILED), 1);
  oneLine(t, central.stderr(), /^ares: central failed to start: realtime: central\.mqtt_port: .*EADDRINUSE/);
  t.ok(central.logged(/central listening/), 'HTTP had been listening');
  t.ok(await refused(http), 'and is closed');
});

t.test('central: a database it cannot reach → exit 1, one line', async (t) => {
  const closed = await freePort();
  const { file } = centralConfig(t, { database: `postgres://ares@127.0.0.1:${closed}/nope` });
  const central = startAres(t, ['central', '--config', file]);
  t.equal(await central.exitsAfter(FAILED), 1);
  oneLine(t, central.stderr(), /^ares: central failed to start: context: .*(ECONNREFUSED|connect)/i);
});

t.test('central: SIGTERM while waiting for its external broker → HTTP closed, exit 0', async (t) => {
  // A broker that accepts connections and never answers: central waits in its realtime part.
  const sockets = new Set<import('node:net').Socket>();
  const silent = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => silent.close(() => r()));
  });
  const brokerPort = (silent.address() as { port: number }).port;
  const http = await freePort();
  const { file } = centralConfig(t, {
    port: http,
    mqtt_url: `mqtt://central:pw@127.0.0.1:${brokerPort}`,
    mqtt_device_url: 'mqtts://127.0.0.1:8883',
  });
  const central = startAres(t, ['central', '--config', file]);
  await until(
    'HTTP listening and the broker contacted',
    () => central.logged(/central listening/) && sockets.size > 0,
    LOAD_MS,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${central.stdout()}\n${central.stderr()}`);
  });
  t.notOk(await refused(http), 'HTTP is up while the realtime part waits');
  central.child.kill('SIGTERM');
  t.equal(await central.exitsAfter(/"msg":"stopping"/), 0);
  t.ok(await refused(http), 'HTTP closed');
  t.equal(central.stderr(), '');
});
