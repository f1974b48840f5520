import t from 'tap';
import { startHub, startStack } from '../helpers/stack.js';
import { until } from '../helpers/wait.js';

t.test('hub outputs reach central’s store once, alerts included; acknowledged records leave the buffer', async (t) => {
  const { hubConfig, central, deviceId } = await startStack(t, { 'hub.buffer_commit_ms': 50 });
  const hub = await startHub(t, hubConfig);
  await until('provisioned', () => hub.status().provisioned);

  const ts = Date.now();
  for (let i = 0; i < 500; i++)
    hub.pipeline.emit({
      componentId: 3,
      componentType: 'dht22',
      kind: 'reading',
      name: 'temperature',
      value: 20 + i / 100,
      ts,
    });
  hub.pipeline.emit({
    componentId: 7,
    componentType: 'radar',
    kind: 'event',
    name: 'radar_fall_state',
    data: { node_id: 'radar1' },
    ts,
  });
  hub.pipeline.emit({ componentId: 1, componentType: 'led', kind: 'state', name: 'state', state: 'ON', ts });

  const rows = () =>
    central.ctx.db.kysely
      .selectFrom('telemetry_data')
      .selectAll()
      .where('device_id', '=', deviceId)
      .orderBy('seq')
      .execute();
  await until('all 502 records at central', async () => (await rows()).length === 502, 20_000);
  const stored = await rows();
  const seqs = stored.map((r) => Number(r.seq));
  t.same(
    seqs,
    [...new Set(seqs)].sort((a, b) => a - b),
    'each seq once',
  );
  t.match(
    stored.find((r) => r.lane === 'alert'),
    { type: 'alert', component_type: 'radar', component_id: '7', metric: 'radar_fall_state' },
    'the fall went by the alert lane',
  );
  t.match(
    stored.find((r) => r.type === 'state'),
    { lane: 'event', component_type: 'led', data: '{"state":"ON"}' },
  );
  t.equal(stored.filter((r) => r.type === 'reading').length, 500);
  await until('buffer drained', async () => {
    const h = (await fetch(`http://127.0.0.1:${hub.ports().http}/healthz`).then((r) => r.json())) as {
      buffer: { lanes: Record<string, { depth: number }>; last_upload_at: string | null };
    };
    return Object.values(h.buffer.lanes).every((l) => l.depth === 0) && h.buffer.last_upload_at !== null;
  });
  t.pass('/healthz reports the buffer drained, with the time of the last upload');
});
