import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { HttpRequestMetrics } from './request-metrics.js';

/** One registry per central instance (never prom-client's global), so tests can run several. */
export function createCentralMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ares_central_' });
  const httpRequests = new HttpRequestMetrics(
    'ares_central_http_requests_total',
    'ares_central_http_request_duration_seconds',
  );
  httpRequests.register(registry);
  return {
    registry,
    http: httpRequests,
    syncRecords: new Counter({
      name: 'ares_central_sync_records_total',
      help: 'sync records from hubs by result (stored, rejected)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'ares_central_auth_failures_total',
      help: 'refused authentications by kind (login, token, device_signature, claim, …)',
      labelNames: ['kind', 'reason'] as const,
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'ares_central_notifications_total',
      help: 'notification delivery attempts by channel (webhook, email) and result (delivered, retry, failed, skipped)',
      labelNames: ['channel', 'result'] as const,
      registers: [registry],
    }),
  };
}

export type CentralMetrics = ReturnType<typeof createCentralMetrics>;
