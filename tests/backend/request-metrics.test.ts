import { Counter, Histogram, Registry } from 'prom-client';
import t from 'tap';
import { HttpRequestMetrics } from '../../backend/http/request-metrics.js';

// The HTTP metrics are aggregated by hand and exposed at scrape time; prom-client's own Counter and
// Histogram fed the same requests are the reference for what /metrics must print.

const observations: [string, string, number, number][] = [
  ['GET', '/api/devices', 200, 0.0004],
  ['GET', '/api/devices', 200, 0.001], // exactly on a bound: counted in le="0.001"
  ['POST', '/auth/login', 401, 0.2],
  ['GET', '/api/devices', 401, 7], // above every bound: only +Inf
  ['GET', 'unmatched', 404, 0.00002],
  ['POST', '/auth/login', 200, 0.051],
  ['GET', '/api/devices', 200, 0.0049],
];

function reference(): Registry {
  const registry = new Registry();
  const requests = new Counter({
    name: 'ares_central_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ares_central_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  for (const [method, route, status, seconds] of observations) {
    requests.inc({ method, route, status: String(status) });
    duration.observe({ method, route }, seconds);
  }
  return registry;
}

t.test('prints what prom-client would, for the same requests', async (t) => {
  const registry = new Registry();
  const metrics = new HttpRequestMetrics(
    'ares_central_http_requests_total',
    'ares_central_http_request_duration_seconds',
  );
  metrics.register(registry);
  t.equal(
    await registry.metrics(),
    '# HELP ares_central_http_requests_total HTTP requests by route and status\n# TYPE ares_central_http_requests_total counter\n\n' +
      '# HELP ares_central_http_request_duration_seconds HTTP request latency\n# TYPE ares_central_http_request_duration_seconds histogram\n',
    'no requests yet: the families, no series',
  );
  for (const [method, route, status, seconds] of observations) metrics.observe(method, route, status, seconds);
  t.equal(await registry.metrics(), await reference().metrics());
  t.same(
    (await registry.getMetricsAsJSON()).map((m) => [m.name, m.type, m.values.length]),
    [
      ['ares_central_http_requests_total', 'counter', 5],
      ['ares_central_http_request_duration_seconds', 'histogram', 3 * 11],
    ],
  );
  registry.resetMetrics();
  metrics.observe('GET', '/healthz', 200, 0.0001);
  t.match(
    await registry.metrics(),
    /ares_central_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1\n/,
  );
  t.notMatch(await registry.metrics(), /api\/devices/, 'reset forgets earlier series');
});

t.test('label values are escaped as prom-client escapes them', async (t) => {
  const registry = new Registry();
  const metrics = new HttpRequestMetrics('a_total', 'b_seconds');
  metrics.register(registry);
  metrics.observe('GET', '/x/"quoted"\\path\n', 200, 0.01);
  t.match(await registry.metrics(), 'route="/x/\\"quoted\\"\\\\path\\n"');
});
