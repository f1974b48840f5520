import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createAdmin } from '../../backend/admin-bootstrap.js';
import { startCentral } from '../../backend/central.js';
import { loadConfig } from '../../core/config.js';
import { HostRoot } from '../../core/host-root.js';
import { silentLogger } from '../../core/logger.js';
import { Hub } from '../../daemon/hub.js';
import { readBoardIdentity } from '../../daemon/identity/board.js';
import { enrollmentRecord, loadOrCreateIdentity } from '../../daemon/identity/identity.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

t.test('system commands over MQTT: reload_components at once, reset wipes the credentials', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ares-syscmd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const hostRoot = join(dir, 'host');
  cpSync(new URL('../fixtures/hosts/pi4', import.meta.url).pathname, hostRoot, { recursive: true });
  writeFileSync(join(hostRoot, 'proc/cpuinfo'), 'Serial\t\t: 10000000c0ffee00\n');
  // An hour between polls: only system/reload_components can make a new component appear quickly.
  const config = loadConfig({
    env: {},
    overrides: {
      'central.data_dir': join(dir, 'central'),
      'central.port': 0,
      'central.mqtt_port': 0,
      'hub.state_dir': join(dir, 'hub'),
      'hub.host_root': hostRoot,
      'hub.gpio': 'sim',
      'hub.mqtt_port': 0,
      'hub.http_port': 0,
      'hub.components_poll_s': 3600,
      'log.level': 'silent',
    },
  });
  const central = await startCentral(config, silentLogger());
  t.teardown(() => central.close());
  const inject = async (method: 'POST', url: string, payload: object, auth?: string) =>
    (await central.app.inject({ method, url, payload, ...(auth ? { headers: { authorization: auth } } : {}) })).json<
      Record<string, unknown>
    >();
  await createAdmin(config, silentLogger(), 'root@sys.test', 'root-password', central.ctx.db);
  const admin = `Bearer ${(await inject('POST', '/auth/login', { email: 'root@sys.test', password: 'root-password' }))['access_token'] as string}`;
  await inject('POST', '/auth/register', { username: 'f', email: 'f@sys.test', password: 'family-password' });
  const user = `Bearer ${(await inject('POST', '/auth/login', { email: 'f@sys.test', password: 'family-password' }))['access_token'] as string}`;
  const { identity } = loadOrCreateIdentity(
    config.hub.state_dir,
    await readBoardIdentity(new HostRoot(hostRoot)),
    'Standard',
  );
  const rec = enrollmentRecord(identity);
  const deviceId = (await inject('POST', '/api/devices/preregister', rec, admin))['device_id'] as number;
  await inject('POST', '/api/devices/claim', { cpu_serial: rec.cpu_serial, claim_code: rec.claim_code }, user);

  const gpio = new SimGpioPort();
  const hub = new Hub({ ...config, hub: { ...config.hub, central_url: central.url } }, silentLogger(), {
    gpio,
    lanHost: '127.0.0.1',
  });
  t.teardown(() => hub.stop());
  await hub.start();
  await until(
    'provisioned and listening',
    () => hub.status().provisioned && hub.status().componentsSource === 'central',
  );
  await new Promise((r) => setTimeout(r, 500));

  // What an operator tool would queue: central delivers it like any command.
  const queue = async (action: string) => {
    const now = Date.now();
    const id = randomUUID();
    await central.ctx.db.kysely
      .insertInto('device_commands')
      .values({
        id,
        device_id: deviceId,
        component_id: 'system',
        component_type: 'system',
        action,
        payload: JSON.stringify({ command_id: id }),
        status: 'queued',
        result: null,
        created_at: now,
        expires_at: now + 60_000,
        updated_at: now,
      })
      .execute();
    central.ctx.bus.emit('command.queued', { deviceId, deviceUuid: rec.device_uuid, commandId: id });
    return id;
  };
  const status = async (id: string) =>
    (
      await central.ctx.db.kysely
        .selectFrom('device_commands')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;

  await inject(
    'POST',
    `/api/components/devices/${deviceId}/components`,
    { component_type: 'led', pin_number: 17, default_state: 'ON' },
    user,
  );
  const reload = await queue('reload_components');
  await until('the led runs without waiting for the hourly poll', () => gpio.level(17) === 1);
  await until('reload acknowledged', async () => (await status(reload)) === 'done');

  const reset = await queue('reset');
  await until('credentials wiped', () => !hub.status().provisioned);
  t.notOk(existsSync(join(config.hub.state_dir, 'credentials.json')), 'secret gone from disk');
  t.ok(existsSync(join(config.hub.state_dir, 'device-key.pem')), 'identity kept for the next owner');
  await until('the hub acknowledged the reset', async () => (await status(reset)) === 'done');
  t.pass('reset acknowledged');
});
