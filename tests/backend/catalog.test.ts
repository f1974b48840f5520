import t, { type Test } from 'tap';
import { dbTargets } from '../helpers/databases.js';
import { json, newUser, provisionedHub, signedInject, startTestCentral } from '../helpers/central.js';

type Err = { error: { code: string; message: string } };
type Auth = Record<string, string>;
type Call = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; headers?: Auth; payload?: object };
/** A request and the status it must answer with; the name defaults to the request. */
type Row = readonly [call: Call, status: number, name?: string];

for (const target of await dbTargets()) {
  t.test(`catalog and attached components on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const c = await startTestCentral(t, target);
    const user = await newUser(c.app);
    const inject = c.app.inject.bind(c.app);
    /** Sends the rows in order (a row may depend on the ones before it) and checks each status. */
    const answers = async (t: Test, rows: readonly Row[]) => {
      for (const [call, status, name] of rows)
        t.equal((await inject(call)).statusCode, status, name ?? `${call.method} ${call.url} → ${status}`);
    };
    const get = (url: string, headers?: Auth): Call => ({ method: 'GET', url, ...(headers ? { headers } : {}) });
    const post = (url: string, headers: Auth, payload: object): Call => ({ method: 'POST', url, headers, payload });
    const put = (url: string, headers: Auth, payload: object): Call => ({ method: 'PUT', url, headers, payload });
    const del = (url: string, headers: Auth): Call => ({ method: 'DELETE', url, headers });

    t.test('seeded catalog; reads for users, writes for admins', async (t) => {
      const list = json<{ component_type: string }[]>(await inject(get('/api/components', user.auth)));
      t.same(list.map((x) => x.component_type).sort(), [
        'button',
        'cpu_temp',
        'dht22',
        'imu',
        'led',
        'pir',
        'pump',
        'radar',
        'relay',
        'system',
      ]);
      const body = {
        component_type: 'buzzer',
        display_name: 'Buzzer',
        category: 'actuator',
        component_metadata: { states: ['ON', 'OFF'] },
      };
      await answers(t, [
        [get('/api/components'), 401, 'anonymous'],
        [post('/api/components', user.auth, body), 403, 'a user may not add to the catalog'],
      ]);
      const created = await inject(post('/api/components', c.adminAuth, body));
      t.equal(created.statusCode, 201);
      t.match(json(created), { component_type: 'buzzer', component_metadata: { states: ['ON', 'OFF'] } });
      await answers(t, [
        [post('/api/components', c.adminAuth, body), 409, 'already in the catalog'],
        [
          post('/api/components', c.adminAuth, { ...body, component_type: 'x y', category: 'gadget' }),
          400,
          'bad type name and category',
        ],
      ]);
      const upd = await inject(put('/api/components/buzzer', c.adminAuth, { display_name: 'Loud buzzer' }));
      t.equal(json(upd)['display_name'], 'Loud buzzer');
      await answers(t, [
        [put('/api/components/nope', c.adminAuth, { display_name: 'x' }), 404],
        [put('/api/components/buzzer', c.adminAuth, {}), 400, 'empty update'],
        [del('/api/components/buzzer', user.auth), 403],
        [del('/api/components/buzzer', c.adminAuth), 204],
        [del('/api/components/buzzer', c.adminAuth), 404, 'already gone'],
      ]);
    });

    t.test('hardware variants', async (t) => {
      const names = json<{ name: string }[]>(await inject(get('/api/hardware-variants', user.auth))).map((v) => v.name);
      t.same(names, ['Pro', 'Standard']);
      await answers(t, [
        [post('/api/hardware-variants', user.auth, { name: 'Lite' }), 403],
        [post('/api/hardware-variants', c.adminAuth, { name: 'Lite', description: 'no radar' }), 201],
        [post('/api/hardware-variants', c.adminAuth, { name: 'Lite' }), 409],
        [put('/api/hardware-variants/Lite', c.adminAuth, { description: 'cheaper' }), 200],
        [del('/api/hardware-variants/Lite', c.adminAuth), 204],
      ]);
      await provisionedHub(c, user.auth);
      await answers(t, [[del('/api/hardware-variants/Standard', c.adminAuth), 409, 'variant used by devices']]);
    });

    t.test('pin rules', async (t) => {
      const rules = json<{ component_type: string; pin_number: number; hardware_variant: string }[]>(
        await inject(get('/api/device-configs/4B?hardware_variant=Standard', user.auth)),
      );
      t.ok(
        rules.some((r) => r.component_type === 'led' && r.pin_number === 17),
        'seeded LED rule',
      );
      t.ok(rules.every((r) => r.hardware_variant === 'Standard'));
      const rule = {
        hardware_version: '4B',
        hardware_variant: 'Standard',
        component_type: 'led',
        pin_number: 5,
        pin_mode: 'OUT',
        default_state: 'OFF',
      };
      await answers(t, [[post('/api/device-configs', user.auth, rule), 403]]);
      const created = await inject(post('/api/device-configs', c.adminAuth, rule));
      t.equal(created.statusCode, 201);
      const id = json<{ id: number }>(created).id;
      await answers(t, [[post('/api/device-configs', c.adminAuth, rule), 409, 'duplicate rule']]);
      const unknownType = await inject(post('/api/device-configs', c.adminAuth, { ...rule, component_type: 'laser' }));
      t.equal(unknownType.statusCode, 422);
      t.equal(json<Err>(unknownType).error.code, 'unprocessable');
      await answers(t, [
        [post('/api/device-configs', c.adminAuth, { ...rule, pin_number: 1e12 }), 400, 'huge pin'],
        [put(`/api/device-configs/${id}`, c.adminAuth, { shareable: true }), 200],
        [put('/api/device-configs/999999', c.adminAuth, { shareable: true }), 404],
        [del(`/api/device-configs/${id}`, c.adminAuth), 204],
        [del(`/api/device-configs/${id}`, c.adminAuth), 404],
      ]);
    });

    t.test('attached components obey the pin rules', async (t) => {
      const { hub, deviceId, secret } = await provisionedHub(c, user.auth);
      const url = `/api/components/devices/${deviceId}/components`;
      const attach = (payload: object, headers = user.auth) => post(url, headers, payload);
      const led = await inject(attach({ component_type: 'led', name: 'Hall light', pin_number: 17 }));
      t.equal(led.statusCode, 201, led.body);
      t.match(
        json(led),
        { component_type: 'led', pin_number: 17, pin_mode: 'OUT', default_state: 'OFF' },
        'mode and state from the rule',
      );
      const clash = await inject(attach({ component_type: 'led', pin_number: 17 }));
      t.equal(clash.statusCode, 409, 'two components on one pin');
      t.equal(json<Err>(clash).error.code, 'conflict');
      const notAllowed = await inject(attach({ component_type: 'led', pin_number: 26 }));
      t.equal(notAllowed.statusCode, 422, 'pin without a rule');
      t.match(json<Err>(notAllowed).error.message, /pin 26 is not allowed for led on 4B\/Standard/);
      // What each kind of component must (not) name: a GPIO pin in its mode, no pin, a LAN node.
      await answers(t, [
        [attach({ component_type: 'led', pin_number: 17, pin_mode: 'IN' }), 422, 'wrong mode'],
        [attach({ component_type: 'laser', pin_number: 17 }), 422, 'unknown type'],
        [attach({ component_type: 'relay' }), 422, 'GPIO component without a pin'],
        [attach({ component_type: 'cpu_temp', pin_number: 4 }), 422, 'internal module with a pin'],
        [attach({ component_type: 'cpu_temp' }), 201, 'internal module'],
        [attach({ component_type: 'radar' }), 422, 'radar must name its node'],
      ]);
      const radar = await inject(
        attach({ component_type: 'radar', name: 'Bedroom radar', config: { node_id: 'esp32-bedroom' } }),
      );
      t.equal(radar.statusCode, 201);
      t.same(json(radar)['config'], { node_id: 'esp32-bedroom' });
      await answers(t, [
        [
          attach({ component_type: 'radar', config: { node_id: 'x', blob: 'y'.repeat(5000) } }),
          400,
          'oversized config',
        ],
      ]);

      // Shareable pins: both rules must allow sharing.
      for (const type of ['dht22', 'pir']) {
        await inject(
          post('/api/device-configs', c.adminAuth, {
            hardware_version: '4B',
            hardware_variant: 'Standard',
            component_type: type,
            pin_number: 6,
            shareable: true,
          }),
        );
      }
      await answers(t, [
        [attach({ component_type: 'dht22', pin_number: 6 }), 201],
        [attach({ component_type: 'pir', pin_number: 6 }), 201, 'shared bus pin'],
      ]);

      const viewer = await newUser(c.app, 'viewer');
      await inject(post(`/api/devices/${deviceId}/members`, user.auth, { email: viewer.email, role: 'viewer' }));
      const stranger = await newUser(c.app, 'stranger');
      await answers(t, [
        [get(url, viewer.auth), 200, 'viewer reads'],
        [attach({ component_type: 'cpu_temp' }, viewer.auth), 403, 'viewer cannot attach'],
        [get(url, stranger.auth), 403, "another user's device"],
        [get('/api/components/devices/999999/components', stranger.auth), 404],
      ]);

      const fromHub = await signedInject(c, hub, { method: 'GET', url, secret });
      t.equal(fromHub.statusCode, 200);
      const listed = json<{ id: number; component_type: string }[]>(fromHub);
      t.same(
        listed.map((x) => x.component_type),
        ['led', 'cpu_temp', 'radar', 'dht22', 'pir'],
        'the hub sees its list',
      );

      const ledId = json<{ id: number }>(led).id;
      await answers(t, [
        [del(`${url}/${ledId}`, viewer.auth), 403],
        [del(`${url}/${ledId}`, user.auth), 204],
        [del(`${url}/${ledId}`, user.auth), 404],
        [attach({ component_type: 'led', pin_number: 17 }), 201, 'pin free again'],
        [del('/api/components/led', c.adminAuth), 409, 'catalog entry in use'],
      ]);
    });

    t.test('devices: list, nickname, members, unlink', async (t) => {
      const owner = await newUser(c.app, 'owner');
      const { hub, deviceId, secret } = await provisionedHub(c, owner.auth);
      const list = json<Record<string, unknown>[]>(await inject(get('/api/devices', owner.auth)));
      t.match(list, [
        {
          device_id: deviceId,
          device_uuid: hub.record.device_uuid,
          role: 'owner',
          nickname: null,
          status: 'provisioned',
          hardware_version: '4B',
        },
      ]);
      t.match(list[0]!['last_seen_at'], /^\d{4}-\d\d-\d\dT.*Z$/, 'ISO 8601 UTC');

      const nick = await inject(put(`/api/devices/${deviceId}/nickname`, owner.auth, { nickname: '할머니 댁' }));
      t.same(json(nick), { device_id: deviceId, nickname: '할머니 댁' });
      const viewer = await newUser(c.app, 'viewer');
      const members = `/api/devices/${deviceId}/members`;
      await answers(t, [
        [post(members, owner.auth, { email: viewer.email, role: 'viewer' }), 201],
        [post(members, owner.auth, { email: viewer.email, role: 'viewer' }), 409, 'already a member'],
        [post(members, owner.auth, { email: 'ghost@ares.test', role: 'viewer' }), 404, 'no such user'],
        [post(members, owner.auth, { email: viewer.email, role: 'admin' }), 400, 'no such role'],
        [put(`/api/devices/${deviceId}/nickname`, viewer.auth, { nickname: 'mine' }), 403, 'viewer cannot rename'],
        [del(`/api/devices/${deviceId}`, viewer.auth), 403, 'viewer cannot unlink'],
      ]);
      const viewerList = json<{ role: string; nickname: string | null }[]>(
        await inject(get('/api/devices', viewer.auth)),
      );
      t.match(viewerList, [{ role: 'viewer', nickname: null }], 'nicknames are per user');

      await answers(t, [
        [del(`${members}/${owner.id}`, owner.auth), 409, 'last owner'],
        [del(`${members}/${owner.id}`, viewer.auth), 403, 'viewer removes others'],
        [del(`${members}/${viewer.id}`, viewer.auth), 204, 'viewer leaves'],
        [del(`${members}/${viewer.id}`, owner.auth), 404, 'already gone'],
      ]);

      await answers(t, [[del(`/api/devices/${deviceId}`, owner.auth), 204, 'unlink']]);
      t.same(json(await inject(get('/api/devices', owner.auth))), []);
      const refused = await signedInject(c, hub, {
        method: 'GET',
        url: `/api/components/devices/${deviceId}/components`,
        secret,
      });
      t.equal(refused.statusCode, 401, 'secret revoked');
      const certs = await c.ctx.db.kysely
        .selectFrom('device_certificates')
        .select('revoke_reason')
        .where('device_id', '=', deviceId)
        .execute();
      t.ok(
        certs.every((x) => x.revoke_reason !== null),
        'certificates revoked',
      );
      const cmds = await c.ctx.db.kysely
        .selectFrom('device_commands')
        .select(['component_id', 'action', 'status'])
        .where('device_id', '=', deviceId)
        .execute();
      t.same(cmds, [{ component_id: 'system', action: 'reset', status: 'queued' }]);
      await answers(t, [[del(`/api/devices/${deviceId}`, owner.auth), 403, 'no longer the owner']]);
      const audit = json<{ items: { action: string }[] }>(
        await inject(get('/api/admin/audit?type=device.unlink', c.adminAuth)),
      );
      t.ok(audit.items.length >= 1, 'unlink audited');
    });
  });
}
