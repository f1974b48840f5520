import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { isAresError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { addonNotifySocket, SdNotifier, SimNotifySocket, type NotifySocket } from '../../core/sd-notify.js';
import { notifyReceiver } from '../helpers/notify-socket.js';
import { never, until } from '../helpers/wait.js';

type Teardown = { teardown(fn: () => unknown): void };

interface Listening {
  path: string;
  messages(): string[];
}

/** What a contract run needs: the socket under test and a way to listen where it sends. */
interface Fixture {
  socket: NotifySocket;
  listen(t: Teardown, at: { abstract?: boolean; path?: string }): Promise<Listening>;
}

function tempDir(t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'ares-sdn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A filesystem path of exactly `bytes` bytes under a fresh temp dir. */
function pathOfLength(t: Teardown, bytes: number): string {
  const dir = tempDir(t);
  return join(dir, 's'.repeat(bytes - dir.length - 1));
}

function throwsCode(t: Test, fn: () => void, code: string, what: string) {
  try {
    fn();
    t.fail(`${what}: did not throw`);
  } catch (err) {
    t.ok(isAresError(err) && err.code === code, `${what}: ${code}`, { err });
    if (code === 'ARES_ERR_UNAVAILABLE') t.ok(isAresError(err) && err.transient, `${what}: transient`);
  }
}

/** The contract every NotifySocket keeps (the real addon and the simulation alike). */
function notifySocketContract(name: string, fixture: Fixture) {
  t.test(`NotifySocket contract: ${name}`, async (t) => {
    const { socket } = fixture;

    t.test('a datagram reaches the socket bound at a path, whole', async (t) => {
      const at = await fixture.listen(t, {});
      socket.send(at.path, 'READY=1\nSTATUS=hub: up');
      socket.send(at.path, 'WATCHDOG=1');
      await until('two datagrams', () => at.messages().length === 2);
      t.same(at.messages(), ['READY=1\nSTATUS=hub: up', 'WATCHDOG=1']);
    });

    t.test("'@name' is the abstract namespace", async (t) => {
      const at = await fixture.listen(t, { abstract: true });
      socket.send(at.path, 'READY=1');
      await until('a datagram', () => at.messages().length === 1);
      t.same(at.messages(), ['READY=1']);
    });

    t.test('the longest paths sockaddr_un holds work; one byte more is refused', async (t) => {
      const fsPath = pathOfLength(t, 107); // 107 bytes + the terminating NUL = sun_path's 108
      const atFs = await fixture.listen(t, { path: fsPath });
      socket.send(atFs.path, 'WATCHDOG=1');
      const abstract = '@' + 'a'.repeat(107); // the '@' becomes the leading NUL: 108 bytes, no terminator
      const atAbs = await fixture.listen(t, { path: abstract });
      socket.send(atAbs.path, 'WATCHDOG=1');
      await until('both datagrams', () => atFs.messages().length === 1 && atAbs.messages().length === 1);
      throwsCode(t, () => socket.send(pathOfLength(t, 108), 'x'), 'ARES_ERR_CONFIG', '108-byte path');
      throwsCode(t, () => socket.send(abstract + 'a', 'x'), 'ARES_ERR_CONFIG', '109-byte abstract name');
    });

    t.test('paths no socket can have are refused as configuration errors', async (t) => {
      throwsCode(t, () => socket.send('notify.sock', 'x'), 'ARES_ERR_CONFIG', 'relative path');
      throwsCode(t, () => socket.send('', 'x'), 'ARES_ERR_CONFIG', 'empty path');
      throwsCode(t, () => socket.send('/tmp/a\0b', 'x'), 'ARES_ERR_CONFIG', 'NUL inside');
    });

    t.test('nobody listening is a transient failure', async (t) => {
      throwsCode(t, () => socket.send(join(tempDir(t), 'none.sock'), 'x'), 'ARES_ERR_UNAVAILABLE', 'no such file');
      throwsCode(t, () => socket.send(`@ares-nobody-${process.pid}`, 'x'), 'ARES_ERR_UNAVAILABLE', 'abstract');
    });
  });
}

notifySocketContract('the ares-sd-notify addon', {
  socket: addonNotifySocket(),
  async listen(t, at) {
    const r = await notifyReceiver(t, at);
    return { path: r.path, messages: () => r.received.map((d) => d.message) };
  },
});

const sim = new SimNotifySocket();
notifySocketContract('the simulation', {
  socket: sim,
  async listen(t, at) {
    const path = at.path ?? (at.abstract ? `@sim-${Math.random()}` : join(tempDir(t), 'notify.sock'));
    const inbox = sim.bind(path);
    return { path, messages: () => inbox };
  },
});

/** A logger whose lines the test reads. */
function capture() {
  const lines: { level: number; msg: string; err?: { message?: string } }[] = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, warnings: () => lines.filter((l) => l.level === 40) };
}

function simNotifier(env: Record<string, string>, pid = process.pid) {
  const socket = new SimNotifySocket();
  const inbox = env['NOTIFY_SOCKET'] ? socket.bind(env['NOTIFY_SOCKET']) : [];
  const { log, warnings } = capture();
  let loads = 0;
  const notifier = new SdNotifier({ env, log, pid, socket: () => (loads++, socket) });
  return { notifier, inbox, warnings, loads: () => loads };
}

t.test('without NOTIFY_SOCKET everything is a no-op and the addon is never loaded', async (t) => {
  const s = simNotifier({ WATCHDOG_USEC: '1000000' });
  t.notOk(s.notifier.enabled);
  t.equal(s.notifier.watchdogPingMs, undefined);
  s.notifier.ready('up');
  s.notifier.status('x');
  s.notifier.watchdog();
  s.notifier.start(() => 'x', 5);
  s.notifier.stopping();
  t.equal(s.loads(), 0);
  t.same(s.warnings(), []);
});

t.test('READY, STATUS, WATCHDOG, STOPPING as sd_notify(3) spells them', async (t) => {
  const s = simNotifier({ NOTIFY_SOCKET: '/run/systemd/notify' });
  s.notifier.ready('hub abc: http :8000');
  s.notifier.status('two\nlines\r\tand\u2028more');
  s.notifier.status('two\nlines\r\tand\u2028more');
  s.notifier.watchdog();
  s.notifier.stopping('stopping on SIGTERM');
  t.same(s.inbox, [
    'READY=1\nSTATUS=hub abc: http :8000',
    'STATUS=two lines and more',
    'WATCHDOG=1',
    'STOPPING=1\nSTATUS=stopping on SIGTERM',
  ]);
  t.equal(s.loads(), 1, 'the socket is loaded once');
  t.ok(s.notifier.enabled);
});

t.test('the watchdog pings at half WATCHDOG_USEC until stopping', async (t) => {
  const s = simNotifier({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '40000', WATCHDOG_PID: String(process.pid) });
  t.equal(s.notifier.watchdogPingMs, 20);
  s.notifier.ready('up');
  s.notifier.start();
  t.teardown(() => s.notifier.stop());
  await until('three pings', () => s.inbox.filter((m) => m === 'WATCHDOG=1').length >= 3);
  s.notifier.stopping();
  const after = s.inbox.length;
  await never('a ping after STOPPING=1', () => s.inbox.length !== after, 10 * s.notifier.watchdogPingMs!);
  t.equal(s.inbox.length, after, 'no ping after STOPPING=1');
  t.equal(s.inbox.at(-1), 'STOPPING=1');
});

t.test('a watchdog meant for another process, or none, sends no pings', async (t) => {
  t.equal(
    simNotifier({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '40000', WATCHDOG_PID: '1' }).notifier.watchdogPingMs,
    undefined,
  );
  t.equal(simNotifier({ NOTIFY_SOCKET: '/run/n' }).notifier.watchdogPingMs, undefined);
  const bad = simNotifier({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: 'soon' });
  t.equal(bad.notifier.watchdogPingMs, undefined);
  t.match(bad.warnings(), [{ msg: 'systemd watchdog disabled', err: { message: /WATCHDOG_USEC/ } }]);
});

t.test('the status poll sends STATUS only when it changes', async (t) => {
  const s = simNotifier({ NOTIFY_SOCKET: '/run/n' });
  let text = 'provisioned=no';
  let polls = 0;
  s.notifier.ready(text);
  s.notifier.start(() => (polls++, text), 5);
  t.teardown(() => s.notifier.stop());
  await until('several polls', () => polls >= 3);
  t.same(s.inbox, ['READY=1\nSTATUS=provisioned=no'], 'unchanged: nothing sent');
  text = 'provisioned=yes';
  await until('the change', () => s.inbox.length === 2);
  const seen = polls;
  await until('more polls', () => polls >= seen + 3);
  t.same(s.inbox, ['READY=1\nSTATUS=provisioned=no', 'STATUS=provisioned=yes']);
});

t.test('a status function that throws is logged once, and the pings go on', async (t) => {
  const s = simNotifier({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '20000' });
  s.notifier.start(() => {
    throw new Error('not ready');
  }, 5);
  t.teardown(() => s.notifier.stop());
  await until('pings', () => s.inbox.filter((m) => m === 'WATCHDOG=1').length >= 5);
  t.match(s.warnings(), [{ msg: /status poll failed/ }]);
});

t.test('an addon that does not load: one warning, then silence, never a throw', async (t) => {
  const { log, warnings } = capture();
  let loads = 0;
  const notifier = new SdNotifier({
    env: { NOTIFY_SOCKET: '/run/n' },
    log,
    socket: () => {
      loads++;
      throw new Error('Cannot find module ares-sd-notify');
    },
  });
  notifier.ready('up');
  notifier.watchdog();
  notifier.stopping();
  t.equal(loads, 1, 'not retried');
  t.match(warnings(), [{ msg: /addon did not load/, err: { message: /Cannot find module/ } }]);
});

t.test('the real addon: a bad NOTIFY_SOCKET is a warning, not a crash', async (t) => {
  for (const path of [join(tempDir(t), 'missing', 'notify.sock'), 'relative.sock']) {
    const { log, warnings } = capture();
    // The real addon, counted: each send that fails is one the notifier must swallow without a new warning.
    let failed = 0;
    const counted = (): NotifySocket => {
      const real = addonNotifySocket();
      return {
        send(socketPath, message) {
          try {
            real.send(socketPath, message);
          } catch (err) {
            failed++;
            throw err;
          }
        },
      };
    };
    const notifier = new SdNotifier({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '10000' }, log, socket: counted });
    notifier.ready('up');
    notifier.start();
    await until('several failing pings', () => failed >= 5);
    notifier.stopping();
    t.equal(warnings().length, 1, `one warning for ${path}`);
    t.match(warnings()[0], { msg: /systemd notification failed \(READY=1\)/ });
  }
});

t.test('the real addon talks to a real notify socket, by path and in the abstract namespace', async (t) => {
  for (const abstract of [false, true]) {
    const r = await notifyReceiver(t, { abstract });
    const { log, warnings } = capture();
    const notifier = new SdNotifier({ env: { NOTIFY_SOCKET: r.path, WATCHDOG_USEC: '100000' }, log });
    notifier.ready('central http://127.0.0.1:8080');
    notifier.start();
    await r.next(/^WATCHDOG=1$/);
    notifier.stopping();
    await r.next(/^STOPPING=1$/);
    t.equal(r.received[0]?.message, 'READY=1\nSTATUS=central http://127.0.0.1:8080', r.path);
    t.same(warnings(), []);
  }
});
