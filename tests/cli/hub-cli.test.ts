import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// Drives the built CLI (npm test builds first).
const ARES = fileURLToPath(new URL('../../dist/cli/ares.js', import.meta.url));
const PI4 = fileURLToPath(new URL('../fixtures/hosts/pi4', import.meta.url));
const X86 = fileURLToPath(new URL('../fixtures/hosts/x86', import.meta.url));

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^ARES_(CENTRAL|HUB|LOG)_/.test(k)) out[k] = v;
  return { ...out, ...extra };
}

function stateDir(tt: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ares-hub-cli-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('ares hub enroll prints the enrollment record, the same one every time', async (t) => {
  const dir = stateDir(t);
  const run = () =>
    spawnSync(process.execPath, [ARES, 'hub', 'enroll'], {
      env: env({ ARES_HUB_STATE_DIR: dir, ARES_HUB_HOST_ROOT: PI4, ARES_HUB_HARDWARE_VARIANT: 'Pro' }),
      encoding: 'utf8',
      timeout: 30_000,
    });
  const first = run();
  t.equal(first.status, 0, first.stderr);
  const rec = JSON.parse(first.stdout) as Record<string, string>;
  t.match(rec, {
    cpu_serial: '10000000a1b2c3d4',
    hardware_version: '4B',
    hardware_variant: 'Pro',
    public_key: /BEGIN PUBLIC KEY/,
  });
  t.equal(first.stdout.trim().split('\n').length, 1, 'one JSON line');
  t.ok(existsSync(join(dir, 'device-key.pem')));
  const second = run();
  t.equal(second.stdout, first.stdout, 'idempotent');
});

t.test('ares hub enroll on a machine without a CPU serial exits 2 naming hub.host_root', async (t) => {
  const r = spawnSync(process.execPath, [ARES, 'hub', 'enroll'], {
    env: env({ ARES_HUB_STATE_DIR: stateDir(t), ARES_HUB_HOST_ROOT: X86 }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(r.status, 2);
  t.match(r.stderr, /hub\.host_root/);
});

t.test('ares hub with a bad setting exits 2 naming it', async (t) => {
  const r = spawnSync(process.execPath, [ARES, 'hub'], {
    env: env({ ARES_HUB_STATE_DIR: stateDir(t), ARES_HUB_HOST_ROOT: PI4, ARES_HUB_COMPONENTS_POLL_S: 'often' }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(r.status, 2);
  t.match(r.stderr, /hub\.components_poll_s/);
});

t.test('ares hub waiting for central stops within 5 s of SIGTERM', async (t) => {
  // Central at a closed port: the hub keeps retrying, and must still stop promptly.
  const child = spawn(process.execPath, [ARES, 'hub'], {
    env: env({
      ARES_HUB_STATE_DIR: stateDir(t),
      ARES_HUB_HOST_ROOT: PI4,
      ARES_HUB_CENTRAL_URL: 'http://127.0.0.1:9',
      ARES_HUB_GPIO: 'sim',
      ARES_HUB_MQTT_PORT: '0',
      ARES_HUB_HTTP_PORT: '0',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 300 && !out.includes('provisioning: central unreachable'); i++)
    await new Promise((r) => setTimeout(r, 50));
  t.match(out, /provisioning: central unreachable/, 'the hub reports why it waits');
  const sent = Date.now();
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.equal(code, 0);
  t.ok(Date.now() - sent < 5000, `stopped in ${Date.now() - sent} ms`);
});

t.test('ares hub on a machine without GPIO exits 2 naming hub.gpio', async (t) => {
  const r = spawnSync(process.execPath, [ARES, 'hub'], {
    env: env({ ARES_HUB_STATE_DIR: stateDir(t), ARES_HUB_HOST_ROOT: PI4, ARES_HUB_GPIO: 'auto' }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(r.status, 2, r.stderr);
  t.match(r.stderr, /hub\.gpio/);
});

t.test('ares hub nodes add | list | remove', async (t) => {
  const dir = stateDir(t);
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [ARES, 'hub', 'nodes', ...args], {
      env: env({ ARES_HUB_STATE_DIR: dir }),
      encoding: 'utf8',
      timeout: 30_000,
    });
  const added = run('add', 'esp32-bedroom');
  t.equal(added.status, 0, added.stderr);
  t.match(JSON.parse(added.stdout), { node_id: 'esp32-bedroom', password: /^[A-Za-z0-9_-]{32}$/ });
  t.same(
    JSON.parse(run('add', 'radar1', '--legacy-http', '--source', '192.0.2.7').stdout),
    { node_id: 'radar1' },
    'legacy nodes get no password',
  );
  const listed = run('list')
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { node_id: string; legacy_http: boolean });
  t.same(
    listed.map((n) => [n.node_id, n.legacy_http]),
    [
      ['esp32-bedroom', false],
      ['radar1', true],
    ],
    'one JSON object per line',
  );
  t.notMatch(run('list').stdout, /password/, 'list never shows secrets');
  t.equal(run('add', 'esp32-bedroom').status, 2, 'duplicate');
  t.equal(run('add', 'bad name').status, 2, 'invalid name');
  t.equal(run('add').status, 2, 'missing name');
  t.equal(run('add', 'x', '--source', '192.0.2.1').status, 2, '--source needs --legacy-http');
  t.equal(run('remove', 'radar1').status, 0);
  t.equal(run('remove', 'radar1').status, 2, 'already gone');
});
