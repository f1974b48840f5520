import Fastify from 'fastify';
import t from 'tap';
import { CsrError } from '../../backend/ca/ca.js';
import { errorHandler } from '../../backend/http/errors.js';
import { AresError, isAresError, type AresErrorCode } from '../../core/errors.js';
import { GpioError } from '../../drivers/gpio/port.js';
import { SensorError } from '../../drivers/host/sensor-error.js';
import { SignatureError } from '../../sync/device-signing.js';

/** Each module's own error class: an AresError with a stable code, and its HTTP answer on central. */
const cases: {
  err: AresError;
  cls: abstract new (...args: never[]) => AresError;
  name: string;
  code: AresErrorCode;
  transient: boolean;
  http: [number, string];
}[] = [
  {
    err: new CsrError('CSR is empty'),
    cls: CsrError,
    name: 'CsrError',
    code: 'ARES_ERR_CSR',
    transient: false,
    http: [422, 'unprocessable'],
  },
  {
    err: new SignatureError('bad_timestamp'),
    cls: SignatureError,
    name: 'SignatureError',
    code: 'ARES_ERR_SIGNATURE',
    transient: false,
    http: [401, 'unauthorized'],
  },
  {
    err: new GpioError('GPIO 17 is already open', 17),
    cls: GpioError,
    name: 'GpioError',
    code: 'ARES_ERR_GPIO',
    transient: false,
    http: [500, 'internal'],
  },
  {
    err: new SensorError('no thermal zone'),
    cls: SensorError,
    name: 'SensorError',
    code: 'ARES_ERR_SENSOR',
    transient: false,
    http: [500, 'internal'],
  },
  {
    err: new SensorError('EIO on all 3 attempts', { transient: true, cause: new Error('EIO') }),
    cls: SensorError,
    name: 'SensorError',
    code: 'ARES_ERR_SENSOR',
    transient: true,
    http: [500, 'internal'],
  },
];

t.test('module error classes are AresErrors with their own code', async (t) => {
  for (const c of cases) {
    t.ok(c.err instanceof c.cls, `${c.name}: instanceof its own class still holds`);
    t.ok(c.err instanceof AresError && isAresError(c.err), `${c.name} is an AresError`);
    t.ok(c.err instanceof Error, `${c.name} is an Error`);
    t.match(c.err, { name: c.name, code: c.code, transient: c.transient }, c.name);
  }
  t.equal(new SignatureError('bad_timestamp').reason, 'bad_timestamp', 'SignatureError keeps its reason');
  t.equal(new GpioError('x', 4).pin, 4, 'GpioError keeps its pin');
  const cause = new Error('EIO');
  t.equal(new SensorError('x', { cause }).cause, cause, 'SensorError keeps its cause');
  t.equal(new CsrError('x', { cause }).cause, cause, 'CsrError keeps its cause');
  t.equal(new CsrError('x').cause, undefined, 'no cause when none is given');
});

t.test('central maps each class through the one HTTP table', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  let dbClosed = false;
  app.setErrorHandler<Parameters<typeof errorHandler>[0]>((err, request, reply) =>
    errorHandler(err, request, reply, dbClosed),
  );
  cases.forEach((c, i) =>
    app.get(`/${i}`, () => {
      throw c.err;
    }),
  );
  app.get('/uncoded', () => {
    throw new Error('driver has already been destroyed');
  });
  for (const [i, c] of cases.entries()) {
    const res = await app.inject({ method: 'GET', url: `/${i}` });
    t.equal(res.statusCode, c.http[0], `${c.name}: status`);
    t.equal((res.json() as { error: { code: string } }).error.code, c.http[1], `${c.name}: error code`);
  }
  // A CSR's reason reaches the device; a hub-side fault's text never leaves central.
  t.match((await app.inject({ method: 'GET', url: '/0' })).json(), { error: { message: 'CSR is empty' } });
  t.match((await app.inject({ method: 'GET', url: '/2' })).json(), { error: { message: 'internal error' } });

  t.equal((await app.inject({ method: 'GET', url: '/uncoded' })).statusCode, 500, 'an uncoded error is a 500');
  dbClosed = true;
  const closed = await app.inject({ method: 'GET', url: '/uncoded' });
  t.equal(closed.statusCode, 503, 'the same error once the database is closed: 503 (by state, not message)');
  t.match(closed.json(), { error: { code: 'unavailable' } });
});

t.test('logs keep an error’s code while secrets named code stay redacted', async (t) => {
  const { Writable } = await import('node:stream');
  const { createLogger } = await import('../../core/logger.js');
  const lines: Record<string, Record<string, unknown>>[] = [];
  const log = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, Record<string, unknown>>);
        done();
      },
    }),
  );
  log.error({ err: new AresError('ARES_ERR_CSR', 'bad CSR') }, 'refused');
  log.warn({ body: { code: '123456' } }, 'reset attempt');
  await new Promise((r) => setImmediate(r));
  t.equal(lines[0]!['err']!['error_code'], 'ARES_ERR_CSR', 'the error code is in the log');
  t.equal(lines[1]!['body']!['code'], '[redacted]', 'a reset code is not');
});
