import { Registry } from 'prom-client';
import t from 'tap';
import { fallMetrics } from '../../daemon/http/fall-metrics.js';

t.test('fall detection on /metrics: up, outages, alerts, per-node freshness and counters', async (t) => {
  const registry = new Registry();
  const update = fallMetrics(registry);
  const now = Date.UTC(2026, 10, 24, 3);
  update(
    {
      status: 'running',
      model: 'imu-fall@1.0.0',
      backend: 'wasm',
      nodes: [
        {
          node_id: 'pendant',
          component_id: 5,
          batches: 120,
          gaps: 2,
          out_of_order: 1,
          dropped_windows: 0,
          suppressed: 7,
          last_batch_at: new Date(now - 4000).toISOString(),
        },
      ],
      alerts: 1,
      detection_down: [{ key: 'node:belt', alert_id: 'down:x:node:belt', reason: 'silent', since: '' }],
    },
    now,
  );
  const text = await registry.metrics();
  t.match(text, /ares_hub_fall_detection_up 1/);
  t.match(text, /ares_hub_fall_detection_down 1/);
  t.match(text, /ares_hub_fall_alerts_total 1/);
  t.match(text, /ares_hub_fall_node_last_data_age_seconds\{node_id="pendant"\} 4/);
  t.match(text, /ares_hub_fall_node_batches_total\{node_id="pendant"\} 120/);
  t.match(text, /ares_hub_fall_node_gaps_total\{node_id="pendant"\} 2/);
  t.match(text, /ares_hub_fall_node_suppressed_total\{node_id="pendant"\} 7/);
  update({ status: 'down', reason: 'corrupt', nodes: [], alerts: 0, detection_down: [] }, now);
  const after = await registry.metrics();
  t.match(after, /ares_hub_fall_detection_up 0/);
  t.notMatch(after, /node_id="pendant"/, 'a node gone is not reported stale');
});
