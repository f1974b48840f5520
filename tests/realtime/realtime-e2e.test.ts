import mqtt, { type MqttClient } from 'mqtt';
import t from 'tap';
import { silentLogger } from '../../core/logger.js';
import { Hub } from '../../daemon/hub.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';
import { externalBrokerStack, mosquittoProblem } from '../helpers/mosquitto.js';
import { startStack } from '../helpers/stack.js';
import { fastWait, never, until } from '../helpers/wait.js';

const targets = [
  { name: 'embedded broker', skip: false as const, external: false },
  { name: 'external Mosquitto', skip: mosquittoProblem() ?? (false as const), external: true },
];

for (const target of targets)
  t.test(
    `realtime (${target.name}): API command → hub → LED → state to the app; OFFLINE; commands held while the hub is away`,
    { skip: target.skip },
    async (t) => {
      const external = target.external ? await externalBrokerStack(t) : undefined;
      const { hubConfig, central, api, user, userEmail, rec, deviceId } = await startStack(
        t,
        external?.overrides,
        external?.beforeCentral,
      );
      const led = (
        await api(
          'POST',
          `/api/components/devices/${deviceId}/components`,
          { component_type: 'led', name: 'Hall', pin_number: 17 },
          user,
        )
      ).body;

      const gpio = new SimGpioPort();
      const fast = fastWait(100);
      let hub = new Hub(hubConfig, silentLogger(), { gpio, lanHost: '127.0.0.1', wait: fast });
      await hub.start();
      t.teardown(() => hub.stop());

      // The family's app logs in as an app does, and watches the hub's state at the broker it is told.
      const login = (await api('POST', '/api/users/me/mqtt-credentials', undefined, user)).body as {
        username: string;
        password: string;
        mqtt_url: string;
      };
      t.notMatch(login.mqtt_url, '@', 'the broker address apps are told carries no login');
      const app: MqttClient = mqtt.connect(login.mqtt_url, {
        username: login.username,
        password: login.password,
        ca: central.ctx.ca.certificatePem,
        reconnectPeriod: 0,
      });
      t.teardown(() => app.end(true));
      let state: Record<string, unknown> = {};
      app.on('message', (_topic, payload) => (state = JSON.parse(payload.toString()) as Record<string, unknown>));
      await new Promise((r) => app.once('connect', r));
      await app.subscribeAsync(`client/state/${userEmail}/${rec.device_uuid}`);

      await until(
        'hub online with its led',
        () => state['device_status'] === 'ONLINE' && hub.status().runtime.some((c) => c.health === 'ok'),
      );
      const cmd = await api('POST', `/api/devices/${deviceId}/command`, { component_type: 'led', action: 'on' }, user);
      t.equal(cmd.status, 202);
      await until('LED on', () => gpio.level(17) === 1);
      await until('state reaches the app', () => state['led'] === 'ON');
      t.match(
        state,
        {
          device_status: 'ONLINE',
          components: { [String(led['id'])]: { component_type: 'led', name: 'Hall', state: 'ON' } },
          led: 'ON',
        },
        '§4.6 shape with the flat per-type key',
      );
      await until(
        'command done',
        async () =>
          (await api('GET', `/api/devices/${deviceId}/commands/${cmd.body['command_id'] as string}`, undefined, user))
            .body['status'] === 'done',
      );
      t.match(
        (await api('GET', `/api/devices/${deviceId}/commands/${cmd.body['command_id'] as string}`, undefined, user))
          .body,
        { status: 'done', result: { state: 'ON' } },
      );

      const bad = await api(
        'POST',
        `/api/devices/${deviceId}/command`,
        { component_type: 'led', action: 'explode' },
        user,
      );
      t.equal(bad.status, 422, 'actions are validated against the driver’s');
      t.equal(
        (await api('POST', `/api/devices/${deviceId}/command`, { component_type: 'pump', action: 'on' }, user)).status,
        422,
        'no such component',
      );

      // The hub goes away: the app hears OFFLINE; a command sent meanwhile waits for it.
      await hub.stop();
      await until('OFFLINE reaches the app', () => state['device_status'] === 'OFFLINE');
      t.equal(gpio.level(17), 0, 'a stopping hub leaves outputs off (safe state)');
      const held = await api('POST', `/api/devices/${deviceId}/command`, { component_type: 'led', action: 'on' }, user);
      t.equal(held.status, 202);
      t.equal(
        (await api('GET', `/api/devices/${deviceId}/commands/${held.body['command_id'] as string}`, undefined, user))
          .body['status'],
        'queued',
      );
      await never(
        'the LED comes on, or the command leaves the queue, while the hub is away',
        async () =>
          gpio.level(17) !== 0 ||
          (await api('GET', `/api/devices/${deviceId}/commands/${held.body['command_id'] as string}`, undefined, user))
            .body['status'] !== 'queued',
        300,
      );
      t.equal(gpio.level(17), 0, 'nothing happened while the hub was away');
      hub = new Hub(hubConfig, silentLogger(), { gpio, lanHost: '127.0.0.1', wait: fast });
      await hub.start();
      await until('held command delivered after reconnect', () => gpio.level(17) === 1);
      await until(
        'held command done',
        async () =>
          (await api('GET', `/api/devices/${deviceId}/commands/${held.body['command_id'] as string}`, undefined, user))
            .body['status'] === 'done',
      );
      await until('ONLINE again, state ON', () => state['device_status'] === 'ONLINE' && state['led'] === 'ON');
    },
  );
