import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { envName, listSettings, loadConfig, type LoadOptions } from '../../core/config.js';
import { AresError } from '../../core/errors.js';

interface Teardown {
  teardown(fn: () => void): void;
}

/** Writes `text` to a fresh temp file, removed when the (sub)test ends. */
function yamlFile(tt: Teardown, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ares-config-test-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'ares.yaml');
  fs.writeFileSync(file, text);
  return file;
}

/** Runs loadConfig expecting ARES_ERR_CONFIG and returns the error message. */
function configError(opts: LoadOptions): string {
  try {
    loadConfig(opts);
  } catch (err) {
    if (err instanceof AresError && err.code === 'ARES_ERR_CONFIG') return err.message;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(opts)}`);
}

t.test('defaults', async (t) => {
  const cfg = loadConfig({ env: {} });
  t.equal(cfg.central.port, 8080);
  t.equal(cfg.central.host, '127.0.0.1');
  t.equal(cfg.central.allow_insecure_http, false);
  t.equal(cfg.hub.mqtt_port, 1883);
  t.equal(cfg.hub.http_port, 8000);
  t.equal(cfg.hub.gpio, 'auto');
  t.equal(cfg.log.level, 'info');
  t.equal(cfg.central.data_dir, './data/central');
  t.equal(cfg.central.database, 'sqlite:./data/central/central.db');
  t.equal(cfg.central.tls_cert, undefined);
  t.equal(cfg.hub.central_url, undefined);

  const moved = loadConfig({ env: {}, overrides: { 'central.data_dir': '/srv/ares' } });
  t.equal(moved.central.database, 'sqlite:/srv/ares/central.db', 'database follows data_dir');
  const explicit = loadConfig({
    env: {},
    overrides: { 'central.data_dir': '/srv/ares', 'central.database': 'postgres://db/ares' },
  });
  t.equal(explicit.central.database, 'postgres://db/ares', 'an explicit database wins');
});

t.test('YAML file values', async (t) => {
  const file = yamlFile(
    t,
    [
      'central:',
      '  port: 9100',
      '  host: localhost',
      '  data_dir: /tmp/ares-x',
      'hub:',
      '  gpio: sim',
      '  central_url: https://central.example',
      'log:',
      '  level: debug',
      '',
    ].join('\n'),
  );
  const cfg = loadConfig({ file, env: {} });
  t.equal(cfg.central.port, 9100);
  t.equal(cfg.central.host, 'localhost');
  t.equal(cfg.central.database, 'sqlite:/tmp/ares-x/central.db');
  t.equal(cfg.hub.gpio, 'sim');
  t.equal(cfg.hub.central_url, 'https://central.example');
  t.equal(cfg.log.level, 'debug');
  t.equal(cfg.hub.http_port, 8000, 'unset values keep their defaults');

  const empty = yamlFile(t, '# nothing here\n');
  t.equal(loadConfig({ file: empty, env: {} }).central.port, 8080, 'an empty file means defaults');
  const nullSection = yamlFile(t, 'central:\nhub:\n  gpio: sim\n');
  t.equal(loadConfig({ file: nullSection, env: {} }).hub.gpio, 'sim', 'an empty section is allowed');
});

t.test('environment overrides with type coercion', async (t) => {
  const cfg = loadConfig({
    env: {
      ARES_CENTRAL_PORT: '9000',
      ARES_CENTRAL_ALLOW_INSECURE_HTTP: 'true',
      ARES_CENTRAL_TRUST_PROXY: 'off',
      ARES_HUB_CENTRAL_URL: 'http://central.local:8080',
      ARES_LOG_LEVEL: 'warn',
    },
  });
  t.equal(cfg.central.port, 9000);
  t.equal(typeof cfg.central.port, 'number');
  t.equal(cfg.central.allow_insecure_http, true);
  t.equal(cfg.central.trust_proxy, false);
  t.equal(cfg.hub.central_url, 'http://central.local:8080');
  t.equal(cfg.log.level, 'warn');

  for (const [raw, want] of [
    ['1', true],
    ['YES', true],
    ['on', true],
    ['0', false],
    ['No', false],
    ['FALSE', false],
  ] as const) {
    t.equal(loadConfig({ env: { ARES_CENTRAL_TRUST_PROXY: raw } }).central.trust_proxy, want, `boolean ${raw}`);
  }
});

t.test('precedence: file < env < overrides', async (t) => {
  const file = yamlFile(t, 'central:\n  port: 9100\n  host: localhost\n');
  const env = { ARES_CENTRAL_PORT: '9200' };
  t.equal(loadConfig({ file, env: {} }).central.port, 9100);
  const fromEnv = loadConfig({ file, env });
  t.equal(fromEnv.central.port, 9200, 'env beats file');
  t.equal(fromEnv.central.host, 'localhost', 'the file still supplies other settings');
  t.equal(loadConfig({ file, env, overrides: { 'central.port': 9300 } }).central.port, 9300, 'overrides beat env');
});

t.test('envName and listSettings', async (t) => {
  t.equal(envName('hub.central_url'), 'ARES_HUB_CENTRAL_URL');
  t.equal(envName('central.port'), 'ARES_CENTRAL_PORT');
  t.equal(envName('log.level'), 'ARES_LOG_LEVEL');
  const settings = listSettings();
  const byPath = new Map(settings.map((s) => [s.path, s]));
  for (const p of [
    'log.level',
    'central.port',
    'central.database',
    'central.metrics_token',
    'hub.central_url',
    'hub.gpio',
    'hub.ble_window_s',
  ]) {
    t.equal(byPath.get(p)?.env, envName(p), `${p} is listed with its env name`);
  }
  t.equal(byPath.size, settings.length, 'no duplicates');
  const cfg = loadConfig({ env: {} }) as unknown as Record<string, Record<string, unknown>>;
  const leaves = Object.entries(cfg).flatMap(([section, values]) => Object.keys(values).map((k) => `${section}.${k}`));
  t.same(new Set(settings.map((s) => s.path)), new Set(leaves), 'every leaf of the config is listed');
  t.ok(settings.every((s) => s.env === envName(s.path) && s.spec.doc.length > 0));
});

t.test('unknown settings get a did-you-mean', async (t) => {
  const file = yamlFile(t, 'central:\n  prot: 1\n');
  const msg = configError({ file, env: {} });
  t.match(msg, 'central.prot');
  t.match(msg, /did you mean central\.port\?/);
  t.match(msg, file, 'names the file');

  const section = configError({ file: yamlFile(t, 'centrl:\n  port: 1\n'), env: {} });
  t.match(section, /centrl: unknown setting.*did you mean central\?/);

  const env = configError({ env: { ARES_CENTRAL_PROT: '1' } });
  t.match(env, /ARES_CENTRAL_PROT: unknown setting \(did you mean ARES_CENTRAL_PORT\?\)/);

  const override = configError({ env: {}, overrides: { 'hub.mqtt_prot': 1 } });
  t.match(override, /hub\.mqtt_prot: unknown setting \(did you mean hub\.mqtt_port\?\)/);
});

t.test('unrelated environment variables are ignored', async (t) => {
  const cfg = loadConfig({ env: { ARES_TEST_X: '1', PATH: '/usr/bin', ARES_HUBBUB: 'x', HOME: '/root', ARES: 'y' } });
  t.equal(cfg.central.port, 8080);
});

t.test('wrong types and ranges', async (t) => {
  t.match(
    configError({ env: { ARES_CENTRAL_PORT: 'abc' } }),
    /central\.port \(ARES_CENTRAL_PORT\): expected a number, got "abc"/,
  );
  t.match(configError({ env: { ARES_CENTRAL_PORT: '' } }), /central\.port.*expected a number/);
  t.match(configError({ env: { ARES_CENTRAL_PORT: '70000' } }), /central\.port: 70000 is outside 0…65535/);
  t.match(configError({ env: {}, overrides: { 'central.port': -1 } }), /central\.port: -1 is outside/);
  t.match(configError({ env: { ARES_CENTRAL_PORT: '1.5' } }), /central\.port: expected an integer, got 1\.5/);
  t.match(
    configError({ env: { ARES_CENTRAL_ALLOW_INSECURE_HTTP: 'maybe' } }),
    /central\.allow_insecure_http.*expected true or false, got "maybe"/,
  );
  t.match(
    configError({ file: yamlFile(t, 'central:\n  port: "8080"\n'), env: {} }),
    /central\.port: expected an integer, got "8080"/,
  );
  t.match(
    configError({ file: yamlFile(t, 'central:\n  trust_proxy: "yes"\n'), env: {} }),
    /central\.trust_proxy: expected true or false/,
  );
  t.match(
    configError({ file: yamlFile(t, 'central:\n  host: 127\n'), env: {} }),
    /central\.host: expected a string, got 127/,
  );
  t.match(configError({ file: yamlFile(t, 'central: 5\n'), env: {} }), /central: must be a mapping/);

  // Enum hints suggest the closest allowed *value*: "gpoi" is near no value of hub.gpio, so no hint.
  const gpio = configError({ file: yamlFile(t, 'hub:\n  gpio: gpoi\n'), env: {} });
  t.match(gpio, /hub\.gpio: must be one of auto, pigpio, sim, got "gpoi"$/m);
  t.match(
    configError({ file: yamlFile(t, 'hub:\n  gpio: pigpoi\n'), env: {} }),
    /hub\.gpio: .*got "pigpoi" \(did you mean pigpio\?\)/,
  );
  t.match(configError({ env: { ARES_HUB_GPIO: 'sm' } }), /hub\.gpio: .*did you mean sim\?/);
  t.match(configError({ env: { ARES_LOG_LEVEL: 'verbose' } }), /log\.level: must be one of/);
});

t.test('URL settings', async (t) => {
  t.match(
    configError({ file: yamlFile(t, 'hub:\n  central_url: ftp://x\n'), env: {} }),
    /hub\.central_url: scheme must be http or https, got ftp:/,
  );
  t.match(
    configError({ env: { ARES_HUB_CENTRAL_URL: 'central.local' } }),
    /hub\.central_url: not a URL: "central\.local"/,
  );
  t.match(
    configError({ env: { ARES_CENTRAL_REDIS_URL: 'http://redis' } }),
    /central\.redis_url: scheme must be redis or rediss/,
  );
  const ok = loadConfig({
    env: { ARES_CENTRAL_MQTT_URL: 'mqtts://broker:8883', ARES_CENTRAL_PUBLIC_URL: 'https://ares.example' },
  });
  t.equal(ok.central.mqtt_url, 'mqtts://broker:8883');
  t.equal(ok.central.public_url, 'https://ares.example');
});

t.test('several problems are reported together', async (t) => {
  const file = yamlFile(t, 'central:\n  prot: 1\nhub:\n  gpio: nope\n');
  let caught: unknown;
  try {
    loadConfig({
      file,
      env: { ARES_CENTRAL_PORT: 'abc', ARES_HUB_CENTRAL_URL: 'ftp://x', ARES_CENTRAL_BODY_LIMIT_KB: '0' },
    });
  } catch (err) {
    caught = err;
  }
  t.type(caught, AresError);
  const err = caught as AresError;
  t.equal(err.code, 'ARES_ERR_CONFIG');
  for (const needle of ['central.prot', 'central.port', 'hub.gpio', 'hub.central_url', 'central.body_limit_kb'])
    t.match(err.message, needle);
  t.ok(Array.isArray(err.details) && (err.details as unknown[]).length === 5, 'details lists every problem');
});

t.test('bad files', async (t) => {
  const list = yamlFile(t, '- central\n- hub\n');
  t.match(configError({ file: list, env: {} }), `${list}: must be a mapping`);
  const scalar = yamlFile(t, 'just a string\n');
  t.match(configError({ file: scalar, env: {} }), 'must be a mapping');
  const broken = yamlFile(t, 'central:\n  port: [1, 2\n');
  t.match(configError({ file: broken, env: {} }), `config file ${broken}`);
  const missing = path.join(os.tmpdir(), `ares-no-such-${process.pid}-${Date.now()}.yaml`);
  t.match(configError({ file: missing, env: {} }), `config file ${missing}`);
});

t.test('the result is deep-frozen', async (t) => {
  const cfg = loadConfig({ env: {} });
  t.ok(Object.isFrozen(cfg));
  t.ok(Object.isFrozen(cfg.central));
  t.ok(Object.isFrozen(cfg.hub));
  t.throws(() => {
    (cfg.central as { port: number }).port = 1;
  }, TypeError);
  t.throws(() => {
    (cfg as unknown as Record<string, unknown>)['extra'] = {};
  }, TypeError);
  t.equal(cfg.central.port, 8080);
  t.not(loadConfig({ env: {} }), cfg, 'each load returns a new object');
});

t.test('secret values are not echoed in errors', async (t) => {
  const file = yamlFile(t, 'central:\n  metrics_token: 12345\n  smtp_url: hunter2-not-a-url\n');
  const msg = configError({ file, env: {} });
  t.match(msg, 'central.metrics_token');
  t.match(msg, 'central.smtp_url');
  t.notMatch(msg, '12345');
  t.notMatch(msg, 'hunter2');
  const db = configError({ env: {}, overrides: { 'central.database': 424242 } });
  t.match(db, 'central.database');
  t.notMatch(db, '424242');
  const smtp = configError({ env: { ARES_CENTRAL_SMTP_URL: 'http://user:s3cr3t@mail' } });
  t.match(smtp, 'central.smtp_url');
  t.notMatch(smtp, 's3cr3t');
});
