import t from 'tap';
import { storeRecords } from '../../backend/store/telemetry.js';
import { RetentionJob } from '../../backend/store/retention.js';
import type { SyncRecord } from '../../sync/records.js';
import { dbTargets } from '../helpers/databases.js';
import { json, newUser, provisionedHub, startTestCentral } from '../helpers/central.js';

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

for (const target of await dbTargets())
  t.test(`GET /api/devices/{id}/telemetry (${target.name})`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const c = await startTestCentral(t, target);
    const owner = await newUser(c.app, 'owner');
    const stranger = await newUser(c.app, 'stranger');
    const dev = await provisionedHub(c, owner.auth);
    // 2 components × 30 readings, one a minute; and one event that is not a reading.
    const records: { record: SyncRecord; ts: number }[] = [];
    let seq = 1;
    for (let i = 0; i < 30; i++)
      for (const [cid, metric, value] of [
        ['3', 'temperature', 20 + i],
        ['4', 'humidity', 40 + i],
      ] as const) {
        const r: SyncRecord = {
          seq: seq++,
          lane: 'telemetry',
          type: 'reading',
          ts: T0 + i * 60_000,
          mono_ms: i,
          clock_synced: true,
          component_type: 'dht22',
          component_id: cid,
          metric,
          value,
        };
        records.push({ record: r, ts: r.ts });
      }
    records.push({
      record: { seq: seq++, lane: 'event', type: 'event', ts: T0, mono_ms: 0, clock_synced: true, metric: 'press' },
      ts: T0,
    });
    await storeRecords(c.ctx.db.kysely, dev.deviceId, records, T0);
    const get = (query: string, auth = owner.auth) =>
      c.app.inject({ method: 'GET', url: `/api/devices/${dev.deviceId}/telemetry${query}`, headers: auth });

    t.test('readings in time order, a page at a time, filtered', async (t) => {
      const pages: { ts: string; metric: string; value: number }[][] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`?metric=temperature&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        t.equal(res.statusCode, 200, res.body);
        const body = json<{ items: { ts: string; metric: string; value: number }[]; next_cursor: string | null }>(res);
        pages.push(body.items);
        cursor = body.next_cursor;
      } while (cursor);
      const all = pages.flat();
      t.equal(all.length, 30, 'every reading once across the pages');
      t.same(
        all.map((r) => r.value),
        Array.from({ length: 30 }, (_, i) => 20 + i),
      );
      t.equal(all[0]!.ts, new Date(T0).toISOString());
      t.match(all[0], { component_type: 'dht22', component_id: '3', metric: 'temperature' });
      const window = json<{ items: unknown[] }>(
        await get(`?start=${new Date(T0 + 10 * 60_000).toISOString()}&end=${T0 + 20 * 60_000}&component_id=4`),
      );
      t.equal(window.items.length, 10, 'start (ISO) inclusive, end (epoch ms) exclusive, one component');
    });

    t.test('bucket aggregation per component and metric', async (t) => {
      const res = await get('?bucket=10m');
      t.equal(res.statusCode, 200, res.body);
      const items = json<{ items: Record<string, unknown>[] }>(res).items;
      t.equal(items.length, 6, '3 buckets × 2 components');
      t.same(items[0], {
        bucket_start: new Date(T0).toISOString(),
        component_id: '3',
        metric: 'temperature',
        min: 20,
        avg: 24.5,
        max: 29,
        count: 10,
      });
      const first = json<{ items: unknown[]; next_cursor: string }>(await get('?bucket=10m&limit=4'));
      const second = json<{ items: unknown[]; next_cursor: string | null }>(
        await get(`?bucket=10m&limit=4&cursor=${first.next_cursor}`),
      );
      t.same([...first.items, ...second.items], items, 'bucket pages join up');
      t.equal(second.next_cursor, null);
    });

    t.test('who may read, and bad parameters', async (t) => {
      t.equal((await get('', stranger.auth)).statusCode, 403, 'not a member');
      t.equal((await get('', {})).statusCode, 401);
      for (const q of [
        '?limit=0',
        '?limit=10001',
        '?bucket=5w',
        '?start=yesterday',
        '?cursor=abc',
        '?metric=a;b',
        '?x=1',
      ])
        t.equal((await get(q)).statusCode, 400, q);
    });

    t.test('retention deletes readings older than central.retention_days, in steps', async (t) => {
      const job = new RetentionJob(c.ctx);
      c.clock.set(T0 + 365 * 86_400_000 + 15 * 60_000); // the first 15 minutes are now over a year old
      const deleted = await job.runOnce();
      t.equal(deleted, 15 * 2 + 1, 'the readings and the event of those minutes');
      const left = await c.ctx.db.kysely
        .selectFrom('telemetry_data')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('device_id', '=', dev.deviceId)
        .executeTakeFirstOrThrow();
      t.equal(Number(left.n), 30, 'the rest remain');
      await job.stop();
    });
  });
