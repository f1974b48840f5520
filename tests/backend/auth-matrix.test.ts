import t from 'tap';
import { json, newUser, provisionedHub, startTestCentral } from '../helpers/central.js';

/**
 * Every route, from the OpenAPI document (which states each route's auth level): without
 * credentials it answers 401 unless public; a plain user gets 403 on admin routes; a user who is
 * not a member gets 403 on another user's device.
 */
t.test('authentication and authorization on every route', async (t) => {
  const c = await startTestCentral(t);
  const owner = await newUser(c.app, 'owner');
  const stranger = await newUser(c.app, 'stranger');
  const { deviceId } = await provisionedHub(c, owner.auth);
  const spec = c.app.swagger() as { paths: Record<string, Record<string, { description?: string }>> };
  const routes = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      path,
      method: method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE',
      auth: /^Auth: `(\w+)`/.exec(op.description ?? '')?.[1],
    })),
  );
  t.ok(routes.length >= 30, `${routes.length} routes`);
  const undocumented = routes.filter((r) => !r.auth).map((r) => `${r.method} ${r.path}`);
  t.same(undocumented, [], 'every route states its auth level');
  const counts: Record<string, number> = {};
  for (const r of routes) {
    const url = r.path
      .replace('{device_id}', String(deviceId))
      .replace('{user_id}', String(stranger.id))
      .replace(/\{[a-z_]+\}/g, '1');
    const body = r.method === 'POST' || r.method === 'PUT' ? { payload: {} } : {};
    const anon = await c.app.inject({ method: r.method, url, ...body });
    counts[r.auth!] = (counts[r.auth!] ?? 0) + 1;
    if (r.auth === 'none') {
      t.not(anon.statusCode, 401, `${r.method} ${r.path} is public`);
      continue;
    }
    t.equal(anon.statusCode, 401, `${r.method} ${r.path} without credentials`);
    t.equal(json<{ error: { code: string } }>(anon).error.code, 'unauthorized');
    if (r.auth === 'admin' || r.auth === 'prime_admin') {
      const asUser = await c.app.inject({ method: r.method, url, headers: stranger.auth, ...body });
      t.equal(asUser.statusCode, 403, `${r.method} ${r.path} as a plain user`);
    }
    if (r.auth === 'user' && r.path.includes('{device_id}')) {
      const notMine = await c.app.inject({ method: r.method, url, headers: stranger.auth, ...body });
      // A body the schema rejects is a 400 before the device is looked at; a valid one is 403.
      t.ok(
        [400, 403].includes(notMine.statusCode),
        `${r.method} ${r.path} on another user's device: ${notMine.statusCode}`,
      );
    }
  }
  t.ok(
    counts['admin']! >= 8 && counts['user']! >= 10 && counts['none']! >= 5 && counts['device']! >= 1,
    JSON.stringify(counts),
  );
});

t.test("another user's device is 403 with a valid body", async (t) => {
  const c = await startTestCentral(t);
  const owner = await newUser(c.app, 'owner');
  const stranger = await newUser(c.app, 'stranger');
  const { deviceId } = await provisionedHub(c, owner.auth);
  const calls: [string, string, object?][] = [
    ['GET', `/api/components/devices/${deviceId}/components`],
    ['POST', `/api/components/devices/${deviceId}/components`, { component_type: 'cpu_temp' }],
    ['DELETE', `/api/components/devices/${deviceId}/components/1`],
    ['PUT', `/api/devices/${deviceId}/nickname`, { nickname: 'mine now' }],
    ['DELETE', `/api/devices/${deviceId}`],
    ['POST', `/api/devices/${deviceId}/members`, { email: stranger.email, role: 'owner' }],
    ['DELETE', `/api/devices/${deviceId}/members/${owner.id}`],
  ];
  for (const [method, url, payload] of calls) {
    const res = await c.app.inject({
      method: method as 'GET',
      url,
      headers: stranger.auth,
      ...(payload ? { payload } : {}),
    });
    t.equal(res.statusCode, 403, `${method} ${url}`);
  }
  const still = json<unknown[]>(await c.app.inject({ method: 'GET', url: '/api/devices', headers: owner.auth }));
  t.equal(still.length, 1, 'the owner still has the device');
});
