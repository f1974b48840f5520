import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startCentral } from '../../backend/central.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';

const haveOpenssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();

t.test(
  'central serves HTTPS with central.tls_cert / tls_key',
  { skip: haveOpenssl ? false : 'openssl is not installed (apt-get install openssl)' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ares-tls-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const config = loadConfig({
      env: {},
      overrides: {
        'central.data_dir': dir,
        'central.port': 0,
        'central.tls_cert': join(dir, 'cert.pem'),
        'central.tls_key': join(dir, 'key.pem'),
        'log.level': 'silent',
      },
    });
    const central = await startCentral(config, silentLogger());
    t.teardown(() => central.close());
    t.match(central.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${central.url}/healthz`, { ca: readFileSync(join(dir, 'cert.pem')) }, (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end();
    });
    t.same(JSON.parse(body), { status: 'ok', database: 'ok' });
  },
);

t.test('a missing certificate file is a configuration error naming the setting', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ares-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({
    env: {},
    overrides: {
      'central.data_dir': dir,
      'central.port': 0,
      'central.tls_cert': join(dir, 'nope.pem'),
      'central.tls_key': join(dir, 'nope.key'),
    },
  });
  await t.rejects(startCentral(config, silentLogger()), { code: 'ARES_ERR_CONFIG', message: /central\.tls_cert/ });
});
