import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { silentLogger } from '../../core/logger.js';
import { Hub } from '../../daemon/hub.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';
import { startStack } from '../helpers/stack.js';
import { until } from '../helpers/wait.js';

t.test('system commands over MQTT: reload_components at once, reset wipes the credentials', async (t) => {
  // An hour between polls: only system/reload_components can make a new component appear quickly.
  const { config, hubConfig, central, api, user, rec, deviceId } = await startStack(t, {
    'hub.components_poll_s': 3600,
  });

  const gpio = new SimGpioPort();
  const hub = new Hub(hubConfig, silentLogger(), { gpio, lanHost: '127.0.0.1' });
  t.teardown(() => hub.stop());
  await hub.start();
  await until(
    'provisioned, with the list from central',
    () => hub.status().provisioned && hub.status().componentsSource === 'central',
  );
  // The scenario is a command to a hub that is online: its connection to central's broker is up (a
  // command queued before that is held and delivered on connecting, which realtime-channel tests).
  await until('connected to central’s broker', () => hub.status().realtime);

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

  await api(
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
