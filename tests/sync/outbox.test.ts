import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { Outbox, type OutboxOptions } from '../../sync/outbox.js';
import type { NewRecord, SyncRecord } from '../../sync/records.js';

type Teardown = { teardown(fn: () => unknown): void };

function outbox(t: Teardown, opts: Partial<OutboxOptions> = {}, dir = mkdtempSync(join(tmpdir(), 'ares-outbox-'))) {
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.UTC(2026, 10, 1));
  const box = new Outbox({
    path: join(dir, 'buffer.db'),
    maxBytes: 1024 * 1024,
    commitMs: 0,
    clock,
    bootId: '6f1c2d3e-0000-4000-8000-000000000001',
    monoMs: () => 5000,
    clockSynced: () => true,
    log: silentLogger(),
    ...opts,
  });
  box.start();
  t.teardown(() => box.stop());
  return { box, dir, clock };
}

const reading = (value: number): NewRecord => ({
  lane: 'telemetry',
  type: 'reading',
  component_type: 'dht22',
  component_id: '3',
  metric: 'temperature',
  value,
});
const alert: NewRecord = { lane: 'alert', type: 'alert', data: { kind: 'fall' } };

t.test('one seq for all lanes, strictly increasing, never reused across restarts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ares-outbox-'));
  const first = outbox(t, {}, dir);
  const a = await first.box.append(reading(21.5));
  const b = await first.box.append(alert);
  const c = await first.box.append({ lane: 'event', type: 'event', component_type: 'button', metric: 'press' });
  t.same([a, b, c], [1, 2, 3]);
  first.box.ack('telemetry', [[1, 1]]);
  first.box.ack('alert', [[2, 2]]);
  first.box.ack('event', [[3, 3]]);
  t.equal(first.box.stats().bytes, 0, 'acked records leave the buffer');
  first.box.stop();
  const again = outbox(t, {}, dir);
  t.equal(await again.box.append(reading(22)), 4, 'the next seq after a restart, though every row was deleted');
  t.match(again.box.peek('telemetry', 10, 1e6), [
    { seq: 4, lane: 'telemetry', type: 'reading', metric: 'temperature', value: 22, clock_synced: true, mono_ms: 5000 },
  ]);
});

t.test('group commit: telemetry is acknowledged at the commit, alerts at once', async (t) => {
  const { box } = outbox(t, { commitMs: 60_000 });
  let telemetryAcked = false;
  const tp = box.append(reading(1)).then((seq) => ((telemetryAcked = true), seq));
  await new Promise((r) => setImmediate(r));
  t.notOk(telemetryAcked, 'telemetry waits for the group commit');
  const seqAlert = await box.append(alert);
  t.ok(telemetryAcked, 'an alert commits everything pending with it');
  t.equal(await tp, 1);
  t.equal(seqAlert, 2);
  const more = box.append(reading(2));
  box.flush();
  t.equal(await more, 3);
});

t.test('bounded: oldest telemetry evicted, then events; alerts never; every gap explained', async (t) => {
  const { box } = outbox(t, { maxBytes: 20_000 });
  const alerts: number[] = [];
  const markers: SyncRecord[] = [];
  // What the uploader does with the event lane now and then: send it, and delete what was sent.
  const drainEvents = () => {
    const sent = box.peek('event', 1000, 1e9);
    markers.push(...sent.filter((r) => r.type === 'evicted'));
    if (sent.length > 0) box.ack('event', [[sent[0]!.seq, sent.at(-1)!.seq]]);
  };
  for (let i = 0; i < 2000; i++) {
    await box.append(reading(i));
    if (i % 50 === 0) alerts.push(await box.append(alert));
    if (i % 300 === 0) drainEvents();
    if (box.stats().bytes > 20_000) t.fail(`over the bound after record ${i}`);
  }
  drainEvents();
  await box.append(reading(-1)); // the next commit turns the evictions accumulated since into a marker
  drainEvents();
  const stats = box.stats();
  t.ok(stats.bytes <= 20_000, `within the bound (${stats.bytes} bytes)`);
  t.ok(stats.evicted > 0, 'telemetry was evicted');
  t.same(
    box.peek('alert', 1000, 1e9).map((r) => r.seq),
    alerts,
    'every alert kept',
  );
  t.ok(markers.length >= 2 && markers.length < 20, `evictions reported in a few markers (${markers.length})`);
  const telemetry = new Set(box.peek('telemetry', 10_000, 1e9).map((r) => r.seq));
  const markerSeqs = new Set(markers.map((m) => m.seq));
  const covered = (seq: number) =>
    markers.some((m) => (m.data!['from_seq'] as number) <= seq && seq <= (m.data!['to_seq'] as number));
  const last = Math.max(...telemetry, ...alerts);
  const unexplained: number[] = [];
  for (let seq = 1; seq <= last; seq++)
    if (!telemetry.has(seq) && !alerts.includes(seq) && !markerSeqs.has(seq) && !covered(seq)) unexplained.push(seq);
  t.same(unexplained.slice(0, 10), [], 'every missing seq is inside an evicted range');
  t.equal(
    markers.reduce((n, m) => n + (m.data!['count'] as number), 0),
    stats.evicted,
    'the markers count everything evicted',
  );
});

