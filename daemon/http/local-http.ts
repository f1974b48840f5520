import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { fallMetrics } from './fall-metrics.js';
import type { Logger } from '../../core/logger.js';
import type { NodeRegistry } from '../broker/nodes.js';
import type { SyncHealth } from '../central/hub-sync.js';
import type { FallHealth } from '../fall/fall-service.js';
import type { ComponentStatus } from '../components/runtime.js';
import { checkRadarFrame, type RadarFrame } from './radar-frame.js';

export interface HubHealth {
  provisioned: boolean;
  centralReachable: boolean;
  clockSynced: boolean;
  components: ComponentStatus[];
  /** The store-and-forward buffer (undefined before it opens). */
  sync: SyncHealth | undefined;
  fall?: FallHealth;
}

export interface LocalHttpDeps {
  log: Logger;
  nodes: NodeRegistry;
  health: () => HubHealth;
  /** A validated radar frame from a registered legacy node; resolves once the reading is accepted. */
  onRadarFrame: (nodeId: string, frame: RadarFrame) => Promise<void>;
}

/**
 * The hub's LAN HTTP (§4.8) on `hub.http_port`: health for people and monitors, Prometheus metrics,
 * and POST /events for CareDian ESP32 radar nodes registered with `ares hub nodes add --legacy-http`.
 */
export async function buildLocalHttp(deps: LocalHttpDeps): Promise<FastifyInstance> {
  // Radar nodes POST once a second each: per-request log lines would flood journald.
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: 4096,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ares_hub_' });
  const componentHealth = new Gauge({
    name: 'ares_hub_component_ok',
    help: '1 when the component is healthy',
    labelNames: ['component_id', 'component_type'] as const,
    registers: [registry],
  });
  const provisioned = new Gauge({
    name: 'ares_hub_provisioned',
    help: '1 once the hub holds credentials',
    registers: [registry],
  });
  const reachable = new Gauge({
    name: 'ares_hub_central_reachable',
    help: '1 while central answers',
    registers: [registry],
  });

  app.setErrorHandler((err: { statusCode?: number; message: string; validation?: unknown }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) deps.log.error({ err }, 'local HTTP error');
    void reply.status(status).send({
      error: {
        code: status === 413 ? 'payload_too_large' : status === 403 ? 'forbidden' : 'bad_request',
        message: status === 500 ? 'internal error' : err.message,
      },
    });
  });

  app.get('/healthz', async () => {
    const h = deps.health();
    const allOk =
      h.components.every((c) => c.health === 'ok') &&
      h.fall?.status !== 'down' &&
      (h.fall?.detection_down.length ?? 0) === 0;
    return {
      status: h.provisioned && h.centralReachable && allOk ? 'ok' : 'degraded',
      provisioned: h.provisioned,
      central: { reachable: h.centralReachable },
      clock_synced: h.clockSynced,
      buffer: h.sync
        ? {
            lanes: Object.fromEntries(
              h.sync.lanes.map((l) => [
                l.lane,
                { depth: l.depth, bytes: l.bytes, oldest_age_s: l.oldestTs === null ? null : ageS(l.oldestTs) },
              ]),
            ),
            bytes: h.sync.bytes,
            evicted: h.sync.evicted,
            dead_lettered: h.sync.deadLettered,
            last_upload_at: h.sync.lastUploadAt === null ? null : new Date(h.sync.lastUploadAt).toISOString(),
            disk_written_bytes: diskWrittenBytes(),
          }
        : {},
      fall: h.fall ?? { status: 'off', nodes: [], alerts: 0, detection_down: [] },
      components: h.components.map((c) => ({
        id: c.id,
        component_type: c.component_type,
        health: c.health,
        ...(c.reason ? { reason: c.reason } : {}),
      })),
    };
  });

  const laneDepth = new Gauge({
    name: 'ares_hub_buffer_records',
    help: 'records waiting in the store-and-forward buffer, by lane',
    labelNames: ['lane'] as const,
    registers: [registry],
  });
  const laneAge = new Gauge({
    name: 'ares_hub_buffer_oldest_age_seconds',
    help: 'age of the oldest waiting record, by lane (0 when empty)',
    labelNames: ['lane'] as const,
    registers: [registry],
  });
  const bufferBytes = new Gauge({ name: 'ares_hub_buffer_bytes', help: 'bytes buffered', registers: [registry] });
  const evicted = new Gauge({
    name: 'ares_hub_buffer_evicted_total',
    help: 'records evicted because the buffer was full',
    registers: [registry],
  });
  const deadLettered = new Gauge({
    name: 'ares_hub_buffer_dead_lettered_total',
    help: 'records central refused for good',
    registers: [registry],
  });
  const lastUpload = new Gauge({
    name: 'ares_hub_last_upload_timestamp_seconds',
    help: 'when central last acknowledged a batch',
    registers: [registry],
  });
  const diskWritten = new Gauge({
    name: 'ares_hub_disk_written_bytes',
    help: 'bytes this hub process has caused to be written to storage since it started (SD-card wear)',
    registers: [registry],
  });
  const clockSynced = new Gauge({
    name: 'ares_hub_clock_synced',
    help: '1 when NTP-synchronised',
    registers: [registry],
  });

  const updateFall = fallMetrics(registry);

  app.get('/metrics', async (_req, reply) => {
    const h = deps.health();
    updateFall(h.fall, Date.now());
    clockSynced.set(h.clockSynced ? 1 : 0);
    const written = diskWrittenBytes();
    if (written !== null) diskWritten.set(written);
    if (h.sync) {
      for (const l of h.sync.lanes) {
        laneDepth.set({ lane: l.lane }, l.depth);
        laneAge.set({ lane: l.lane }, l.oldestTs === null ? 0 : ageS(l.oldestTs));
      }
      bufferBytes.set(h.sync.bytes);
      evicted.set(h.sync.evicted);
      deadLettered.set(h.sync.deadLettered);
      if (h.sync.lastUploadAt !== null) lastUpload.set(h.sync.lastUploadAt / 1000);
    }
    componentHealth.reset();
    for (const c of h.components)
      componentHealth.set({ component_id: String(c.id), component_type: c.component_type }, c.health === 'ok' ? 1 : 0);
    provisioned.set(h.provisioned ? 1 : 0);
    reachable.set(h.centralReachable ? 1 : 0);
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  // Validated by hand (checkRadarFrame, the MQTT path's check) rather than a route schema: with no
  // schema on any route fastify never loads ajv, which keeps ~4 MB off a Pi Zero's resident memory.
  app.post('/events', async (request, reply) => {
    const frame = checkRadarFrame(request.body);
    if (typeof frame === 'string')
      return reply.status(400).send({ error: { code: 'bad_request', message: `radar frame: ${frame}` } });
    if (!deps.nodes.legacyAllowed(frame.device_id, request.socket.remoteAddress)) {
      deps.log.warn(
        { device_id: frame.device_id, remote: request.socket.remoteAddress },
        'POST /events from an unregistered node',
      );
      return reply.status(403).send({
        error: {
          code: 'forbidden',
          message: `unknown device_id ${frame.device_id}: register it with ares hub nodes add ${frame.device_id} --legacy-http`,
        },
      });
    }
    await deps.onRadarFrame(frame.device_id, frame);
    return reply.status(202).send({ status: 'accepted' });
  });
  return app as unknown as FastifyInstance;
}

function ageS(ts: number): number {
  return Math.max(0, Math.round((Date.now() - ts) / 1000));
}

/** write_bytes of /proc/self/io (what reached the block layer), or null where there is none. */
function diskWrittenBytes(): number | null {
  try {
    const m = /^write_bytes:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
