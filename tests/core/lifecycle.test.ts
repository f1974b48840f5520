import t from 'tap';
import { Lifecycle, StartAbortedError, StartError, type Part } from '../../core/lifecycle.js';
import { createLogger } from '../../core/logger.js';
import { Writable } from 'node:stream';

/** A logger whose lines the test can read. */
function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

/** Parts that record what happened to them, in one shared order. */
function recorder() {
  const events: string[] = [];
  const part = (name: string, extra: Partial<Part> = {}): Part => ({
    name,
    start: () => void events.push(`start ${name}`),
    stop: () => void events.push(`stop ${name}`),
    ...extra,
  });
  return { events, part };
}

t.test('parts start in order and stop in reverse; stop is idempotent', async (t) => {
  const { events, part } = recorder();
  const lc = new Lifecycle({ log: recordingLogger().log }).add(part('a')).add(part('b')).add(part('c'));
  await lc.start();
  t.same(lc.running(), ['a', 'b', 'c']);
  await Promise.all([lc.stop(), lc.stop()]);
  await lc.stop();
  t.same(events, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  t.same(lc.running(), []);
});

t.test('a part that fails to start stops everything that started, itself included, and is named', async (t) => {
  const { events, part } = recorder();
  const { log, lines } = recordingLogger();
  const lc = new Lifecycle({ log })
    .add(part('db'))
    .add(part('broker'))
    .add(
      part('http', {
        start: () => {
          events.push('start http');
          throw new Error('listen EADDRINUSE: address already in use 0.0.0.0:8000');
        },
      }),
    )
    .add(part('link'));
  const err = await lc.start().catch((e: unknown) => e);
  t.ok(err instanceof StartError);
  t.match(err, {
    code: 'ARES_ERR_START',
    part: 'http',
    message: 'http: listen EADDRINUSE: address already in use 0.0.0.0:8000',
  });
  t.same(
    events,
    ['start db', 'start broker', 'start http', 'stop http', 'stop broker', 'stop db'],
    'link never started',
  );
  t.same(lc.running(), []);
  t.ok(lines.some((l) => l['part'] === 'http' && /failed to start/.test(String(l['msg']))));
  // A failed lifecycle stays failed: start() again answers the same error, stop() has nothing left to do.
  t.equal(await lc.start().catch((e: unknown) => e), err);
  await lc.stop();
  t.equal(events.length, 6);
});

t.test('stop() during start() lets the current part finish, then unwinds; no later part starts', async (t) => {
  const { events, part } = recorder();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let sawAbort = false;
  const lc = new Lifecycle({ log: recordingLogger().log })
    .add(part('db'))
    .add(
      part('broker', {
        start: async (signal) => {
          events.push('start broker');
          await gate;
          sawAbort = signal.aborted;
        },
      }),
    )
    .add(part('http'));
  const starting = lc.start().catch((e: unknown) => e);
  await new Promise((r) => setImmediate(r));
  t.same(events, ['start db', 'start broker']);
  const stopping = lc.stop();
  release();
  await stopping;
  const err = await starting;
  t.ok(err instanceof StartAbortedError, 'start() reports it was stopped, not failed');
  t.match(err, { code: 'ARES_ERR_STOPPED', part: 'http' });
  t.ok(sawAbort, 'the part under way saw its signal abort');
  t.same(events, ['start db', 'start broker', 'stop broker', 'stop db']);
});

t.test('stop() before start(): nothing starts', async (t) => {
  const { events, part } = recorder();
  const lc = new Lifecycle({ log: recordingLogger().log }).add(part('a'));
  await lc.stop();
  t.match(await lc.start().catch((e: unknown) => e), { code: 'ARES_ERR_STOPPED' });
  t.same(events, []);
});

t.test('a stop that hangs or throws is logged and the others still stop', async (t) => {
  const { events, part } = recorder();
  const { log, lines } = recordingLogger();
  const lc = new Lifecycle({ log, stopTimeoutMs: 5000 })
    .add(part('db'))
    .add(part('link', { stop: () => new Promise<void>(() => undefined), stopTimeoutMs: 20 }))
    .add(
      part('http', {
        stop: () => {
          throw new Error('close failed');
        },
      }),
    );
  await lc.start();
  await lc.stop();
  t.same(events, ['start db', 'start link', 'start http', 'stop db']);
  t.ok(lines.some((l) => l['part'] === 'link' && /did not stop in time/.test(String(l['msg']))));
  t.ok(lines.some((l) => l['part'] === 'http' && /stopping http failed/.test(String(l['msg']))));
});

t.test('a start that hangs is given up on: stop() still stops what started', async (t) => {
  const { events, part } = recorder();
  const { log, lines } = recordingLogger();
  let finish!: () => void;
  const lc = new Lifecycle({ log, startGiveUpMs: 20 })
    .add(part('http'))
    .add(
      part('external-broker', {
        start: () => new Promise<void>((r) => (finish = r)),
      }),
    )
    .add(part('notifications'));
  const starting = lc.start().catch((e: unknown) => e);
  await new Promise((r) => setImmediate(r));
  await lc.stop();
  t.same(events, ['start http', 'stop external-broker', 'stop http']);
  t.ok(lines.some((l) => /start did not give up in time/.test(String(l['msg']))));
  t.same(lc.running(), []);
  // The broker answers at last: what its start opened is closed again, and nothing after it starts.
  finish();
  t.match(await starting, { code: 'ARES_ERR_STOPPED', part: 'notifications' });
  t.same(events, ['start http', 'stop external-broker', 'stop http', 'stop external-broker']);
});

t.test('parts cannot be added once started', async (t) => {
  const { part } = recorder();
  const lc = new Lifecycle({ log: recordingLogger().log }).add(part('a'));
  await lc.start();
  t.throws(() => lc.add(part('b')), /added after start/);
  await lc.stop();
});
