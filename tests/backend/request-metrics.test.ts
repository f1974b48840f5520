import t from 'tap';
import { createCentralMetrics } from '../../backend/http/metrics.js';

// What /metrics prints for central's HTTP requests: one counter series per (method, route, status),
// one latency histogram per (method, route) with statuses merged.

const observations: [string, string, number, number][] = [
  ['GET', '/api/devices', 200, 0.0004],
  ['GET', '/api/devices', 200, 0.001], // exactly on a bound: counted in le="0.001"
  ['POST', '/auth/login', 401, 0.2],
  ['GET', '/api/devices', 401, 7], // above every bound: only +Inf
  ['GET', 'unmatched', 404, 0.00002],
  ['POST', '/auth/login', 200, 0.051],
  ['GET', '/api/devices', 200, 0.0049],
];

t.test('requests by route and status, latency by route', async (t) => {
  const metrics = createCentralMetrics();
  for (const [method, route, status, seconds] of observations) metrics.http.observe(method, route, status, seconds);
  const text = await metrics.registry.metrics();
  // The value of the series printed exactly as `name` (labels included).
  const line = (name: string) =>
    text
      .split('\n')
      .find((l) => l.startsWith(`${name} `))
      ?.slice(name.length + 1);
  t.equal(line('ares_central_http_requests_total{method="GET",route="/api/devices",status="200"}'), '3');
  t.equal(line('ares_central_http_requests_total{method="GET",route="/api/devices",status="401"}'), '1');
  t.equal(line('ares_central_http_requests_total{method="POST",route="/auth/login",status="401"}'), '1');
  t.equal(line('ares_central_http_requests_total{method="GET",route="unmatched",status="404"}'), '1');
  const bucket = (le: string) =>
    line(`ares_central_http_request_duration_seconds_bucket{le="${le}",method="GET",route="/api/devices"}`);
  t.equal(bucket('0.001'), '2', 'on the bound counts as within it');
  t.equal(bucket('0.005'), '3');
  t.equal(bucket('5'), '3');
  t.equal(bucket('+Inf'), '4', 'statuses merged; above every bound only in +Inf');
  t.equal(line('ares_central_http_request_duration_seconds_count{method="GET",route="/api/devices"}'), '4');
  t.notMatch(text, /ares_central_http_request_duration_seconds_bucket\{[^}]*status=/, 'no status label on latency');
});

t.test('two centrals in one process keep separate registries', async (t) => {
  const a = createCentralMetrics();
  const b = createCentralMetrics();
  a.http.observe('GET', '/healthz', 200, 0.0001);
  t.match(
    await a.registry.metrics(),
    /ares_central_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1\n/,
  );
  t.notMatch(await b.registry.metrics(), /route="\/healthz"/);
});

t.test('label values are escaped', async (t) => {
  const metrics = createCentralMetrics();
  metrics.http.observe('GET', '/x/"quoted"\\path\n', 200, 0.01);
  t.match(await metrics.registry.metrics(), 'route="/x/\\"quoted\\"\\\\path\\n"');
});
