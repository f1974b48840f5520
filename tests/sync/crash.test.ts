import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startCentral, type RunningCentral } from '../../backend/central.js';
import { silentLogger } from '../../core/logger.js';
import { freePort, syncCentral } from '../helpers/sync-central.js';
import { until } from '../helpers/wait.js';

/*
 * Crash test (issue: store-and-forward). A producer (this process) sends ≥ 1,000 records/s to a hub
 * process running the real outbox and uploader, and logs every acknowledgement it receives. The hub
 * is SIGKILLed at random moments — mid-commit, mid-upload, not only between batches — and central is
 * restarted now and then. Afterwards central must hold every acknowledged record exactly once, with
 * each seq once and every gap explained by an `evicted` record. ARES_CRASH_KILLS makes it longer.
 */
const KILLS = Number(process.env['ARES_CRASH_KILLS'] ?? 30);
// ~40 s alone; more with other test files running beside it.
t.setTimeout(Math.max(300_000, KILLS * 10_000));
const CENTRAL_EVERY = 6; // a central restart every 6th kill: ≥ 5 in a default run
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/crash-hub.ts', import.meta.url));

t.test('SIGKILLed hub, restarted central: every acknowledged record at central exactly once', async (t) => {
  const { dev, port: centralPort, config } = await syncCentral(t);

  let central: RunningCentral | undefined = await startCentral(config, silentLogger());
  t.teardown(() => central?.close());
  const dir = mkdtempSync(join(tmpdir(), 'ares-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ackLog = join(dir, 'acks.log');
  const hubPort = await freePort();
  const childEnv = {
    ...process.env,
    CRASH_BUFFER: join(dir, 'buffer.db'),
    CRASH_COMMIT_MS: '100',
    CRASH_BOOT_ID: '0b0b0b0b-0000-4000-8000-000000000001',
    CRASH_CENTRAL: `http://127.0.0.1:${centralPort}`,
    CRASH_UUID: dev.uuid,
    CRASH_SECRET: dev.secret,
    CRASH_PORT: String(hubPort),
  };
  let child: ChildProcess | undefined;
  const startChild = async () => {
    const p = spawn(process.execPath, ['--import=@tapjs/typescript/import', CHILD], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = p;
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until('hub child ready', () => out.includes('ready') || p.exitCode !== null, 30_000);
    if (p.exitCode !== null) throw new Error(`hub child exited: ${out}`);
  };
  const killChild = async () => {
    const p = child!;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  t.teardown(() => child?.kill('SIGKILL'));

  // The producer: 16 records every 10 ms, each request answered only once its records are stored.
  let next = 1;
  let sent = 0;
  const acked: number[] = [];
  let producing = true;
  const started = Date.now();
  const producer = (async () => {
    const inflight = new Set<Promise<void>>();
    while (producing) {
      const ids = Array.from({ length: 16 }, () => next++);
      sent += ids.length;
      const req = fetch(`http://127.0.0.1:${hubPort}/`, { method: 'POST', body: JSON.stringify(ids) })
        .then(async (res) => {
          if (res.status === 200 && (await res.text()) === 'stored') {
            acked.push(...ids);
            appendFileSync(ackLog, ids.join('\n') + '\n');
          }
        })
        .catch(() => undefined); // not acknowledged: the producer may not count it as stored
      inflight.add(req);
      void req.finally(() => inflight.delete(req));
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(inflight);
  })();

  let centralRestarts = 0;
  for (let i = 1; i <= KILLS; i++) {
    await startChild();
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 500));
    if (i % CENTRAL_EVERY === 0) {
      // Central goes away under load and comes back on the same address.
      await central.close();
      central = undefined;
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      central = await startCentral(config, silentLogger());
      centralRestarts++;
    }
    await killChild();
  }
  const seconds = (Date.now() - started) / 1000;
  await startChild();
  producing = false;
  await producer;
  await until(
    'the hub drained its outbox',
    async () => {
      const res = await fetch(`http://127.0.0.1:${hubPort}/`).then((r) => r.json() as Promise<{ depth: number }>);
      return res.depth === 0;
    },
    60_000,
  );
  await killChild();

  t.ok(sent / seconds >= 1000, `the producer sent ${Math.round(sent / seconds)} records/s`);
  t.equal(
    centralRestarts,
    Math.floor(KILLS / CENTRAL_EVERY),
    `central restarted ${centralRestarts} times (≥ 5 at the default 30 kills)`,
  );
  const logged = readFileSync(ackLog, 'utf8').trim().split('\n').map(Number);
  t.equal(logged.length, acked.length, 'the producer’s log holds every acknowledgement');
  t.ok(acked.length > 1000, `${acked.length} records acknowledged across ${KILLS} kills`);

  const rows = await central.ctx.db.kysely
    .selectFrom('telemetry_data')
    .select(['seq', 'type', 'data'])
    .where('device_id', '=', dev.deviceId)
    .orderBy('seq')
    .execute();
  const count = new Map<number, number>();
  for (const r of rows) {
    if (r.type === 'evicted') continue;
    const pid = (JSON.parse(r.data!) as { pid: number }).pid;
    count.set(pid, (count.get(pid) ?? 0) + 1);
  }
  const missing = acked.filter((pid) => count.get(pid) !== 1);
  t.same(missing.slice(0, 10), [], 'every acknowledged record is at central exactly once');
  t.same([...count].filter(([, n]) => n > 1).slice(0, 10), [], 'no record (acknowledged or not) stored twice');
  const seqs = rows.map((r) => Number(r.seq));
  t.same(seqs, [...new Set(seqs)], 'each seq once, in increasing order');
  const evicted = rows
    .filter((r) => r.type === 'evicted')
    .map((r) => JSON.parse(r.data!) as { from_seq: number; to_seq: number });
  const present = new Set(seqs);
  const gaps: number[] = [];
  for (let s = 1; s <= Math.max(...seqs); s++)
    if (!present.has(s) && !evicted.some((e) => e.from_seq <= s && s <= e.to_seq)) gaps.push(s);
  t.same(gaps.slice(0, 10), [], 'every gap in the sequence is covered by an evicted record');
});
