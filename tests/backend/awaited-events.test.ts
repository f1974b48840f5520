import t from 'tap';
import { emitAndWait, type CentralEvents } from '../../backend/context.js';
import { Bus } from '../../core/bus.js';
import { silentLogger } from '../../core/logger.js';

// Routes that hand out broker logins await `device.provisioned` / `app-login.issued`: with an external
// broker the account must exist before the hub or app is told where to connect.

const login = { userId: 1, username: 'app-x', password: 'pw', expiresAt: 2 };

t.test('emitAndWait resolves only once the listeners’ work is done', async (t) => {
  const bus = new Bus<CentralEvents>(silentLogger());
  let finish!: () => void;
  const seen: string[] = [];
  bus.on('broker', 'app-login.issued', ({ waitFor, username }) =>
    waitFor(new Promise<void>((resolve) => (finish = resolve)).then(() => void seen.push(`created ${username}`))),
  );
  bus.on('other', 'app-login.issued', ({ waitFor }) => waitFor(Promise.resolve()));
  const emitted = emitAndWait(bus, 'app-login.issued', login).then(() => void seen.push('answered'));
  await new Promise(setImmediate); // every pending microtask has run
  t.same(seen, [], 'not answered while the account is being created');
  finish();
  await emitted;
  t.same(seen, ['created app-x', 'answered']);
});

t.test('a listener’s failure is the emitter’s', async (t) => {
  const bus = new Bus<CentralEvents>(silentLogger());
  bus.on('broker', 'device.provisioned', ({ waitFor }) => waitFor(Promise.reject(new Error('broker said no'))));
  await t.rejects(emitAndWait(bus, 'device.provisioned', { deviceUuid: 'u' }), { message: 'broker said no' });
});

t.test('without listeners (no external broker) it resolves at once', async (t) => {
  const bus = new Bus<CentralEvents>(silentLogger());
  await t.resolves(emitAndWait(bus, 'device.provisioned', { deviceUuid: 'u' }));
});
