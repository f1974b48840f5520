import t from 'tap';
import { json, newUser, provisionedHub, startTestCentral } from '../helpers/central.js';

t.test('commands are validated, held in the database and reported', async (t) => {
  const c = await startTestCentral(t);
  const owner = await newUser(c.app, 'owner');
  const viewer = await newUser(c.app, 'viewer');
  const { deviceId } = await provisionedHub(c, owner.auth);
  await c.app.inject({
    method: 'POST',
    url: `/api/devices/${deviceId}/members`,
    headers: owner.auth,
    payload: { email: viewer.email, role: 'viewer' },
  });
  const attach = (payload: object) =>
    c.app.inject({
      method: 'POST',
      url: `/api/components/devices/${deviceId}/components`,
      headers: owner.auth,
      payload,
    });
  const led = json<{ id: number }>(await attach({ component_type: 'led', pin_number: 17 }));
  await attach({ component_type: 'cpu_temp' });
  const command = (payload: object, auth = owner.auth) =>
    c.app.inject({ method: 'POST', url: `/api/devices/${deviceId}/command`, headers: auth, payload });

  const ok = await command({ component_id: led.id, action: 'toggle' });
  t.equal(ok.statusCode, 202);
  const id = json<{ command_id: string }>(ok).command_id;
  const status = (cid: string) =>
    c.app.inject({ method: 'GET', url: `/api/devices/${deviceId}/commands/${cid}`, headers: owner.auth });
  t.match(json(await status(id)), { command_id: id, status: 'queued' }, 'held while the hub is not listening');
  const row = await c.ctx.db.kysely
    .selectFrom('device_commands')
    .select(['payload', 'component_id', 'action'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  t.match(JSON.parse(row.payload), { command_id: id, component_type: 'led', expires_at: /Z$/ });
  t.same([row.component_id, row.action], [String(led.id), 'toggle']);

  t.equal(
    (await command({ component_type: 'led', action: 'on', duration_s: 5 })).statusCode,
    202,
    'by type when there is one',
  );
  t.equal((await command({ component_type: 'cpu_temp', action: 'on' })).statusCode, 422, 'a sensor takes no commands');
  t.equal((await command({ component_type: 'led', action: 'blink' })).statusCode, 422, 'unknown action');
  t.equal((await command({ component_id: 999999, action: 'on' })).statusCode, 422, 'not this hub’s component');
  t.equal((await command({ action: 'on' })).statusCode, 400, 'no component named');
  t.equal((await command({ component_type: 'led', action: 'on', duration_s: -1 })).statusCode, 400);
  t.equal(
    (await command({ component_type: 'led', action: 'on' }, viewer.auth)).statusCode,
    403,
    'viewers cannot command',
  );
  t.equal((await status('00000000-0000-4000-8000-000000000000')).statusCode, 404);

  c.clock.advance(11 * 60_000);
  t.equal(json<{ status: string }>(await status(id)).status, 'expired', 'a held command expires');

  const wifi = await c.app.inject({
    method: 'POST',
    url: `/api/devices/${deviceId}/change-wifi`,
    headers: owner.auth,
    payload: { ssid: 'Home', password: 'correct horse' },
  });
  t.equal(wifi.statusCode, 202);
  t.equal(
    (
      await c.app.inject({
        method: 'POST',
        url: `/api/devices/${deviceId}/change-wifi`,
        headers: owner.auth,
        payload: { ssid: 'Home', password: 'short' },
      })
    ).statusCode,
    422,
    'WPA2 needs 8+ characters',
  );
  const wifiRow = await c.ctx.db.kysely
    .selectFrom('device_commands')
    .select(['component_id', 'action'])
    .where('id', '=', json<{ command_id: string }>(wifi).command_id)
    .executeTakeFirstOrThrow();
  t.same(wifiRow, { component_id: 'system', action: 'change_wifi' });
});
