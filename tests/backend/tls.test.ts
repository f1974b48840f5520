import { request } from 'node:https';
import { join } from 'node:path';
import t from 'tap';
import { startCentral } from '../../backend/central.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { OPENSSL_SKIP, selfSignedCert } from '../helpers/openssl.js';

t.test('central serves HTTPS with central.tls_cert / tls_key', { skip: OPENSSL_SKIP }, async (t) => {
  const dir = t.testdir();
  const tls = selfSignedCert(t);
  const config = loadConfig({
    env: {},
    overrides: {
      'central.data_dir': dir,
      'central.port': 0,
      'central.mqtt_port': 0,
      'central.tls_cert': tls.certFile,
      'central.tls_key': tls.keyFile,
      'log.level': 'silent',
    },
  });
  const central = await startCentral(config, silentLogger());
  t.teardown(() => central.close());
  t.match(central.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(`${central.url}/healthz`, { ca: tls.cert }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve(data));
    });
    req.on('error', reject);
    req.end();
  });
  t.same(JSON.parse(body), { status: 'ok', database: 'ok' });
});

t.test('a missing certificate file is a configuration error naming the setting', async (t) => {
  const dir = t.testdir();
  const config = loadConfig({
    env: {},
    overrides: {
      'central.data_dir': dir,
      'central.port': 0,
      'central.mqtt_port': 0,
      'central.tls_cert': join(dir, 'nope.pem'),
      'central.tls_key': join(dir, 'nope.key'),
    },
  });
  await t.rejects(startCentral(config, silentLogger()), {
    code: 'ARES_ERR_START',
    part: 'context',
    cause: { code: 'ARES_ERR_CONFIG', message: /central\.tls_cert/ },
  });
});
