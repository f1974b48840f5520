import { gzipSync } from 'node:zlib';
import t from 'tap';
import { deviceHeaders } from '../../sync/device-signing.js';
import type { SyncRecord } from '../../sync/records.js';
import { reshapeForHypertable } from '../../backend/store/telemetry-layout.js';
import { dbTargets } from '../helpers/databases.js';
import { json, newUser, provisionedHub, signedInject, startTestCentral } from '../helpers/central.js';

const BOOT = '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9';

const rec = (seq: number, extra: Partial<SyncRecord> = {}): SyncRecord => ({
  seq,
  lane: 'telemetry',
  type: 'reading',
  ts: Date.UTC(2026, 10, 23, 12),
  mono_ms: 10_000 + seq,
  clock_synced: true,
  component_type: 'dht22',
  component_id: '3',
  metric: 'temperature',
  value: 21 + seq / 10,
  ...extra,
});

// On PostgreSQL also with the hypertable's layout (seqs looked up under a lock, no unique
// (device_id, seq)), so that storing path runs here even without TimescaleDB.
const variants = (await dbTargets()).flatMap((target) =>
  target.name === 'postgres'
    ? [
        { target, lookup: false },
        { target, lookup: true },
      ]
    : [{ target, lookup: false }],
);

for (const { target, lookup } of variants)
  t.test(
    `POST /api/sync/batches (${target.name}${lookup ? ', hypertable layout' : ''})`,
    { skip: target.skip },
    async (t) => {
      t.teardown(() => target.cleanup());
      const c = await startTestCentral(t, target);
      if (lookup) {
        await reshapeForHypertable(c.ctx.db.kysely);
        c.ctx.telemetry = { hypertable: false, dedupeByLookup: true };
      }
      const owner = await newUser(c.app);
      const dev = await provisionedHub(c, owner.auth);
      const post = (body: unknown, opts: { gzip?: boolean; secret?: string; raw?: Buffer } = {}) => {
        const bytes = opts.raw ?? Buffer.from(JSON.stringify(body));
        return signedInject(c, dev.hub, {
          method: 'POST',
          url: '/api/sync/batches',
          body: opts.gzip ? gzipSync(bytes) : bytes,
          secret: opts.secret ?? dev.secret,
          ...(opts.gzip ? { headers: { 'content-encoding': 'gzip' } } : {}),
        });
      };
      const stored = () =>
        c.ctx.db.kysely
          .selectFrom('telemetry_data')
          .selectAll()
          .where('device_id', '=', dev.deviceId)
          .orderBy('seq')
          .execute();

      t.test('valid records are stored once and acknowledged as ranges', async (t) => {
        const batch = { device_uuid: dev.uuid, boot_id: BOOT, records: [rec(1), rec(2), rec(3), rec(7)] };
        const res = await post(batch, { gzip: true });
        t.equal(res.statusCode, 200, res.body);
        t.same(json(res), {
          acked: [
            [1, 3],
            [7, 7],
          ],
          rejected: [],
        });
        const again = await post(batch);
        t.same(
          json(again),
          {
            acked: [
              [1, 3],
              [7, 7],
            ],
            rejected: [],
          },
          'a replayed batch is acknowledged again',
        );
        t.equal((await stored()).length, 4, 'and stored once');
        t.match((await stored())[0], {
          seq: 1,
          lane: 'telemetry',
          metric: 'temperature',
          value: 21.1,
          clock_synced: 1,
        });
      });

      t.test('the same batch sent twice at once (a retry racing a slow first try) is stored once', async (t) => {
        // A retry is built afresh from the outbox: a later send time, so unsynchronised records get a
        // different repaired ts — only (device, seq) says they are the same.
        const records = [5100, 5101, 5102].map((seq) => rec(seq, { clock_synced: false }));
        const batch = (sent: number) => ({ device_uuid: dev.uuid, boot_id: BOOT, sent_mono_ms: sent, records });
        const [a, b] = await Promise.all([post(batch(20_000)), post(batch(25_000))]);
        t.equal(a.statusCode, 200, a.body);
        t.equal(b.statusCode, 200, b.body);
        t.same(json(a)['acked'], [[5100, 5102]]);
        t.same(json(b)['acked'], [[5100, 5102]], 'both are acknowledged');
        t.equal((await stored()).filter((r) => r.seq >= 5100 && r.seq <= 5102).length, 3);
      });

      t.test('one bad record is rejected alone; the rest are stored', async (t) => {
        const res = await post({
          device_uuid: dev.uuid,
          boot_id: BOOT,
          records: [
            rec(10),
            rec(11, { value: 1e300 }),
            rec(12, { lane: 'nope' as never }),
            rec(13, { data: { blob: 'x'.repeat(9000) } }),
            { seq: 'x' },
            null,
            rec(14, { type: 'evicted', lane: 'event', data: { lane: 'telemetry', from_seq: 4, to_seq: 6, count: 3 } }),
            rec(15, { metric: 'a/b' }),
          ],
        });
        t.equal(res.statusCode, 200);
        const answer = json<{ acked: number[][]; rejected: { seq: number; code: string }[] }>(res);
        t.same(answer.acked, [
          [10, 10],
          [14, 14],
        ]);
        t.same(
          answer.rejected.map((r) => [r.seq, r.code]),
          [
            [11, 'out_of_range'],
            [12, 'malformed'],
            [13, 'too_large'],
            [15, 'malformed'],
          ],
        );
      });

      t.test('an unsynchronised clock is repaired from the monotonic clock; the hub’s time is kept', async (t) => {
        const res = await post({
          device_uuid: dev.uuid,
          boot_id: BOOT,
          sent_mono_ms: 60_000,
          records: [rec(20, { clock_synced: false, ts: Date.UTC(1970, 0, 2), mono_ms: 50_000 })],
        });
        t.equal(res.statusCode, 200);
        const row = (await stored()).find((r) => r.seq === 20)!;
        t.equal(Number(row.ts), c.clock.now() - 10_000, 'made 10 s before the batch was sent');
        t.equal(Number(row.hub_ts), Date.UTC(1970, 0, 2));
        t.equal(row.clock_synced, 0);
      });

      t.test('refused: another device’s uuid, a wrong key, a tampered body, junk, oversized', async (t) => {
        const other = await provisionedHub(c, owner.auth);
        const theirs = await post({ device_uuid: other.uuid, boot_id: BOOT, records: [rec(30)] });
        t.equal(theirs.statusCode, 403, 'a batch naming another device');
        const wrongKey = await post(
          { device_uuid: dev.uuid, boot_id: BOOT, records: [rec(31)] },
          { secret: 'not-the-secret' },
        );
        t.equal(wrongKey.statusCode, 401, 'wrong key');
        const body = Buffer.from(JSON.stringify({ device_uuid: dev.uuid, boot_id: BOOT, records: [rec(32)] }));
        const headers = deviceHeaders({
          deviceUuid: dev.uuid,
          method: 'POST',
          pathAndQuery: '/api/sync/batches',
          body,
          nowS: Math.floor(c.clock.now() / 1000),
          secret: dev.secret,
        });
        const tampered = await c.app.inject({
          method: 'POST',
          url: '/api/sync/batches',
          headers: { ...headers, 'content-type': 'application/json' },
          payload: Buffer.from(body.toString().replace('"value":24.2', '"value":99')),
        });
        t.equal(tampered.statusCode, 401, 'a tampered body');
        for (const raw of ['{', '[]', '{"device_uuid":1}', '{"__proto__":{"x":1},"device_uuid":"' + dev.uuid + '"}'])
          t.equal((await post(undefined, { raw: Buffer.from(raw) })).statusCode, 400, `malformed: ${raw.slice(0, 20)}`);
        const many = {
          device_uuid: dev.uuid,
          boot_id: BOOT,
          records: Array.from({ length: 5001 }, (_, i) => rec(i + 1000)),
        };
        t.equal((await post(many, { gzip: true })).statusCode, 400, 'more records than a batch may carry');
        const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
        t.equal((await post(undefined, { raw: bomb })).statusCode, 400, 'a gzip bomb sent as plain JSON');
        const res = await signedInject(c, dev.hub, {
          method: 'POST',
          url: '/api/sync/batches',
          body: bomb,
          secret: dev.secret,
          headers: { 'content-encoding': 'gzip' },
        });
        t.equal(res.statusCode, 413, 'a gzip bomb inflating past the limit');
        t.equal(
          (await stored()).filter((r) => Number(r.seq) >= 30 && Number(r.seq) < 1000).length,
          0,
          'nothing stored',
        );
      });

      t.test('a device over its batch rate gets 429 with Retry-After', async (t) => {
        let last;
        for (let i = 0; i < 25; i++) last = await post({ device_uuid: dev.uuid, boot_id: BOOT, records: [] });
        t.equal(last!.statusCode, 429);
        t.ok(Number(last!.headers['retry-after']) >= 1);
      });
    },
  );
