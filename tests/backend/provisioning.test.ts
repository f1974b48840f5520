import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { dbTargets } from '../helpers/databases.js';
import {
  fakeHub,
  json,
  newUser,
  provisionedHub,
  requestCredentials,
  signedInject,
  startTestCentral,
} from '../helpers/central.js';

for (const target of await dbTargets()) {
  t.test(`provisioning on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const c = await startTestCentral(t, target);
    const owner = await newUser(c.app, 'owner');
    const stranger = await newUser(c.app, 'stranger');

    t.test('preregister: admin only, validated, 409 on duplicates', async (t) => {
      const hub = fakeHub();
      const url = '/api/devices/preregister';
      t.equal((await c.app.inject({ method: 'POST', url, payload: hub.record })).statusCode, 401, 'no token');
      const forbidden = await c.app.inject({ method: 'POST', url, headers: owner.auth, payload: hub.record });
      t.equal(forbidden.statusCode, 403, 'plain user');
      t.equal(json<{ error: { code: string } }>(forbidden).error.code, 'forbidden');
      const ok = await c.app.inject({ method: 'POST', url, headers: c.adminAuth, payload: hub.record });
      t.equal(ok.statusCode, 201);
      t.same(Object.keys(json(ok)).sort(), ['device_id', 'device_uuid']);
      const dupSerial = await c.app.inject({
        method: 'POST',
        url,
        headers: c.adminAuth,
        payload: { ...fakeHub().record, cpu_serial: hub.record.cpu_serial },
      });
      t.equal(dupSerial.statusCode, 409, 'duplicate cpu_serial');
      t.match(json(dupSerial), { error: { code: 'conflict', details: { field: 'cpu_serial' } } });
      const dupUuid = await c.app.inject({
        method: 'POST',
        url,
        headers: c.adminAuth,
        payload: { ...fakeHub().record, device_uuid: hub.record.device_uuid },
      });
      t.equal(dupUuid.statusCode, 409, 'duplicate uuid');
      const badKey = await c.app.inject({
        method: 'POST',
        url,
        headers: c.adminAuth,
        payload: { ...fakeHub().record, public_key: 'not a key' },
      });
      t.equal(badKey.statusCode, 422);
      t.match(json(badKey), { error: { code: 'unprocessable', message: /public_key/ } });
      const badVariant = await c.app.inject({
        method: 'POST',
        url,
        headers: c.adminAuth,
        payload: fakeHub('4B', 'Ultra').record,
      });
      t.equal(badVariant.statusCode, 422);
      const missing = await c.app.inject({
        method: 'POST',
        url,
        headers: c.adminAuth,
        payload: { cpu_serial: 'abc12345' },
      });
      t.equal(missing.statusCode, 400);
      t.equal(json<{ error: { code: string } }>(missing).error.code, 'bad_request');
      const shortCode = await c.app.inject({
        method: 'POST',
        url,
        headers: c.adminAuth,
        payload: { ...fakeHub().record, claim_code: 'ABC' },
      });
      t.equal(shortCode.statusCode, 400, 'claim code under 40 bits');
    });

    t.test('claim → credentials → renewal, end to end', async (t) => {
      const hub = fakeHub();
      await c.app.inject({
        method: 'POST',
        url: '/api/devices/preregister',
        headers: c.adminAuth,
        payload: hub.record,
      });

      const early = await requestCredentials(c, hub);
      t.equal(early.statusCode, 409, 'credentials before the claim');
      t.equal(json<{ error: { code: string } }>(early).error.code, 'not_claimed');

      const wrong = await c.app.inject({
        method: 'POST',
        url: '/api/devices/claim',
        headers: owner.auth,
        payload: { cpu_serial: hub.record.cpu_serial, claim_code: 'ZZZZZ-ZZZZZ' },
      });
      t.equal(wrong.statusCode, 403, 'wrong claim code');
      const unknown = await c.app.inject({
        method: 'POST',
        url: '/api/devices/claim',
        headers: owner.auth,
        payload: { cpu_serial: 'ffffffff', claim_code: hub.record.claim_code },
      });
      t.equal(unknown.statusCode, 403, 'unknown serial looks the same as a wrong code');
      // Typed by a person: lower case, no dash, O for 0.
      const typed = hub.record.claim_code.toLowerCase().replace('-', '').replace(/0/g, 'o');
      const claim = await c.app.inject({
        method: 'POST',
        url: '/api/devices/claim',
        headers: owner.auth,
        payload: { cpu_serial: hub.record.cpu_serial, claim_code: typed },
      });
      t.equal(claim.statusCode, 200, claim.body);
      t.equal(json(claim)['role'], 'owner');
      const again = await c.app.inject({
        method: 'POST',
        url: '/api/devices/claim',
        headers: stranger.auth,
        payload: { cpu_serial: hub.record.cpu_serial, claim_code: hub.record.claim_code },
      });
      t.equal(again.statusCode, 409, 'already claimed');

      const creds = await requestCredentials(c, hub);
      t.equal(creds.statusCode, 200, creds.body);
      const body = json<Record<string, string>>(creds);
      t.equal(body['device_uuid'], hub.record.device_uuid);
      t.equal(body['user_email'], owner.email);
      t.match(body['shared_secret'], /^[0-9a-f]{64}$/);
      t.match(body['mqtt_url'], /^mqtts:\/\//);
      const cert = new X509Certificate(body['device_certificate']!);
      t.equal(cert.subject, `CN=${hub.record.device_uuid}`);
      t.ok(cert.checkIssued(new X509Certificate(body['ca_certificate']!)), 'issued by the CA it sent');
      t.ok(
        cert.publicKey.equals((await import('node:crypto')).createPublicKey(hub.privateKey)),
        'certificate holds the device key',
      );

      // A challenge is single-use.
      const ch = json<{ challenge: string }>(
        await c.app.inject({ method: 'GET', url: `/api/devices/challenge?device_uuid=${hub.record.device_uuid}` }),
      ).challenge;
      t.equal((await requestCredentials(c, hub, { challenge: ch })).statusCode, 200);
      const replay = await requestCredentials(c, hub, { challenge: ch });
      t.equal(replay.statusCode, 401, 'replayed challenge');
      c.clock.advance(301_000);
      const ch2 = json<{ challenge: string }>(
        await c.app.inject({ method: 'GET', url: `/api/devices/challenge?device_uuid=${hub.record.device_uuid}` }),
      ).challenge;
      c.clock.advance(301_000);
      t.equal((await requestCredentials(c, hub, { challenge: ch2 })).statusCode, 401, 'expired challenge');

      // A hub whose clock is years off is still served; the skew is recorded.
      c.clock.set(Date.UTC(2020, 0, 1));
      const renewal = await signedInject(c, hub, {
        method: 'POST',
        url: '/api/devices/certificate',
        body: Buffer.from(JSON.stringify({ csr: await (await import('../helpers/central.js')).csrFor(hub) })),
        secret: body['shared_secret']!,
      });
      c.clock.set(Date.now());
      t.equal(renewal.statusCode, 200, renewal.body);
      const skew = await c.ctx.db.kysely
        .selectFrom('devices')
        .select('clock_skew_s')
        .where('device_uuid', '=', hub.record.device_uuid)
        .executeTakeFirstOrThrow();
      t.ok(Math.abs(skew.clock_skew_s!) < 5, 'skew measured against central clock at request time');

      const forged = await signedInject(c, hub, {
        method: 'POST',
        url: '/api/devices/certificate',
        body: Buffer.from('{"csr":"x"}'),
        secret: 'f'.repeat(64),
      });
      t.equal(forged.statusCode, 401, 'wrong secret');
      const unsigned = await c.app.inject({ method: 'POST', url: '/api/devices/certificate', payload: { csr: 'x' } });
      t.equal(unsigned.statusCode, 401, 'unsigned');
      const badCsr = await signedInject(c, hub, {
        method: 'POST',
        url: '/api/devices/certificate',
        body: Buffer.from('{"csr":"-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----"}'),
        secret: body['shared_secret']!,
      });
      t.equal(badCsr.statusCode, 422, 'garbage CSR');
      t.match(
        json(badCsr),
        { error: { code: 'unprocessable', message: /^csr: CSR / } },
        'CsrError reason, field named',
      );
    });

    t.test('signature covers the exact bytes: tampering is refused', async (t) => {
      const { hub, deviceId, secret } = await provisionedHub(c, owner.auth);
      const url = `/api/components/devices/${deviceId}/components`;
      const ok = await signedInject(c, hub, { method: 'GET', url, secret });
      t.equal(ok.statusCode, 200, 'signed GET of its own components');
      const otherQuery = await signedInject(c, hub, { method: 'GET', url, sendUrl: `${url}?limit=1`, secret });
      t.equal(otherQuery.statusCode, 401, 'query string is signed too');
      const headers = {
        'x-ares-device': hub.record.device_uuid,
        'x-ares-timestamp': '1700000000',
        'x-ares-signature': 'v1=' + '0'.repeat(64),
      };
      t.equal((await c.app.inject({ method: 'GET', url, headers })).statusCode, 401, 'bad mac');
      const { hub: other, deviceId: otherId } = await provisionedHub(c, stranger.auth);
      t.ok(other);
      const cross = await signedInject(c, hub, {
        method: 'GET',
        url: `/api/components/devices/${otherId}/components`,
        secret,
      });
      t.equal(cross.statusCode, 403, 'a device reads only its own components');
    });

    t.test('clone and swap are refused and raised to admins', async (t) => {
      const { hub } = await provisionedHub(c, owner.auth);
      const clone = await requestCredentials(c, hub, { cpu_serial: 'deadbeef00' });
      t.equal(clone.statusCode, 403, 'same SD card in another board');
      const swapped = fakeHub();
      swapped.record.cpu_serial = hub.record.cpu_serial;
      const swap = await requestCredentials(c, swapped);
      t.equal(swap.statusCode, 401, 'new SD card in a known board');
      const alerts = json<{ items: { type: string; cpu_serial: string }[] }>(
        await c.app.inject({ method: 'GET', url: '/api/admin/alerts', headers: c.adminAuth }),
      );
      t.ok(
        alerts.items.some((a) => a.type === 'clone_suspected' && a.cpu_serial === 'deadbeef00'),
        'clone alert',
      );
      t.ok(
        alerts.items.some((a) => a.type === 'swap_suspected' && a.cpu_serial === hub.record.cpu_serial),
        'swap alert',
      );
      t.equal((await c.app.inject({ method: 'GET', url: '/api/admin/alerts', headers: owner.auth })).statusCode, 403);
    });

    t.test('claim attempts are rate-limited per serial', async (t) => {
      const hub = fakeHub();
      await c.app.inject({
        method: 'POST',
        url: '/api/devices/preregister',
        headers: c.adminAuth,
        payload: hub.record,
      });
      const attacker = await newUser(c.app, 'attacker');
      const codes = [];
      for (let i = 0; i < 6; i++) {
        const res = await c.app.inject({
          method: 'POST',
          url: '/api/devices/claim',
          headers: attacker.auth,
          payload: { cpu_serial: hub.record.cpu_serial, claim_code: `WRONG-CODE${i}` },
        });
        codes.push(res.statusCode);
      }
      t.same(codes, [403, 403, 403, 403, 403, 429]);
      const right = await c.app.inject({
        method: 'POST',
        url: '/api/devices/claim',
        headers: owner.auth,
        payload: { cpu_serial: hub.record.cpu_serial, claim_code: hub.record.claim_code },
      });
      t.equal(right.statusCode, 429, 'even the right code waits out the lockout');
      t.ok(right.headers['retry-after']);
      c.clock.advance(901_000);
      const later = await c.app.inject({
        method: 'POST',
        url: '/api/devices/claim',
        headers: owner.auth,
        payload: { cpu_serial: hub.record.cpu_serial, claim_code: hub.record.claim_code },
      });
      t.equal(later.statusCode, 200);
    });
  });
}
