import t from 'tap';
import { buildCentralApp } from '../../backend/app.js';
import { closeContext, createCentralContext } from '../../backend/central.js';
import { startRealtimeChannel } from '../../backend/mqtt/channel.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { startTestCentral } from '../helpers/central.js';
import { REDIS_URL, redisPrefix, redisProblem } from '../helpers/redis.js';
import { appLogin, closed, connect, newUser, provisioned } from '../helpers/realtime-targets.js';
import { until } from '../helpers/wait.js';

/*
 * Two central instances behind one load balancer: one database, one Redis, each its own embedded
 * broker. A hub connected to A and an app connected to B must not notice the difference.
 */
const skip = (await redisProblem()) ?? false;

t.test('two instances sharing Redis act as one', { skip }, async (t) => {
  const prefix = redisPrefix();
  const shared = { 'central.mqtt_port': 0, 'central.redis_url': REDIS_URL, 'central.redis_prefix': prefix };
  const a = await startTestCentral(t, undefined, shared);
  const channelA = await startRealtimeChannel(a.ctx, '127.0.0.1');
  t.teardown(() => channelA.stop());
  // B: the same data directory and database, its own process state.
  const configB = loadConfig({
    env: {},
    overrides: {
      'central.data_dir': a.dataDir,
      'central.database': `sqlite:${a.dataDir}/central.db`,
      'log.level': 'silent',
      ...shared,
    },
  });
  const ctxB = await createCentralContext(configB, silentLogger(), { clock: a.clock });
  t.teardown(() => closeContext(ctxB));
  const appB = await buildCentralApp(ctxB);
  t.teardown(() => appB.close());
  const channelB = await startRealtimeChannel(ctxB, '127.0.0.1');
  t.teardown(() => channelB.stop());
  const ca = a.ctx.ca.certificatePem;
  t.equal(ctxB.ca.certificatePem, ca, 'one CA');

  const owner = await newUser(a.app);
  const dev = await provisioned(a, owner.auth);
  await a.app.inject({
    method: 'POST',
    url: `/api/components/devices/${dev.deviceId}/components`,
    headers: owner.auth,
    payload: { component_type: 'led', name: 'Hall', pin_number: 17 },
  });

  // The hub on A, the family's app on B.
  const hub = (await connect(t, channelA.mqttPort!, { cert: dev.cert, key: dev.key, ca })).c;
  const commands: string[] = [];
  hub.on('message', (topic) => commands.push(topic));
  await hub.subscribeAsync(`commands/${dev.uuid}/#`, { qos: 1 });
  await hub.publishAsync(`devices/${dev.uuid}/status`, 'ONLINE', { qos: 1 });
  const app = (await connect(t, channelB.mqttPort!, { ...(await appLogin(a, owner.auth)), ca })).c;
  let state: Record<string, unknown> = {};
  app.on('message', (_topic, p) => (state = JSON.parse(p.toString()) as Record<string, unknown>));
  await app.subscribeAsync(`client/state/${owner.email}/${dev.uuid}`, { qos: 1 });

  await hub.publishAsync(
    `devices/${dev.uuid}/state`,
    JSON.stringify({ components: { '1': { component_type: 'led', name: 'Hall', state: 'ON' } } }),
    { qos: 1 },
  );
  await until('state from the hub on A reaches the app on B', () => state['led'] === 'ON');
  t.equal((await channelB.realtime.view(dev.uuid))['led'], 'ON', 'B reads the state A recorded');

  const cmd = await appB.inject({
    method: 'POST',
    url: `/api/devices/${dev.deviceId}/command`,
    headers: owner.auth,
    payload: { component_type: 'led', action: 'off' },
  });
  t.equal(cmd.statusCode, 202);
  await until('a command sent through B is delivered by A', () => commands.length === 1);

  const unlink = await appB.inject({ method: 'DELETE', url: `/api/devices/${dev.deviceId}`, headers: owner.auth });
  t.equal(unlink.statusCode, 204);
  await closed(hub);
  t.notOk(hub.connected, 'unlinking through B drops the hub on A at once');
  await closed(app);
  t.notOk(app.connected, 'and the former owner’s app on B is cut off');
});
