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
    env: env({ ARES_HUB_STATE_DIR: stateDir(t), ARES_HUB_HOST_ROOT: PI4, ARES_HUB_CENTRAL_URL: 'http://127.0.0.1:9' }),
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
