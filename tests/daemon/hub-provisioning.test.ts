import { cpSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { HostRoot } from '../../core/host-root.js';
import { Hub } from '../../daemon/hub.js';
import { readBoardIdentity } from '../../daemon/identity/board.js';
import { enrollmentRecord, loadOrCreateIdentity } from '../../daemon/identity/identity.js';
import { json, newUser, startTestCentral } from '../helpers/central.js';

/** Polls `cond` (every 10 ms, up to 10 s): the hub works in the background. */
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** A fixture Pi 4 with a serial of its own, so hubs in one test run never collide. */
function hostRoot(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ares-hub-root-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(new URL('../fixtures/hosts/pi4', import.meta.url).pathname, dir, { recursive: true });
  writeFileSync(
    join(dir, 'proc/cpuinfo'),
    `Serial\t\t: 10000000${Math.floor(Math.random() * 0xffffffff)
      .toString(16)
      .padStart(8, '0')}\n`,
  );
  return dir;
}

t.test('hub: enroll → preregister → claim → credentials → component list, live', async (t) => {
  const c = await startTestCentral(t);
  const centralUrl = await c.app.listen({ host: '127.0.0.1', port: 0 });
  const owner = await newUser(c.app, 'owner');
  const stateDir = mkdtempSync(join(tmpdir(), 'ares-hub-state-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const config = loadConfig({
    env: {},
    overrides: {
      'hub.state_dir': stateDir,
      'hub.host_root': hostRoot(t),
      'hub.central_url': centralUrl,
      'hub.components_poll_s': 1,
    },
  });

  // What `ares hub enroll` prints, preregistered by an admin.
  const { identity } = loadOrCreateIdentity(
    stateDir,
    await readBoardIdentity(new HostRoot(config.hub.host_root)),
    config.hub.hardware_variant,
  );
  const record = enrollmentRecord(identity);
  const pre = await c.app.inject({
    method: 'POST',
    url: '/api/devices/preregister',
    headers: c.adminAuth,
    payload: record,
  });
  t.equal(pre.statusCode, 201);
  const deviceId = json<{ device_id: number }>(pre).device_id;

  // Waits are short in tests; the loop logic is the production one.
  const hub = new Hub(config, silentLogger(), {
    wait: (ms, signal) =>
      new Promise((r) => {
        const tm = setTimeout(r, Math.min(ms, 50));
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(tm);
            r();
          },
          { once: true },
        );
      }),
  });
  await hub.start();
  t.teardown(() => hub.stop());
  t.equal(hub.status().deviceUuid, record.device_uuid, 'the hub uses the enrolled identity');
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(hub.status().provisioned, 'waits while central answers not_claimed');
  t.notOk(existsSync(join(stateDir, 'credentials.json')));

  const claim = await c.app.inject({
    method: 'POST',
    url: '/api/devices/claim',
    headers: owner.auth,
    payload: { cpu_serial: record.cpu_serial, claim_code: record.claim_code },
  });
  t.equal(claim.statusCode, 200);
  await until('credentials', () => hub.status().provisioned);
  t.equal(hub.status().deviceId, deviceId);
  for (const f of ['credentials.json', 'device-cert.pem', 'ca.pem'])
    t.equal(statSync(join(stateDir, f)).mode & 0o777, 0o600, `${f} is 0600`);
  await until('empty component list from central', () => hub.status().componentsSource === 'central');
  t.same(hub.status().components, []);

  const seen: string[][] = [];
  hub.onComponents = (list) => seen.push(list.map((x) => x.component_type));
  const add = await c.app.inject({
    method: 'POST',
    url: `/api/components/devices/${deviceId}/components`,
    headers: owner.auth,
    payload: { component_type: 'led', name: 'Hall', pin_number: 17 },
  });
  t.equal(add.statusCode, 201);
  await until('the new led reaches the hub', () => hub.status().components.some((x) => x.component_type === 'led'));
  t.match(hub.status().components, [{ component_type: 'led', pin_number: 17, pin_mode: 'OUT', name: 'Hall' }]);
  await new Promise((r) => setTimeout(r, 300));
  t.same(seen, [['led']], 'an unchanged list (304) is not applied again');

  // Central unreachable: the hub keeps the cached list, and a restart starts from it.
  await hub.stop();
  await c.app.close();
  const offline = new Hub(config, silentLogger(), {
    wait: (ms, signal) =>
      new Promise((r) => {
        const tm = setTimeout(r, Math.min(ms, 50));
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(tm);
            r();
          },
          { once: true },
        );
      }),
  });
  await offline.start();
  t.teardown(() => offline.stop());
  t.equal(offline.status().componentsSource, 'cache', 'starts from the last good copy');
  t.match(offline.status().components, [{ component_type: 'led' }]);
  t.ok(offline.status().provisioned, 'credentials survive a restart');
  await offline.stop();
});