t.test('depth and bytes kept in memory agree with the file after inserts, acks, evictions, dead letters', async (t) => {
  const { box, dir } = outbox(t, { maxBytes: 15_000 });
  for (let i = 0; i < 600; i++) {
    await box.append(reading(i));
    if (i % 40 === 0) await box.append(alert);
    if (i % 97 === 0) await box.append({ lane: 'event', type: 'event', metric: 'press' });
    if (i % 150 === 149) {
      const sent = box.peek('telemetry', 20, 1e9);
      box.ack('telemetry', [[sent[0]!.seq, sent[5]!.seq]]);
      box.deadLetter('telemetry', [{ seq: sent[6]!.seq, code: 'x', reason: 'y' }]);
    }
  }
  const live = box.stats();
  box.stop();
  const reopened = outbox(t, { maxBytes: 15_000 }, dir).box.stats(); // counts the tables afresh
  t.same(live.lanes, reopened.lanes);
  t.equal(live.bytes, reopened.bytes);
});

t.test('dead-letter: a refused record leaves the queue with its reason', async (t) => {
  const { box } = outbox(t);
  await box.append(reading(1));
  await box.append(reading(2));
  box.deadLetter('telemetry', [{ seq: 1, code: 'out_of_range', reason: 'absurd' }]);
  t.same(
    box.peek('telemetry', 10, 1e6).map((r) => r.seq),
    [2],
  );
  t.equal(box.stats().deadLettered, 1);
});

t.test('peek honours count and bytes; stats per lane', async (t) => {
  const { box, clock } = outbox(t);
  for (let i = 0; i < 10; i++) await box.append(reading(i));
  clock.advance(1000);
  await box.append(alert);
  t.equal(box.peek('telemetry', 3, 1e6).length, 3);
  t.equal(box.peek('telemetry', 100, 1).length, 1, 'at least one record, however small the byte budget');
  t.same(
    box.peek('telemetry', 100, 1e6, 8).map((r) => r.seq),
    [9, 10],
    'after a seq',
  );
  const s = box.stats();
  t.match(s.lanes, [
    { lane: 'alert', depth: 1 },
    { lane: 'event', depth: 0, oldestTs: null },
    { lane: 'telemetry', depth: 10, oldestTs: Date.UTC(2026, 10, 1) },
  ]);
});

t.test('a producer waiting on the pipeline hears back once the outbox committed', async (t) => {
  const { Pipeline } = await import('../../daemon/components/pipeline.js');
  const { box } = outbox(t, { commitMs: 60_000 });
  const pipeline = new Pipeline(silentLogger());
  pipeline.on('outbox', (o) => box.append({ lane: 'telemetry', type: 'reading', metric: o.name, value: o.value! }));
  let stored = false;
  const p = pipeline
    .emitStored({ componentId: 1, componentType: 'dht22', kind: 'reading', name: 'temperature', value: 20, ts: 0 })
    .then(() => (stored = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(stored, 'not before the commit');
  box.flush();
  await p;
  t.ok(stored);
  t.equal(box.stats().lanes.find((l) => l.lane === 'telemetry')!.depth, 1, 'and it is there');
});

t.test('peekJson: the same records as peek, serialised, one boot per batch', async (t) => {
  const first = outbox(t, { bootId: 'aaaaaaaa-0000-4000-8000-000000000001' });
  for (let i = 0; i < 30; i++) await first.box.append(reading(i + 0.5));
  await first.box.append({ lane: 'telemetry', type: 'reading', metric: 'x', value: 1, data: { note: 'a "quoted" ✓' } });
  first.box.stop();
  const { box } = outbox(t, { bootId: 'bbbbbbbb-0000-4000-8000-000000000002' }, first.dir);
  for (let i = 0; i < 5; i++) await box.append(reading(100 + i));
  const asJson = (count: number, bytes: number) => {
    const p = box.peekJson('telemetry', count, bytes);
    return { ...p, records: JSON.parse(`[${p.json}]`) as SyncRecord[] };
  };
  const all = asJson(1000, 1e9);
  t.equal(all.bootId, 'aaaaaaaa-0000-4000-8000-000000000001');
  t.equal(all.count, 31, 'only the first boot’s records');
  t.same(all.records, box.peek('telemetry', 1000, 1e9), 'exactly what peek parses');
  t.equal(all.first, 1);
  t.same(asJson(7, 1e9).records, box.peek('telemetry', 7, 1e9), 'count limit');
  t.same(asJson(1000, 1500).records, box.peek('telemetry', 1000, 1500), 'byte limit');
  t.equal(asJson(1000, 1).count, 1, 'at least one record');
  box.ack('telemetry', [[1, 31]]);
  const next = asJson(1000, 1e9);
  t.equal(next.bootId, 'bbbbbbbb-0000-4000-8000-000000000002');
  t.same(next.records, box.peek('telemetry', 1000, 1e9));
  box.ack('telemetry', [[next.first, next.first + next.count - 1]]);
  t.match(box.peekJson('telemetry', 1000, 1e9), { count: 0, json: '' }, 'empty');
  t.equal(box.stats().lanes.find((l) => l.lane === 'telemetry')!.depth, 0);
});
