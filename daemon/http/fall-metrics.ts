import { Gauge, type Registry } from 'prom-client';
import type { FallHealth } from '../fall/fall-service.js';

/**
 * Fall detection on /metrics: whether it runs, its outages, alerts, and per node how fresh its data
 * is and what the stream dropped or suppressed — what a monitor alerts on before a family would.
 */
export function fallMetrics(registry: Registry): (h: FallHealth | undefined, nowMs: number) => void {
  const up = new Gauge({
    name: 'ares_hub_fall_detection_up',
    help: '1 when fall detection runs (a model loaded), 0 when it is down or off',
    registers: [registry],
  });
  const down = new Gauge({
    name: 'ares_hub_fall_detection_down',
    help: 'fall-detection outages reported to central now (silent nodes, a model that failed to load)',
    registers: [registry],
  });
  const alerts = new Gauge({
    name: 'ares_hub_fall_alerts_total',
    help: 'fall alerts raised since the hub started',
    registers: [registry],
  });
  const age = new Gauge({
    name: 'ares_hub_fall_node_last_data_age_seconds',
    help: 'seconds since a fall-detection node last sent data',
    labelNames: ['node_id'] as const,
    registers: [registry],
  });
  const counters = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['node_id'] as const, registers: [registry] });
  const batches = counters('ares_hub_fall_node_batches_total', 'batches or frames received per node');
  const gaps = counters('ares_hub_fall_node_gaps_total', 'sequence gaps per node (windows restarted)');
  const dropped = counters('ares_hub_fall_node_dropped_windows_total', 'windows dropped unprocessed under a flood');
  const suppressed = counters(
    'ares_hub_fall_node_suppressed_total',
    'decisions suppressed by the cooldown (duplicates linked to an alert)',
  );
  return (h, nowMs) => {
    for (const g of [age, batches, gaps, dropped, suppressed]) g.reset();
    if (!h) return;
    up.set(h.status === 'running' ? 1 : 0);
    down.set(h.detection_down.length);
    alerts.set(h.alerts);
    for (const n of h.nodes) {
      const node = { node_id: n.node_id };
      if (n.last_batch_at) age.set(node, Math.max(0, (nowMs - Date.parse(n.last_batch_at)) / 1000));
      batches.set(node, n.batches);
      gaps.set(node, n.gaps);
      dropped.set(node, n.dropped_windows);
      suppressed.set(node, n.suppressed);
    }
  };
}