t.test('hub: revoked credentials are wiped and provisioning starts again', async (t) => {
  const c = await startTestCentral(t);
  const centralUrl = await c.app.listen({ host: '127.0.0.1', port: 0 });
  const owner = await newUser(c.app, 'owner');
  const stateDir = mkdtempSync(join(tmpdir(), 'ares-hub-state-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const config = loadConfig({
    env: {},
    overrides: {
      'hub.state_dir': stateDir,
      'hub.host_root': hostRoot(t),
      'hub.central_url': centralUrl,
      'hub.components_poll_s': 1,
    },
  });
  const { identity } = loadOrCreateIdentity(
    stateDir,
    await readBoardIdentity(new HostRoot(config.hub.host_root)),
    'Standard',
  );
  const record = enrollmentRecord(identity);
  const deviceId = json<{ device_id: number }>(
    await c.app.inject({ method: 'POST', url: '/api/devices/preregister', headers: c.adminAuth, payload: record }),
  ).device_id;
  await c.app.inject({
    method: 'POST',
    url: '/api/devices/claim',
    headers: owner.auth,
    payload: { cpu_serial: record.cpu_serial, claim_code: record.claim_code },
  });
  const fast = (ms: number, signal: AbortSignal) =>
    new Promise<void>((r) => {
      const tm = setTimeout(r, Math.min(ms, 50));
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(tm);
          r();
        },
        { once: true },
      );
    });
  const hub = new Hub(config, silentLogger(), { wait: fast });
  await hub.start();
  t.teardown(() => hub.stop());
  await until('provisioned', () => hub.status().provisioned && hub.status().componentsSource === 'central');

  const unlink = await c.app.inject({ method: 'DELETE', url: `/api/devices/${deviceId}`, headers: owner.auth });
  t.equal(unlink.statusCode, 204);
  await until('credentials wiped', () => !hub.status().provisioned);
  t.notOk(existsSync(join(stateDir, 'credentials.json')), 'secret deleted from disk');
  t.notOk(existsSync(join(stateDir, 'device-cert.pem')), 'certificate deleted from disk');
  t.ok(existsSync(join(stateDir, 'device-key.pem')), 'the identity (key, label code) stays for the next owner');
  t.same(hub.status().components, []);

  // The next owner claims it with the same label code; the hub picks that up by itself.
  const next = await newUser(c.app, 'next');
  const reclaim = await c.app.inject({
    method: 'POST',
    url: '/api/devices/claim',
    headers: next.auth,
    payload: { cpu_serial: record.cpu_serial, claim_code: record.claim_code },
  });
  t.equal(reclaim.statusCode, 200);
  await until('provisioned again', () => hub.status().provisioned);
  const creds = JSON.parse((await import('node:fs')).readFileSync(join(stateDir, 'credentials.json'), 'utf8')) as {
    user_email: string;
  };
  t.equal(creds.user_email, next.email, 'credentials of the new owner');
  const stopped = Date.now();
  await hub.stop();
  t.ok(Date.now() - stopped < 5000, 'stops promptly');
});
