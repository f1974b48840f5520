import t from 'tap';
import { startRealtimeChannel } from '../../backend/mqtt/channel.js';
import { startTestCentral } from '../helpers/central.js';
import { mosquittoPlan, mosquittoProblem, startMosquitto } from '../helpers/mosquitto.js';
import { writeBrokerCertificate } from '../../backend/ca/broker-cert.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/* External-broker mode refuses to start on a wrong setting, naming it. */

t.test('without central.mqtt_device_url', async (t) => {
  const c = await startTestCentral(t, undefined, { 'central.mqtt_url': 'mqtts://ares-central:pw@127.0.0.1:1' });
  await t.rejects(startRealtimeChannel(c.ctx, '127.0.0.1'), {
    code: 'ARES_ERR_CONFIG',
    message: /central\.mqtt_device_url: required/,
  });
});

t.test('without a login in central.mqtt_url', async (t) => {
  const c = await startTestCentral(t, undefined, {
    'central.mqtt_url': 'mqtts://127.0.0.1:1',
    'central.mqtt_device_url': 'mqtts://127.0.0.1:2',
  });
  await t.rejects(startRealtimeChannel(c.ctx, '127.0.0.1'), { code: 'ARES_ERR_CONFIG', message: /needs the login/ });
});

t.test('an unreachable broker', async (t) => {
  const m = await mosquittoPlan(); // free ports nobody listens on
  const c = await startTestCentral(t, undefined, {
    'central.mqtt_url': `mqtts://ares-central:pw@127.0.0.1:${m.appPort}`,
    'central.mqtt_device_url': `mqtts://127.0.0.1:${m.devicePort}`,
  });
  await t.rejects(startRealtimeChannel(c.ctx, '127.0.0.1'), {
    code: 'ARES_ERR_CONFIG',
    message: /central\.mqtt_url: cannot connect/,
  });
});

t.test('a wrong password', { skip: mosquittoProblem() ?? false }, async (t) => {
  const m = await mosquittoPlan();
  const c = await startTestCentral(t, undefined, {
    'central.mqtt_url': `mqtts://${m.adminUser}:not-${m.adminPassword}@127.0.0.1:${m.appPort}`,
    'central.mqtt_device_url': `mqtts://127.0.0.1:${m.devicePort}`,
  });
  const files = await writeBrokerCertificate(c.ctx.config, ['127.0.0.1'], join(c.dataDir, 'broker'));
  const read = (f: string) => readFileSync(f, 'utf8');
  await startMosquitto(t, { ca: read(files.ca), cert: read(files.cert), key: read(files.key) }, m);
  await t.rejects(startRealtimeChannel(c.ctx, '127.0.0.1'), {
    code: 'ARES_ERR_CONFIG',
    message: /central\.mqtt_url: cannot connect: .*(Not authorized|Bad User Name or Password)/i,
  });
});
