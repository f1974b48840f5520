import t from 'tap';
import { iso } from '../../backend/http/schemas.js';
import { dbTargets } from '../helpers/databases.js';
import { json, newUser, provisionedHub, startTestCentral } from '../helpers/central.js';

// GET /api/devices (store/device-list.ts, fastify's schema serializer): the body holds to the
// route's published schema and to the values stored, on both dialects.

type Item = Record<string, unknown>;

for (const target of await dbTargets()) {
  t.test(`GET /api/devices on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const c = await startTestCentral(t, target);
    const inject = c.app.inject.bind(c.app);
    const list = async (auth: Record<string, string>) => {
      const res = await inject({ method: 'GET', url: '/api/devices', headers: auth });
      t.equal(res.statusCode, 200);
      t.match(res.headers['content-type'], /^application\/json; charset=utf-8$/);
      return json<Item[]>(res);
    };

    const spec = json<{
      paths: Record<string, { get: { responses: { 200: { content: Record<string, { schema: unknown }> } } } }>;
    }>(await inject({ method: 'GET', url: '/openapi.json' }));
    const schema = spec.paths['/api/devices']!.get.responses[200].content['application/json']!.schema as {
      items: { properties: Record<string, { type: string | string[]; nullable?: boolean }> };
    };
    const published = Object.keys(schema.items.properties);

    t.test('no hubs: an empty array', async (t) => {
      const lonely = await newUser(c.app, 'lonely');
      t.same(await list(lonely.auth), []);
    });

    t.test('every field, in the published order, with the values stored', async (t) => {
      const owner = await newUser(c.app, 'owner');
      const other = await newUser(c.app, 'other');
      const hubs: Awaited<ReturnType<typeof provisionedHub>>[] = [];
      for (let i = 0; i < 3; i++) hubs.push(await provisionedHub(c, owner.auth));
      const foreign = await provisionedHub(c, other.auth);

      // Values at the edges of the ISO conversion and of JSON string escaping.
      const seen = [Date.UTC(2026, 10, 24, 5, 18, 15, 7), Date.UTC(1999, 11, 31, 23, 59, 59, 999), null] as const;
      const nicknames = ['Grandma\'s "hub" \\ 🏠', 'línea\tdos\n', null] as const;
      for (let i = 0; i < 3; i++) {
        await c.ctx.db.kysely
          .updateTable('devices')
          .set({ last_seen_at: seen[i]! })
          .where('id', '=', hubs[i]!.deviceId)
          .execute();
        await c.ctx.db.kysely
          .updateTable('user_devices')
          .set({ nickname: nicknames[i]! })
          .where('device_id', '=', hubs[i]!.deviceId)
          .execute();
      }

      const got = await list(owner.auth);
      const want = [...hubs]
        .sort((a, b) => a.deviceId - b.deviceId)
        .map((h) => {
          const i = hubs.indexOf(h);
          return {
            device_id: h.deviceId,
            device_uuid: h.uuid,
            role: 'owner',
            nickname: nicknames[i],
            status: 'provisioned',
            hardware_version: '4B',
            hardware_variant: 'Standard',
            last_seen_at: iso(seen[i]),
          };
        });
      t.same(got, want, 'ordered by device id; values as stored; ISO 8601 UTC as toISOString');
      t.strictSame(
        got.map((item) => Object.keys(item)),
        got.map(() => published),
        'exactly the keys of the published schema, in its order',
      );
      for (const item of got) {
        for (const [key, value] of Object.entries(item)) {
          const prop = schema.items.properties[key]!;
          // OpenAPI 3.0 spells ['string', 'null'] as nullable.
          const types = [prop.type, ...(prop.nullable ? ['null'] : [])].flat();
          const actual = value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value;
          t.ok(types.includes(actual), `${key}: ${actual} is one of ${types.join('|')}`);
        }
      }
      t.notOk(
        got.some((d) => d['device_id'] === foreign.deviceId),
        "another user's hub is not listed",
      );
    });

    t.test('a viewer sees the hub with its own role and nickname', async (t) => {
      const owner = await newUser(c.app, 'owner');
      const viewer = await newUser(c.app, 'viewer');
      const { deviceId } = await provisionedHub(c, owner.auth);
      const added = await inject({
        method: 'POST',
        url: `/api/devices/${deviceId}/members`,
        headers: owner.auth,
        payload: { email: viewer.email, role: 'viewer' },
      });
      t.equal(added.statusCode, 201, added.body);
      await c.ctx.db.kysely
        .updateTable('user_devices')
        .set({ nickname: 'Mum' })
        .where('device_id', '=', deviceId)
        .where('user_id', '=', viewer.id)
        .execute();
      t.match(await list(viewer.auth), [{ device_id: deviceId, role: 'viewer', nickname: 'Mum' }]);
      t.match(await list(owner.auth), [{ device_id: deviceId, role: 'owner', nickname: null }]);
    });

    t.test('a change is visible on the next request (nothing is cached)', async (t) => {
      const owner = await newUser(c.app, 'owner');
      const { deviceId } = await provisionedHub(c, owner.auth);
      t.equal((await list(owner.auth))[0]!['nickname'], null);
      const renamed = await inject({
        method: 'PUT',
        url: `/api/devices/${deviceId}/nickname`,
        headers: owner.auth,
        payload: { nickname: 'Kitchen' },
      });
      t.equal(renamed.statusCode, 200);
      t.equal((await list(owner.auth))[0]!['nickname'], 'Kitchen');
      t.equal(
        (await inject({ method: 'DELETE', url: `/api/devices/${deviceId}`, headers: owner.auth })).statusCode,
        204,
      );
      t.same(await list(owner.auth), [], 'unlinked: gone at once');
    });
  });
}

t.test('the bearer check on remembered tokens', async (t) => {
  const c = await startTestCentral(t, undefined, { 'central.auth_cache_ms': 1000 });
  const u = await newUser(c.app);
  const call = () => c.app.inject({ method: 'GET', url: '/api/devices', headers: u.auth });
  t.equal((await call()).statusCode, 200, 'token verified and remembered');
  c.clock.advance(2000);
  t.equal((await call()).statusCode, 200, 'user cache expired: reloaded, still valid');
  const reset = await c.app.inject({ method: 'DELETE', url: '/api/users/me', headers: u.auth });
  t.equal(reset.statusCode, 204, 'account deleted');
  t.equal((await call()).statusCode, 401, 'a remembered token of a deleted user is refused');

  const v = await newUser(c.app);
  const again = () => c.app.inject({ method: 'GET', url: '/api/devices', headers: v.auth });
  t.equal((await again()).statusCode, 200);
  c.clock.advance(c.ctx.config.central.jwt_ttl_s * 1000 + 1000);
  const expired = await again();
  t.equal(expired.statusCode, 401, 'a remembered token still expires');
  t.match(json<{ error: { message: string } }>(expired).error.message, /expired/);
  t.equal(
    (await c.app.inject({ method: 'GET', url: '/api/devices', headers: { authorization: 'Bearer' } })).statusCode,
    401,
    'no token',
  );
});
