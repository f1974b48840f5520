import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startCentral, type RunningCentral } from '../../backend/central.js';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { sleep } from '../../daemon/central/backoff.js';
import { CentralClient } from '../../daemon/central/client.js';
import { Uploader } from '../../daemon/central/uploader.js';
import { Outbox } from '../../sync/outbox.js';
import { syncCentral } from '../helpers/sync-central.js';
import { until } from '../helpers/wait.js';

// The telemetry lane backs off for up to a minute during the outage (production waits).
t.setTimeout(240_000);

t.test('central away: the buffer stays bounded; on its return alerts go first, within a second', async (t) => {
  const { dev, port: port, config } = await syncCentral(t);

  const dir = mkdtempSync(join(tmpdir(), 'ares-outage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const MAX = 256 * 1024;
  const outbox = new Outbox({
    path: join(dir, 'buffer.db'),
    maxBytes: MAX,
    commitMs: 50,
    clock: systemClock,
    bootId: '0c0c0c0c-0000-4000-8000-000000000001',
    monoMs: () => Number(process.hrtime.bigint() / 1_000_000n),
    clockSynced: () => true,
    log: silentLogger(),
  });
  outbox.start();
  t.teardown(() => outbox.stop());
  const uploader = new Uploader({
    outbox,
    session: () => ({
      client: new CentralClient(`http://127.0.0.1:${port}`, dev.uuid, systemClock),
      secret: dev.secret,
      deviceUuid: dev.uuid,
    }),
    monoMs: () => Number(process.hrtime.bigint() / 1_000_000n),
    now: () => Date.now(),
    log: silentLogger(),
    wait: sleep, // production waits: the alert lane's own back-off is what is measured
    onRevoked: () => undefined,
  });
  outbox.onCommit = (lanes) => uploader.wake(lanes);
  uploader.start();
  t.teardown(() => uploader.stop());

  // Central is down (nothing listens on its port) while the hub keeps producing.
  for (let i = 0; i < 6000; i++) {
    void outbox.append({ lane: 'telemetry', type: 'reading', metric: 'n', value: i, data: { pad: 'x'.repeat(40) } });
    if (i === 3000) void outbox.append({ lane: 'alert', type: 'alert', data: { kind: 'fall' } });
    if (i % 500 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  outbox.flush();
  await new Promise((r) => setTimeout(r, 1500)); // the lanes are backing off by now
  const during = outbox.stats();
  t.ok(during.bytes <= MAX, `the buffer stayed within its bound (${during.bytes} ≤ ${MAX} bytes)`);
  t.ok(during.evicted > 0, `the oldest telemetry was evicted (${during.evicted} records)`);
  t.equal(during.lanes.find((l) => l.lane === 'alert')!.depth, 1, 'the alert was kept');

  // Measured from the moment central listens again: what is timed is the hub's retry of its alert lane
  // (at most 800 ms apart), not central's own start-up, which a loaded test machine stretches.
  const central: RunningCentral = await startCentral(config, silentLogger());
  const back = Date.now();
  t.teardown(() => central.close());
  const rows = () =>
    central.ctx.db.kysely
      .selectFrom('telemetry_data')
      .select(['lane', 'type', 'received_at'])
      .where('device_id', '=', dev.deviceId)
      .execute();
  await until('the alert at central', async () => (await rows()).some((r) => r.lane === 'alert'), 5000);
  const alertAt = Number((await rows()).find((r) => r.lane === 'alert')!.received_at);
  t.ok(alertAt - back <= 1000, `the alert reached central ${alertAt - back} ms after its return`);
  await until('everything drained', () => outbox.stats().lanes.every((l) => l.depth === 0), 120_000);
  const stored = await rows();
  const firstTelemetry = Math.min(...stored.filter((r) => r.lane === 'telemetry').map((r) => Number(r.received_at)));
  t.ok(alertAt <= firstTelemetry, 'alerts first');
  t.ok(
    stored.some((r) => r.type === 'evicted'),
    'the evictions were reported to central',
  );
});
