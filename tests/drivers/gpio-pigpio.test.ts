import t from 'tap';
import { PigpioGpioPort } from '../../drivers/gpio/pigpio.js';
import { gpioContract } from './gpio-contract.js';

// pigpio is opt-in: it loads only on a Pi 4 or older with the pigpio C library, as root, after
// `npm install pigpio`. There the shared contract runs against it; elsewhere it is skipped.
const available = await PigpioGpioPort.load().then(
  async (port) => {
    await port.close();
    return true;
  },
  () => false,
);

if (available) {
  gpioContract(t, 'pigpio', async () => ({ port: await PigpioGpioPort.load() }));
} else {
  t.test(
    'pigpio contract',
    { skip: 'pigpio is not installed here: runs on a Pi ≤ 4 with `npm install pigpio`, as root' },
    async () => {},
  );
}

t.test(
  'without the package, loading says how to get it',
  { skip: available ? 'pigpio is installed here' : false },
  async (t) => {
    await t.rejects(PigpioGpioPort.load(), { name: 'GpioError', message: /npm install pigpio/ });
  },
);
