import { SignJWT } from 'jose';
import t from 'tap';
import { dbTargets } from '../helpers/databases.js';
import { json, loginAuth, newUser, provisionedHub, signedInject, startTestCentral } from '../helpers/central.js';
import { never, until } from '../helpers/wait.js';

type Err = { error: { code: string; message: string } };

for (const target of await dbTargets()) {
  t.test(`accounts on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const c = await startTestCentral(t, target);

    t.test('register', async (t) => {
      const ok = await c.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: 'Ada 🐝', email: 'Ada@Example.COM', password: 'correct horse' },
      });
      t.equal(ok.statusCode, 201);
      t.match(json(ok), { id: Number, username: 'Ada 🐝', email: 'ada@example.com' });
      t.notOk('password_hash' in json(ok), 'no hash in the response');
      const dup = await c.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: 'x', email: 'ADA@example.com', password: 'another one' },
      });
      t.equal(dup.statusCode, 409, 'emails are case-insensitive');
      t.equal(json<Err>(dup).error.code, 'conflict');
      for (const [payload, why] of [
        [{ username: 'x', email: 'not-an-email', password: 'long enough' }, 'bad email'],
        [{ username: 'x', email: 'a@b.example', password: 'short' }, 'short password'],
        [{ username: 'x', email: 'a@b.example' }, 'missing password'],
        [{ username: 'x\u0000y', email: 'a@b.example', password: 'long enough' }, 'control character'],
        [{ username: 'x', email: 'a@b.example', password: 'long enough', is_admin: true }, 'unknown field'],
        [{ username: 42, email: 'a@b.example', password: 'long enough' }, 'wrong type'],
      ] as const) {
        const res = await c.app.inject({ method: 'POST', url: '/auth/register', payload });
        t.equal(res.statusCode, 400, why);
        t.equal(json<Err>(res).error.code, 'bad_request', `${why}: error shape`);
      }
    });

    t.test('login: JSON and OAuth2 form; tokens are checked strictly', async (t) => {
      const u = await newUser(c.app);
      const jsonLogin = await c.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: u.email.toUpperCase(), password: u.password },
      });
      t.equal(jsonLogin.statusCode, 200);
      t.match(json(jsonLogin), { access_token: String, token_type: 'bearer', expires_in: 3600 });
      const form = await c.app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'password', username: u.email, password: u.password }).toString(),
      });
      t.equal(form.statusCode, 200, 'OAuth2 password form');
      const wrong = await c.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: u.email, password: 'wrong-password' },
      });
      t.equal(wrong.statusCode, 401);
      t.equal(json<Err>(wrong).error.code, 'unauthorized');
      const nobody = await c.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: 'nobody@ares.test', password: 'whatever1' },
      });
      t.same(json(nobody), json(wrong), 'unknown account answers exactly like a wrong password');

      const token = json<{ access_token: string }>(jsonLogin).access_token;
      const call = (authorization: string) =>
        c.app.inject({ method: 'GET', url: '/api/devices', headers: { authorization } });
      t.equal((await call(`Bearer ${token}`)).statusCode, 200);
      t.equal((await call(`Bearer ${token.slice(0, -2)}xx`)).statusCode, 401, 'tampered signature');
      const [h, p] = token.split('.');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      t.equal((await call(`Bearer ${none}.${p}.`)).statusCode, 401, 'alg none');
      t.ok(h);
      const key = new TextEncoder().encode('x'.repeat(32));
      const foreign = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(String(u.id))
        .setIssuer('ares-central')
        .setAudience('ares-api')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key);
      t.equal((await call(`Bearer ${foreign}`)).statusCode, 401, 'signed with another key');
      t.equal((await call('Basic abc')).statusCode, 401, 'not a bearer token');
      t.equal((await call(`Bearer ${'a'.repeat(5000)}`)).statusCode, 401, 'oversized token');
      const old = await c.ctx.tokens.issue(u.id, 0, c.clock.now() - 3601_000);
      const expired = await call(`Bearer ${old.token}`);
      t.equal(expired.statusCode, 401, 'expired');
      t.match(json<Err>(expired).error.message, /expired/);
    });

    t.test('login brute force is throttled per account and per address', async (t) => {
      const u = await newUser(c.app);
      const attempt = (password: string, ip = '10.0.0.9') =>
        c.app.inject({ method: 'POST', url: '/auth/login', remoteAddress: ip, payload: { email: u.email, password } });
      const codes = [];
      for (let i = 0; i < 6; i++) codes.push((await attempt(`guess-${i}-xx`)).statusCode);
      t.same(codes, [401, 401, 401, 401, 401, 429]);
      const right = await attempt(u.password, '10.0.0.10');
      t.equal(right.statusCode, 429, 'the account stays locked from another address');
      t.ok(Number(right.headers['retry-after']) > 0, 'Retry-After');
      c.clock.advance(901_000);
      t.equal((await attempt(u.password)).statusCode, 200, 'unlocked after the window');

      // Per address: many accounts from one address.
      const users = await Promise.all([1, 2, 3, 4, 5].map(() => newUser(c.app)));
      let last = 0;
      for (const v of users)
        for (let i = 0; i < 4; i++)
          last = (
            await c.app.inject({
              method: 'POST',
              url: '/auth/login',
              remoteAddress: '10.0.0.66',
              payload: { email: v.email, password: 'nope-nope' },
            })
          ).statusCode;
      t.equal(last, 401, '20 failures from one address are still answered');
      const fresh = await newUser(c.app);
      const blocked = await c.app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: '10.0.0.66',
        payload: { email: fresh.email, password: fresh.password },
      });
      t.equal(blocked.statusCode, 429, 'then the address is throttled, whatever the account');
    });

    t.test('forgot and reset password', async (t) => {
      const u = await newUser(c.app);
      const before = c.mails.length;
      const unknown = await c.app.inject({
        method: 'POST',
        url: '/auth/forgot-password',
        payload: { email: 'ghost@ares.test' },
      });
      t.equal(unknown.statusCode, 202, 'unknown email: same answer');
      const res = await c.app.inject({ method: 'POST', url: '/auth/forgot-password', payload: { email: u.email } });
      t.equal(res.statusCode, 202);
      t.same(json(res), json(unknown));
      await until('the reset mail', () => c.mails.length > before);
      await never('a mail to the unknown address', () => c.mails.length > before + 1, 300);
      t.equal(c.mails.length, before + 1, 'one mail, to the real account only');
      const code = /(\d{6})/.exec(c.mails.at(-1)!.text)![1]!;
      t.equal(c.mails.at(-1)!.to, u.email);

      const reset = (payload: object) => c.app.inject({ method: 'POST', url: '/auth/reset-password', payload });
      const wrongCode = code === '000000' ? '111111' : '000000';
      t.equal(
        (await reset({ email: u.email, code: wrongCode, new_password: 'brand-new-pass' })).statusCode,
        400,
        'wrong code',
      );
      t.equal(
        (await reset({ email: u.email, code: 'abcdef', new_password: 'brand-new-pass' })).statusCode,
        400,
        'not six digits',
      );
      const ok = await reset({ email: u.email, code, new_password: 'brand-new-pass' });
      t.equal(ok.statusCode, 200, ok.body);
      t.equal(
        (await reset({ email: u.email, code, new_password: 'other-new-pass' })).statusCode,
        400,
        'a code works once',
      );
      t.equal(
        (await c.app.inject({ method: 'GET', url: '/api/devices', headers: u.auth })).statusCode,
        401,
        'old tokens are revoked by the reset',
      );
      c.clock.advance(1000);
      t.ok(await loginAuth(c.app, u.email, 'brand-new-pass'), 'new password works');

      // Five wrong tries burn the code; it also expires after ten minutes.
      const v = await newUser(c.app);
      const n = c.mails.length;
      await c.app.inject({ method: 'POST', url: '/auth/forgot-password', payload: { email: v.email } });
      // Without its mail the code below would be the previous user's, and the checks would pass vacuously.
      await until('the reset mail to v', () => c.mails.length > n);
      t.equal(c.mails.at(-1)!.to, v.email);
      const vcode = /(\d{6})/.exec(c.mails.at(-1)!.text)![1]!;
      const bad = vcode === '999999' ? '888888' : '999999';
      for (let i = 0; i < 5; i++) await reset({ email: v.email, code: bad, new_password: 'brand-new-pass' });
      t.equal(
        (await reset({ email: v.email, code: vcode, new_password: 'brand-new-pass' })).statusCode,
        400,
        'right code after 5 wrong tries',
      );
      const w = await newUser(c.app);
      const m = c.mails.length;
      await c.app.inject({ method: 'POST', url: '/auth/forgot-password', payload: { email: w.email } });
      await until('the reset mail to w', () => c.mails.length > m);
      t.equal(c.mails.at(-1)!.to, w.email);
      const wcode = /(\d{6})/.exec(c.mails.at(-1)!.text)![1]!;
      c.clock.advance(10 * 60_000 + 1);
      t.equal(
        (await reset({ email: w.email, code: wcode, new_password: 'brand-new-pass' })).statusCode,
        400,
        'expired code',
      );
    });

    t.test('DELETE /api/users/me de-provisions hubs owned alone', async (t) => {
      const alice = await newUser(c.app, 'alice');
      const bob = await newUser(c.app, 'bob');
      const solo = await provisionedHub(c, alice.auth);
      const shared = await provisionedHub(c, alice.auth);
      const add = await c.app.inject({
        method: 'POST',
        url: `/api/devices/${shared.deviceId}/members`,
        headers: alice.auth,
        payload: { email: bob.email, role: 'owner' },
      });
      t.equal(add.statusCode, 201);
      t.equal((await c.app.inject({ method: 'DELETE', url: '/api/users/me' })).statusCode, 401);
      const del = await c.app.inject({ method: 'DELETE', url: '/api/users/me', headers: alice.auth });
      t.equal(del.statusCode, 204);
      t.equal(
        (await c.app.inject({ method: 'GET', url: '/api/devices', headers: alice.auth })).statusCode,
        401,
        'token of a deleted account',
      );
      const db = c.ctx.db.kysely;
      const soloRow = await db
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', solo.deviceId)
        .executeTakeFirstOrThrow();
      t.equal(soloRow.status, 'registered', 'solo hub back to unclaimed');
      t.equal(soloRow.shared_secret, null, 'secret deleted');
      const certs = await db
        .selectFrom('device_certificates')
        .select(['revoked_at'])
        .where('device_id', '=', solo.deviceId)
        .execute();
      t.ok(certs.length > 0 && certs.every((x) => x.revoked_at !== null), 'certificates revoked');
      const reset = await db
        .selectFrom('device_commands')
        .select(['action', 'status'])
        .where('device_id', '=', solo.deviceId)
        .execute();
      t.same(reset, [{ action: 'reset', status: 'queued' }], 'system/reset queued');
      const sharedRow = await db
        .selectFrom('devices')
        .select(['status', 'shared_secret'])
        .where('id', '=', shared.deviceId)
        .executeTakeFirstOrThrow();
      t.equal(sharedRow.status, 'provisioned', 'co-owned hub keeps working');
      const bobs = json<{ device_id: number }[]>(
        await c.app.inject({ method: 'GET', url: '/api/devices', headers: bob.auth }),
      );
      t.same(
        bobs.map((d) => d.device_id),
        [shared.deviceId],
      );
      const signed = await signedInject(c, solo.hub, {
        method: 'GET',
        url: `/api/components/devices/${solo.deviceId}/components`,
        secret: solo.secret,
      });
      t.equal(signed.statusCode, 401, 'the de-provisioned hub is refused');
      // Its label code works again for the next owner.
      const carol = await newUser(c.app, 'carol');
      const reclaim = await c.app.inject({
        method: 'POST',
        url: '/api/devices/claim',
        headers: carol.auth,
        payload: { cpu_serial: solo.hub.record.cpu_serial, claim_code: solo.hub.record.claim_code },
      });
      t.equal(reclaim.statusCode, 200);
    });

    t.test('roles: only prime_admin grants; the last prime_admin stays', async (t) => {
      const u = await newUser(c.app);
      const url = `/api/users/${u.id}/roles`;
      t.equal(
        (await c.app.inject({ method: 'PUT', url, headers: u.auth, payload: { roles: ['prime_admin'] } })).statusCode,
        403,
        'no self-promotion',
      );
      t.equal(
        (await c.app.inject({ method: 'PUT', url, headers: c.adminAuth, payload: { roles: ['god'] } })).statusCode,
        400,
        'unknown role',
      );
      t.equal(
        (
          await c.app.inject({
            method: 'PUT',
            url: '/api/users/999999/roles',
            headers: c.adminAuth,
            payload: { roles: [] },
          })
        ).statusCode,
        404,
      );
      const ok = await c.app.inject({
        method: 'PUT',
        url,
        headers: c.adminAuth,
        payload: { roles: ['general_admin'] },
      });
      t.same(json(ok), { id: u.id, roles: ['general_admin'] });
      t.equal(
        (await c.app.inject({ method: 'GET', url: '/api/admin/audit', headers: u.auth })).statusCode,
        200,
        'general_admin sees the audit log',
      );
      t.equal(
        (await c.app.inject({ method: 'PUT', url, headers: u.auth, payload: { roles: ['prime_admin'] } })).statusCode,
        403,
        'general_admin cannot grant',
      );
      const me = await c.ctx.db.kysely
        .selectFrom('users')
        .select('id')
        .where('email', '=', 'root@ares.test')
        .executeTakeFirstOrThrow();
      const demote = await c.app.inject({
        method: 'PUT',
        url: `/api/users/${me.id}/roles`,
        headers: c.adminAuth,
        payload: { roles: [] },
      });
      t.equal(demote.statusCode, 409, 'last prime_admin');
      t.equal(
        (await c.app.inject({ method: 'DELETE', url: '/api/users/me', headers: c.adminAuth })).statusCode,
        409,
        'last prime_admin cannot delete itself',
      );
    });
  });
}
