import { gzipSync } from 'node:zlib';
import type { InjectOptions } from 'fastify';
import t from 'tap';
import { dbTargets } from '../helpers/databases.js';
import { json, newUser, provisionedHub, startTestCentral } from '../helpers/central.js';

/**
 * Every documented route gets malformed, truncated, oversized, mistyped, unicode, huge-number,
 * SQL-looking and prototype-poisoning input, as an admin (so auth is not what stops it). Whatever
 * the route does with it, the answer is a clear 4xx (or a 2xx where the input is simply valid text),
 * never a 500, and central keeps serving.
 */
const SQLISH = ["' OR '1'='1", "'; DROP TABLE users; --", '1; SELECT pg_sleep(5)', '" OR ""="'];
const UNICODE = ['\u0000', 'ꙮ'.repeat(100), '\u202Eevil', '\ud800', '🦜🦜🦜', 'ä'.repeat(70)];
const NUMBERS = [1e308, -1, 2 ** 53 + 1, Number('99999999999999999999'), 0, 1.5, -0];
const PARAMS = ['0', '-1', '99999999999999999999', '1e309', 'abc', "1' OR '1'='1", '%00', '..%2F..%2Fetc', 'ꙮ', 'null'];

function bodiesFor(props: string[]): unknown[] {
  const out: unknown[] = [
    null,
    [],
    'text',
    42,
    true,
    {},
    { __proto__: { admin: true } },
    JSON.parse('{"__proto__":{"x":1}}'),
    { constructor: { prototype: { admin: true } } },
  ];
  for (const p of props) {
    for (const v of [...SQLISH, ...UNICODE, ...NUMBERS, [], {}, null, true, 'x'.repeat(100_000)]) out.push({ [p]: v });
  }
  return out;
}

for (const target of await dbTargets()) {
  t.test(`hostile input on every route (${target.name})`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const c = await startTestCentral(t, target, { 'central.body_limit_kb': 256 });
    const owner = await newUser(c.app);
    const { deviceId } = await provisionedHub(c, owner.auth);
    const spec = c.app.swagger() as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }
        >
      >;
    };
    const routes = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        path,
        method: method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE',
        props: Object.keys(op.requestBody?.content?.['application/json']?.schema?.properties ?? {}),
      })),
    );
    t.ok(routes.length >= 30, `found ${routes.length} routes`);
    let requests = 0;
    const problems: string[] = [];
    const check = async (label: string, req: InjectOptions) => {
      requests++;
      const res = await c.app.inject(req);
      if (res.statusCode >= 500) problems.push(`${label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      else if (res.statusCode >= 400) {
        let body: { error?: { code?: unknown; message?: unknown } } | undefined;
        try {
          body = JSON.parse(res.body) as typeof body;
        } catch {
          problems.push(`${label}: ${res.statusCode} non-JSON error body`);
          return;
        }
        if (typeof body?.error?.code !== 'string' || typeof body.error.message !== 'string')
          problems.push(`${label}: ${res.statusCode} error shape ${res.body.slice(0, 120)}`);
      }
    };
    // The owner's own token, since a hostile admin call to DELETE /api/users/me would succeed on others.
    const headers = { ...c.adminAuth, 'content-type': 'application/json' };
    for (const r of routes) {
      const concrete = r.path.replace(/\{device_id\}/g, String(deviceId)).replace(/\{[a-z_]+\}/g, '1');
      const label = `${r.method} ${r.path}`;
      if (r.method === 'POST' || r.method === 'PUT') {
        for (const raw of ['{', '{"a":', '{"a":1', '[1,2', '{"a":1}}', 'nul', '\u0000', '{"a":"\\ud800"}', '']) {
          await check(`${label} raw ${JSON.stringify(raw)}`, {
            method: r.method,
            url: concrete,
            headers,
            payload: raw,
          });
        }
        for (const body of bodiesFor(r.props))
          await check(`${label} body ${JSON.stringify(body)?.slice(0, 60)}`, {
            method: r.method,
            url: concrete,
            headers,
            payload: JSON.stringify(body),
          });
        await check(`${label} oversized`, {
          method: r.method,
          url: concrete,
          headers,
          payload: '{"a":"' + 'x'.repeat(300 * 1024) + '"}',
        });
        await check(`${label} gzip bomb`, {
          method: r.method,
          url: concrete,
          headers: { ...headers, 'content-encoding': 'gzip' },
          payload: gzipSync(Buffer.alloc(50 * 1024 * 1024, 32)),
        });
        await check(`${label} corrupt gzip`, {
          method: r.method,
          url: concrete,
          headers: { ...headers, 'content-encoding': 'gzip' },
          payload: Buffer.from('not gzip'),
        });
        await check(`${label} brotli`, {
          method: r.method,
          url: concrete,
          headers: { ...headers, 'content-encoding': 'br' },
          payload: '{}',
        });
        await check(`${label} text/plain`, {
          method: r.method,
          url: concrete,
          headers: { ...c.adminAuth, 'content-type': 'text/plain' },
          payload: 'hello',
        });
        await check(`${label} xml`, {
          method: r.method,
          url: concrete,
          headers: { ...c.adminAuth, 'content-type': 'application/xml' },
          payload: '<a/>',
        });
      }
      if (r.path.includes('{')) {
        for (const p of PARAMS) {
          const url = r.path.replace(/\{[a-z_]+\}/g, encodeURIComponent(p).replace(/%25/g, '%'));
          await check(`${label} param ${p}`, {
            method: r.method,
            url,
            headers: r.method === 'GET' || r.method === 'DELETE' ? c.adminAuth : headers,
            ...(r.method === 'POST' || r.method === 'PUT' ? { payload: '{}' } : {}),
          });
        }
      }
      for (const q of [
        '?limit=1e999',
        '?limit=-5',
        '?before_id=abc',
        '?device_uuid=%27%20OR%201%3D1',
        '?hardware_variant=%00',
        '?x=' + 'y'.repeat(8000),
        '?limit[]=1&limit[]=2',
      ]) {
        if (r.method === 'GET')
          await check(`${label} query ${q.slice(0, 40)}`, { method: 'GET', url: concrete + q, headers: c.adminAuth });
      }
      // Hostile device-signature headers on every route.
      await check(`${label} hostile device headers`, {
        method: r.method,
        url: concrete,
        headers: {
          'x-ares-device': "' OR 1=1 --",
          'x-ares-timestamp': '1e99',
          'x-ares-signature': 'v1=' + 'z'.repeat(600),
          'content-type': 'application/json',
        },
        ...(r.method === 'POST' || r.method === 'PUT' ? { payload: '{}' } : {}),
      });
      await check(`${label} hostile bearer`, {
        method: r.method,
        url: concrete,
        headers: { authorization: "Bearer ' OR 1=1 --" },
      });
    }
    t.same(problems, [], `${requests} hostile requests: no 5xx, every error in the contract's shape`);
    const health = await c.app.inject({ method: 'GET', url: '/healthz' });
    t.same(json(health), { status: 'ok', database: 'ok' }, 'still healthy');
    const users = await c.ctx.db.kysely.selectFrom('users').select('id').execute();
    t.ok(users.length >= 2, 'users table intact');
    const poisoned = {} as Record<string, unknown>;
    t.equal(poisoned['admin'], undefined, 'no prototype pollution');
  });
}
