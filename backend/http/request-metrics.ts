import type { Registry } from 'prom-client';

/** Latency buckets in seconds. */
const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] as const;

interface Series {
  readonly method: string;
  readonly route: string;
  readonly status: string;
  count: number;
  sum: number;
  /** Per-bucket (not cumulative) counts; the last slot is above every bound (+Inf). */
  readonly buckets: Float64Array;
}

/**
 * The per-request HTTP metrics (`ares_central_http_requests_total`,
 * `ares_central_http_request_duration_seconds`), recorded with one Map lookup per request and
 * turned into Prometheus series only when scraped. prom-client's `inc(labels)` and
 * `observe(labels)` validate and hash the label object on every call: ~0.45 µs per request, a
 * noticeable share of a small authenticated GET (bench/central-api).
 *
 * Cardinality is bounded by the caller: route patterns (never raw URLs), methods and statuses.
 */
export class HttpRequestMetrics {
  readonly #series = new Map<string, Series>();

  constructor(
    private readonly requestsName: string,
    private readonly durationName: string,
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method}\u0000${route}\u0000${status}`;
    let s = this.#series.get(key);
    if (!s) {
      s = { method, route, status: String(status), count: 0, sum: 0, buckets: new Float64Array(BUCKETS.length + 1) };
      this.#series.set(key, s);
    }
    s.count++;
    s.sum += seconds;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    s.buckets[i]!++;
  }

  /** Registers both metrics as custom collectors of `registry`. */
  register(registry: Registry): void {
    const series = this.#series;
    const requestsName = this.requestsName;
    const durationName = this.durationName;
    registry.registerMetric({
      name: requestsName,
      help: 'HTTP requests by route and status',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name: requestsName,
        help: 'HTTP requests by route and status',
        type: 'counter',
        aggregator: 'sum',
        values: [...series.values()].map((s) => ({
          labels: { method: s.method, route: s.route, status: s.status },
          value: s.count,
        })),
      }),
      reset: () => series.clear(),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    registry.registerMetric({
      name: durationName,
      help: 'HTTP request latency',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: durationName,
        help: 'HTTP request latency',
        type: 'histogram',
        aggregator: 'sum',
        values: latencyValues(durationName, series),
      }),
      reset: () => series.clear(),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}

/** Histogram series per (method, route), statuses merged, in Prometheus' cumulative form. */
function latencyValues(name: string, series: Map<string, Series>) {
  const byRoute = new Map<string, { method: string; route: string; count: number; sum: number; buckets: number[] }>();
  for (const s of series.values()) {
    const key = `${s.method}\u0000${s.route}`;
    let r = byRoute.get(key);
    if (!r) {
      r = {
        method: s.method,
        route: s.route,
        count: 0,
        sum: 0,
        buckets: new Array<number>(BUCKETS.length + 1).fill(0),
      };
      byRoute.set(key, r);
    }
    r.count += s.count;
    r.sum += s.sum;
    for (let i = 0; i < s.buckets.length; i++) r.buckets[i]! += s.buckets[i]!;
  }
  const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
  for (const r of byRoute.values()) {
    const labels = { method: r.method, route: r.route };
    let cumulative = 0;
    for (let i = 0; i < r.buckets.length; i++) {
      cumulative += r.buckets[i]!;
      values.push({
        labels: { le: i < BUCKETS.length ? BUCKETS[i]! : '+Inf', ...labels },
        value: cumulative,
        metricName: `${name}_bucket`,
      });
    }
    values.push({ labels, value: r.sum, metricName: `${name}_sum` });
    values.push({ labels, value: r.count, metricName: `${name}_count` });
  }
  return values;
}
