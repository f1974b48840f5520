import t from 'tap';
import { syncedComponents } from '../../backend/mqtt/synced-state.js';
import type { SyncRecord } from '../../sync/records.js';

let seq = 0;
const rec = (extra: Partial<SyncRecord>): SyncRecord => ({
  seq: ++seq,
  lane: 'telemetry',
  type: 'reading',
  ts: 1000,
  mono_ms: 1,
  clock_synced: true,
  component_type: 'dht22',
  component_id: '3',
  ...extra,
});

t.test('per component: the newest state, or the newest reading of each metric', async (t) => {
  t.same(
    syncedComponents([
      rec({ metric: 'temperature', value: 20, ts: 1000 }),
      rec({ metric: 'humidity', value: 41, ts: 1500 }),
      rec({ metric: 'temperature', value: 22, ts: 3000 }),
      rec({ metric: 'temperature', value: 21, ts: 2000 }), // arrives late: older
      rec({ lane: 'event', type: 'state', component_type: 'led', component_id: '7', data: { state: 'ON' }, ts: 10 }),
      rec({ lane: 'event', type: 'state', component_type: 'led', component_id: '7', data: { state: 'OFF' }, ts: 5 }),
    ]),
    {
      '3': { component_type: 'dht22', at: 3000, readings: { temperature: 22, humidity: 41 } },
      '7': { component_type: 'led', at: 10, state: 'ON' },
    },
  );
});

t.test('events, alerts, evictions and records without a component id carry no state', async (t) => {
  t.same(
    syncedComponents([
      rec({ lane: 'event', type: 'event', metric: 'button_press' }),
      rec({ lane: 'alert', type: 'alert', metric: 'fall_detected' }),
      rec({ lane: 'event', type: 'evicted', component_id: undefined, component_type: undefined }),
      rec({ metric: 'x', value: 1, component_id: 'node-a' }), // not a component's database id
      rec({ metric: 'x', value: 1, component_type: undefined }),
    ]),
    {},
  );
});
