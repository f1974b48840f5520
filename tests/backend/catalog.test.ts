import t from 'tap';
import { dbTargets } from '../helpers/databases.js';
import { json, newUser, provisionedHub, signedInject, startTestCentral } from '../helpers/central.js';

type Err = { error: { code: string; message: string } };

for (const target of await dbTargets()) {
  t.test(`catalog and attached components on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const c = await startTestCentral(t, target);
    const user = await newUser(c.app);
    const inject = c.app.inject.bind(c.app);

    t.test('seeded catalog; reads for users, writes for admins', async (t) => {
      const list = json<{ component_type: string }[]>(
        await inject({ method: 'GET', url: '/api/components', headers: user.auth }),
      );
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
      t.equal((await inject({ method: 'GET', url: '/api/components' })).statusCode, 401);
      const body = {
        component_type: 'buzzer',
        display_name: 'Buzzer',
        category: 'actuator',
        component_metadata: { states: ['ON', 'OFF'] },
      };
      t.equal(
        (await inject({ method: 'POST', url: '/api/components', headers: user.auth, payload: body })).statusCode,
        403,
      );
      const created = await inject({ method: 'POST', url: '/api/components', headers: c.adminAuth, payload: body });
      t.equal(created.statusCode, 201);
      t.match(json(created), { component_type: 'buzzer', component_metadata: { states: ['ON', 'OFF'] } });
      t.equal(
        (await inject({ method: 'POST', url: '/api/components', headers: c.adminAuth, payload: body })).statusCode,
        409,
      );
      t.equal(
        (
          await inject({
            method: 'POST',
            url: '/api/components',
            headers: c.adminAuth,
            payload: { ...body, component_type: 'x y', category: 'gadget' },
          })
        ).statusCode,
        400,
      );
      const upd = await inject({
        method: 'PUT',
        url: '/api/components/buzzer',
        headers: c.adminAuth,
        payload: { display_name: 'Loud buzzer' },
      });
      t.equal(json(upd)['display_name'], 'Loud buzzer');
      t.equal(
        (
          await inject({
            method: 'PUT',
            url: '/api/components/nope',
            headers: c.adminAuth,
            payload: { display_name: 'x' },
          })
        ).statusCode,
        404,
      );
      t.equal(
        (await inject({ method: 'PUT', url: '/api/components/buzzer', headers: c.adminAuth, payload: {} })).statusCode,
        400,
        'empty update',
      );
      t.equal((await inject({ method: 'DELETE', url: '/api/components/buzzer', headers: user.auth })).statusCode, 403);
      t.equal(
        (await inject({ method: 'DELETE', url: '/api/components/buzzer', headers: c.adminAuth })).statusCode,
        204,
      );
      t.equal(
        (await inject({ method: 'DELETE', url: '/api/components/buzzer', headers: c.adminAuth })).statusCode,
        404,
      );
    });

    t.test('hardware variants', async (t) => {
      const names = json<{ name: string }[]>(
        await inject({ method: 'GET', url: '/api/hardware-variants', headers: user.auth }),
      ).map((v) => v.name);
      t.same(names, ['Pro', 'Standard']);
      t.equal(
        (await inject({ method: 'POST', url: '/api/hardware-variants', headers: user.auth, payload: { name: 'Lite' } }))
          .statusCode,
        403,
      );
      t.equal(
        (
          await inject({
            method: 'POST',
            url: '/api/hardware-variants',
            headers: c.adminAuth,
            payload: { name: 'Lite', description: 'no radar' },
          })
        ).statusCode,
        201,
      );
      t.equal(
        (
          await inject({
            method: 'POST',
            url: '/api/hardware-variants',
            headers: c.adminAuth,
            payload: { name: 'Lite' },
          })
        ).statusCode,
        409,
      );
      t.equal(
        (
          await inject({
            method: 'PUT',
            url: '/api/hardware-variants/Lite',
            headers: c.adminAuth,
            payload: { description: 'cheaper' },
          })
        ).statusCode,
        200,
      );
      t.equal(
        (await inject({ method: 'DELETE', url: '/api/hardware-variants/Lite', headers: c.adminAuth })).statusCode,
        204,
      );
      await provisionedHub(c, user.auth);
      const inUse = await inject({ method: 'DELETE', url: '/api/hardware-variants/Standard', headers: c.adminAuth });
      t.equal(inUse.statusCode, 409, 'variant used by devices');
    });

    t.test('pin rules', async (t) => {
      const rules = json<{ component_type: string; pin_number: number; hardware_variant: string }[]>(
        await inject({ method: 'GET', url: '/api/device-configs/4B?hardware_variant=Standard', headers: user.auth }),
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
      t.equal(
        (await inject({ method: 'POST', url: '/api/device-configs', headers: user.auth, payload: rule })).statusCode,
        403,
      );
      const created = await inject({ method: 'POST', url: '/api/device-configs', headers: c.adminAuth, payload: rule });
      t.equal(created.statusCode, 201);
      const id = json<{ id: number }>(created).id;
      t.equal(
        (await inject({ method: 'POST', url: '/api/device-configs', headers: c.adminAuth, payload: rule })).statusCode,
        409,
        'duplicate rule',
      );
      const unknownType = await inject({
        method: 'POST',
        url: '/api/device-configs',
        headers: c.adminAuth,
        payload: { ...rule, component_type: 'laser' },
      });
      t.equal(unknownType.statusCode, 422);
      t.equal(json<Err>(unknownType).error.code, 'unprocessable');
      t.equal(
        (
          await inject({
            method: 'POST',
            url: '/api/device-configs',
            headers: c.adminAuth,
            payload: { ...rule, pin_number: 1e12 },
          })
        ).statusCode,
        400,
        'huge pin',
      );
      t.equal(
        (
          await inject({
            method: 'PUT',
            url: `/api/device-configs/${id}`,
            headers: c.adminAuth,
            payload: { shareable: true },
          })
        ).statusCode,
        200,
      );
      t.equal(
        (
          await inject({
            method: 'PUT',
            url: '/api/device-configs/999999',
            headers: c.adminAuth,
            payload: { shareable: true },
          })
        ).statusCode,
        404,
      );
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/device-configs/${id}`, headers: c.adminAuth })).statusCode,
        204,
      );
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/device-configs/${id}`, headers: c.adminAuth })).statusCode,
        404,
      );
    });

    t.test('attached components obey the pin rules', async (t) => {
      const { hub, deviceId, secret } = await provisionedHub(c, user.auth);
      const url = `/api/components/devices/${deviceId}/components`;
      const post = (payload: object, headers = user.auth) => inject({ method: 'POST', url, headers, payload });
      const led = await post({ component_type: 'led', name: 'Hall light', pin_number: 17 });
      t.equal(led.statusCode, 201, led.body);
      t.match(
        json(led),
        { component_type: 'led', pin_number: 17, pin_mode: 'OUT', default_state: 'OFF' },
        'mode and state from the rule',
      );
      const clash = await post({ component_type: 'led', pin_number: 17 });
      t.equal(clash.statusCode, 409, 'two components on one pin');
      t.equal(json<Err>(clash).error.code, 'conflict');
      const notAllowed = await post({ component_type: 'led', pin_number: 26 });
      t.equal(notAllowed.statusCode, 422, 'pin without a rule');
      t.match(json<Err>(notAllowed).error.message, /pin 26 is not allowed for led on 4B\/Standard/);
      t.equal((await post({ component_type: 'led', pin_number: 17, pin_mode: 'IN' })).statusCode, 422, 'wrong mode');
      t.equal((await post({ component_type: 'laser', pin_number: 17 })).statusCode, 422, 'unknown type');
      t.equal((await post({ component_type: 'relay' })).statusCode, 422, 'GPIO component without a pin');
      t.equal(
        (await post({ component_type: 'cpu_temp', pin_number: 4 })).statusCode,
        422,
        'internal module with a pin',
      );
      t.equal((await post({ component_type: 'cpu_temp' })).statusCode, 201);
      t.equal((await post({ component_type: 'radar' })).statusCode, 422, 'radar must name its node');
      const radar = await post({
        component_type: 'radar',
        name: 'Bedroom radar',
        config: { node_id: 'esp32-bedroom' },
      });
      t.equal(radar.statusCode, 201);
      t.same(json(radar)['config'], { node_id: 'esp32-bedroom' });
      t.equal(
        (await post({ component_type: 'radar', config: { node_id: 'x', blob: 'y'.repeat(5000) } })).statusCode,
        400,
        'oversized config',
      );

      // Shareable pins: both rules must allow sharing.
      for (const type of ['dht22', 'pir']) {
        await inject({
          method: 'POST',
          url: '/api/device-configs',
          headers: c.adminAuth,
          payload: {
            hardware_version: '4B',
            hardware_variant: 'Standard',
            component_type: type,
            pin_number: 6,
            shareable: true,
          },
        });
      }
      t.equal((await post({ component_type: 'dht22', pin_number: 6 })).statusCode, 201);
      t.equal((await post({ component_type: 'pir', pin_number: 6 })).statusCode, 201, 'shared bus pin');

      const viewer = await newUser(c.app, 'viewer');
      await inject({
        method: 'POST',
        url: `/api/devices/${deviceId}/members`,
        headers: user.auth,
        payload: { email: viewer.email, role: 'viewer' },
      });
      t.equal((await inject({ method: 'GET', url, headers: viewer.auth })).statusCode, 200, 'viewer reads');
      t.equal((await post({ component_type: 'cpu_temp' }, viewer.auth)).statusCode, 403, 'viewer cannot attach');
      const stranger = await newUser(c.app, 'stranger');
      t.equal((await inject({ method: 'GET', url, headers: stranger.auth })).statusCode, 403, "another user's device");
      t.equal(
        (await inject({ method: 'GET', url: '/api/components/devices/999999/components', headers: stranger.auth }))
          .statusCode,
        404,
      );

      const fromHub = await signedInject(c, hub, { method: 'GET', url, secret });
      t.equal(fromHub.statusCode, 200);
      const listed = json<{ id: number; component_type: string }[]>(fromHub);
      t.same(
        listed.map((x) => x.component_type),
        ['led', 'cpu_temp', 'radar', 'dht22', 'pir'],
        'the hub sees its list',
      );

      const ledId = json<{ id: number }>(led).id;
      t.equal((await inject({ method: 'DELETE', url: `${url}/${ledId}`, headers: viewer.auth })).statusCode, 403);
      t.equal((await inject({ method: 'DELETE', url: `${url}/${ledId}`, headers: user.auth })).statusCode, 204);
      t.equal((await inject({ method: 'DELETE', url: `${url}/${ledId}`, headers: user.auth })).statusCode, 404);
      t.equal((await post({ component_type: 'led', pin_number: 17 })).statusCode, 201, 'pin free again');
      const inUse = await inject({ method: 'DELETE', url: '/api/components/led', headers: c.adminAuth });
      t.equal(inUse.statusCode, 409, 'catalog entry in use');
    });

    t.test('devices: list, nickname, members, unlink', async (t) => {
      const owner = await newUser(c.app, 'owner');
      const { hub, deviceId, secret } = await provisionedHub(c, owner.auth);
      const list = json<Record<string, unknown>[]>(
        await inject({ method: 'GET', url: '/api/devices', headers: owner.auth }),
      );
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

      const nick = await inject({
        method: 'PUT',
        url: `/api/devices/${deviceId}/nickname`,
        headers: owner.auth,
        payload: { nickname: '할머니 댁' },
      });
      t.same(json(nick), { device_id: deviceId, nickname: '할머니 댁' });
      const viewer = await newUser(c.app, 'viewer');
      t.equal(
        (
          await inject({
            method: 'POST',
            url: `/api/devices/${deviceId}/members`,
            headers: owner.auth,
            payload: { email: viewer.email, role: 'viewer' },
          })
        ).statusCode,
        201,
      );
      t.equal(
        (
          await inject({
            method: 'POST',
            url: `/api/devices/${deviceId}/members`,
            headers: owner.auth,
            payload: { email: viewer.email, role: 'viewer' },
          })
        ).statusCode,
        409,
        'already a member',
      );
      t.equal(
        (
          await inject({
            method: 'POST',
            url: `/api/devices/${deviceId}/members`,
            headers: owner.auth,
            payload: { email: 'ghost@ares.test', role: 'viewer' },
          })
        ).statusCode,
        404,
      );
      t.equal(
        (
          await inject({
            method: 'POST',
            url: `/api/devices/${deviceId}/members`,
            headers: owner.auth,
            payload: { email: viewer.email, role: 'admin' },
          })
        ).statusCode,
        400,
      );
      t.equal(
        (
          await inject({
            method: 'PUT',
            url: `/api/devices/${deviceId}/nickname`,
            headers: viewer.auth,
            payload: { nickname: 'mine' },
          })
        ).statusCode,
        403,
        'viewer cannot rename',
      );
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/devices/${deviceId}`, headers: viewer.auth })).statusCode,
        403,
        'viewer cannot unlink',
      );
      const viewerList = json<{ role: string; nickname: string | null }[]>(
        await inject({ method: 'GET', url: '/api/devices', headers: viewer.auth }),
      );
      t.match(viewerList, [{ role: 'viewer', nickname: null }], 'nicknames are per user');

      const me = owner.id;
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/devices/${deviceId}/members/${me}`, headers: owner.auth }))
          .statusCode,
        409,
        'last owner',
      );
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/devices/${deviceId}/members/${me}`, headers: viewer.auth }))
          .statusCode,
        403,
        'viewer removes others',
      );
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/devices/${deviceId}/members/${viewer.id}`, headers: viewer.auth }))
          .statusCode,
        204,
        'viewer leaves',
      );
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/devices/${deviceId}/members/${viewer.id}`, headers: owner.auth }))
          .statusCode,
        404,
      );

      const unlink = await inject({ method: 'DELETE', url: `/api/devices/${deviceId}`, headers: owner.auth });
      t.equal(unlink.statusCode, 204);
      t.same(json(await inject({ method: 'GET', url: '/api/devices', headers: owner.auth })), []);
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
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/devices/${deviceId}`, headers: owner.auth })).statusCode,
        403,
        'no longer the owner',
      );
      const audit = json<{ items: { action: string }[] }>(
        await inject({ method: 'GET', url: '/api/admin/audit?type=device.unlink', headers: c.adminAuth }),
      );
      t.ok(audit.items.length >= 1, 'unlink audited');
    });
  });
}
