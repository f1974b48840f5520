// The hub's outbox (sync/outbox.ts), each figure next to a baseline measured in the same run:
// 1. durable records/s with group commit (synchronous=FULL, one fsync per interval) vs. one
//    transaction per record at FULL (target >= 10x) and vs. 100-record transactions at NORMAL
//    (target >= 0.5x; NORMAL does not fsync each commit, so it is the cheap end);
// 2. bytes written per record and the projected GB/day at 20 readings/s with the default commit
//    interval, from the process's own write counters (/proc/self/io wchar: every byte handed to the
//    kernel, WAL and checkpoints included) while records are also drained as the uploader does.
// On the project's disk (not tmpfs), bounded, no network.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { Outbox } from '../sync/outbox.js';
import type { NewRecord } from '../sync/records.js';
import { DEFAULT_COMMIT_MS } from './lib/bench-outbox.js';

const WINDOW_S = 6;
const SINGLE_RECORDS = 1_000;
const NORMAL_RECORDS = 50_000;
const PROJECTION_S = 10;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const log = (m: string) => void process.stderr.write(`[outbox] ${m}\n`);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const reading = (i: number): NewRecord => ({
  lane: 'telemetry',
  type: 'reading',
  component_type: 'dht22',
  component_id: '3',
  metric: 'temperature',
  value: 20 + (i % 100) / 10,
});

function outbox(dir: string, commitMs: number): Outbox {
  const box = new Outbox({
    path: join(dir, `buffer-${commitMs}-${Math.random().toString(36).slice(2)}.db`),
    maxBytes: 1024 * 1024 * 1024,
    commitMs,
    clock: systemClock,
    bootId: '0d0d0d0d-0000-4000-8000-000000000001',
    monoMs: () => performance.now(),
    clockSynced: () => true,
    log: silentLogger(),
  });
  box.start();
  return box;
}

/**
 * Durable records/s in steady state: producers append as fast as the outbox lets them (holding back
 * while 100,000 wait for a commit) for WINDOW_S; only acknowledgements after the first two commit
 * intervals count, so the wait for the first commit does not dilute the rate.
 */
async function groupCommit(dir: string, commitMs: number): Promise<number> {
  const box = outbox(dir, commitMs);
  const start = performance.now();
  const warm = start + 2 * commitMs;
  const end = warm + WINDOW_S * 1000;
  let counted = 0;
  let i = 0;
  while (performance.now() < end) {
    if (box.pendingCount > 100_000) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    for (let k = 0; k < 1000; k++)
      void box.append(reading(i++)).then(() => {
        const now = performance.now();
        if (now >= warm && now < end) counted++;
      });
    await new Promise((r) => setImmediate(r)); // let the commit timer run
  }
  box.stop();
  return counted / WINDOW_S;
}

/** Records/s with plain better-sqlite3: `perTx` records per transaction at the given synchronous level. */
function plainSqlite(dir: string, n: number, perTx: number, synchronous: 'FULL' | 'NORMAL'): number {
  const db = new Database(join(dir, `plain-${synchronous}-${perTx}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(
    'create table outbox (seq integer primary key autoincrement, lane text, type text, ts integer, mono_ms integer, clock_synced integer, boot_id text, body text, bytes integer)',
  );
  const insert = db.prepare(
    'insert into outbox (lane, type, ts, mono_ms, clock_synced, boot_id, body, bytes) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const tx = db.transaction((from: number, count: number) => {
    for (let i = from; i < from + count; i++) {
      const body = JSON.stringify(reading(i));
      insert.run('telemetry', 'reading', Date.now(), 0, 1, 'boot', body, body.length);
    }
  });
  const start = performance.now();
  for (let i = 0; i < n; i += perTx) tx(i, perTx);
  const rate = n / ((performance.now() - start) / 1000);
  db.close();
  return rate;
}

function wcharBytes(): number {
  return Number(/^wchar:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
}

/** Bytes written per record at 20 readings/s with the default commit interval, drained as it goes. */
async function bytesPerRecord(dir: string): Promise<number> {
  const box = outbox(dir, DEFAULT_COMMIT_MS);
  let i = 0;
  let stored = 0;
  // The uploader sends what each commit made durable and deletes it once central acknowledges:
  // one delete transaction per commit.
  // stop() commits what is pending once more; the ack that schedules must not reach the closed buffer.
  let open = true;
  box.onCommit = () => setImmediate(() => open && stored > 0 && box.ack('telemetry', [[1, stored]]));
  const before = wcharBytes();
  const end = Date.now() + PROJECTION_S * 1000;
  while (Date.now() < end) {
    void box.append(reading(i++)).then((seq) => (stored = Math.max(stored, seq)));
    await new Promise((r) => setTimeout(r, 50));
  }
  open = false;
  box.stop();
  const written = wcharBytes() - before;
  return written / i;
}

const dir = mkdtempSync(join(ROOT, 'bench', '.outbox-'));
const hardStop = setTimeout(() => {
  log('hard timeout: giving up');
  process.exit(1);
}, 240_000);
try {
  const group = await groupCommit(dir, DEFAULT_COMMIT_MS);
  log(`group commit (${DEFAULT_COMMIT_MS} ms): ${round(group, 0)} records/s`);
  const single = plainSqlite(dir, SINGLE_RECORDS, 1, 'FULL');
  log(`one transaction per record, FULL: ${round(single, 0)} records/s`);
  const normal = plainSqlite(dir, NORMAL_RECORDS, 100, 'NORMAL');
  log(`100 records per transaction, NORMAL: ${round(normal, 0)} records/s`);
  const perRecord = await bytesPerRecord(dir);
  const gbPerDay = (perRecord * 20 * 86_400) / 1e9;
  log(`${round(perRecord, 0)} bytes written per record → ${round(gbPerDay, 3)} GB/day at 20 readings/s`);
  const results = [
    {
      name: 'durable_records_per_s_group_commit',
      value: round(group, 0),
      unit: 'records/s',
      baseline_name: 'one_tx_per_record_full',
      baseline_value: round(single, 0),
      ratio: round(group / single, 2),
      target: '>= 10',
      pass: group / single >= 10,
    },
    {
      name: 'durable_records_per_s_group_commit',
      value: round(group, 0),
      unit: 'records/s',
      baseline_name: 'tx_of_100_normal',
      baseline_value: round(normal, 0),
      ratio: round(group / normal, 3),
      target: '>= 0.5',
      pass: group / normal >= 0.5,
    },
    {
      name: 'projected_gb_per_day_20_readings_s',
      value: round(gbPerDay, 3),
      unit: 'GB/day',
      baseline_name: 'bytes_written_per_record',
      baseline_value: round(perRecord, 0),
      ratio: null,
      target: '<= 1',
      pass: gbPerDay <= 1,
    },
  ];
  process.stdout.write(JSON.stringify({ bench: 'outbox', results }) + '\n');
} finally {
  clearTimeout(hardStop);
  rmSync(dir, { recursive: true, force: true });
}
