import t from 'tap';
import { toRecord } from '../../daemon/central/hub-sync.js';
import {
  SyncEvent,
  registerSyncEvent,
  syncEvent,
  syncEventSpec,
  unregisterSyncEvent,
  type SyncEventName,
} from '../../sync/contract.js';
import { startHub, startStack } from '../helpers/stack.js';
import { until } from '../helpers/wait.js';

const out = (name: string) => ({ componentId: 5, componentType: 'imu', kind: 'event' as const, name, ts: 1 });

// Written out, not derived from the table: moving one of these off the alert lane must fail here.
const EXPECTED: Record<SyncEventName, [lane: string, type: string]> = {
  fall_detected: ['alert', 'alert'],
  detection_down: ['alert', 'alert'],
  radar_fall_state: ['alert', 'alert'],
  fall_recording: ['alert', 'event'],
  fall_cancelled: ['alert', 'event'],
  fall_duplicates: ['alert', 'event'],
  detection_restored: ['alert', 'event'],
};

t.test('each contract event becomes a record on its lane, as its type', async (t) => {
  t.same(Object.keys(SyncEvent).sort(), Object.keys(EXPECTED).sort(), 'the table and this test list the same events');
  for (const [name, [lane, type]] of Object.entries(EXPECTED)) {
    t.match(toRecord(out(name)), { lane, type, metric: name }, name);
    t.equal(SyncEvent[name as SyncEventName], name);
  }
  t.match(toRecord(out('button_pressed')), { lane: 'event', type: 'event' }, 'a name outside the contract is an event');
  t.equal(syncEventSpec('toString'), undefined, 'no prototype names');
  t.equal(syncEventSpec('__proto__'), undefined);
});

t.test('syncEvent() pairs a name with its data', async (t) => {
  const e = syncEvent('fall_duplicates', { alert_id: 'a1', node_id: 'n', duplicates: 3 });
  t.same(e, { kind: 'event', name: 'fall_duplicates', data: { alert_id: 'a1', node_id: 'n', duplicates: 3 } });
  // @ts-expect-error a name outside the contract does not compile
  syncEvent('fall_detcted', {});
  // @ts-expect-error nor does data of the wrong shape
  syncEvent('fall_duplicates', { alert_id: 'a1' });
});

t.test('a registered record type is refused twice and cannot shadow a built-in one', async (t) => {
  registerSyncEvent('test_twice', { lane: 'event', type: 'event' });
  t.teardown(() => unregisterSyncEvent('test_twice'));
  t.throws(() => registerSyncEvent('test_twice', { lane: 'alert', type: 'alert' }), /already in the contract/);
  t.throws(() => registerSyncEvent('fall_detected', { lane: 'telemetry', type: 'event' }), /already in the contract/);
  unregisterSyncEvent('fall_detected');
  t.match(toRecord(out('fall_detected')), { lane: 'alert' }, 'built-in events cannot be removed');
});

t.test('a record type added in one place travels end to end on its lane', async (t) => {
  // A new life-safety record type: one registration, nothing else changed.
  registerSyncEvent('smoke_alarm', { lane: 'alert', type: 'alert' });
  t.teardown(() => unregisterSyncEvent('smoke_alarm'));
  const { hubConfig, central, deviceId } = await startStack(t, { 'hub.buffer_commit_ms': 50 });
  const hub = await startHub(t, hubConfig);
  await until('provisioned', () => hub.status().provisioned);
  await hub.pipeline.emitStored({
    componentId: 9,
    componentType: 'smoke',
    kind: 'event',
    name: 'smoke_alarm',
    data: { alert_id: 'smoke-1', node_id: 'kitchen' },
    ts: Date.now(),
  });
  const row = () =>
    central.ctx.db.kysely
      .selectFrom('telemetry_data')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('metric', '=', 'smoke_alarm')
      .executeTakeFirst();
  await until('the record at central', async () => (await row()) !== undefined, 20_000);
  t.match(await row(), { lane: 'alert', type: 'alert', component_type: 'smoke', component_id: '9' });
});
