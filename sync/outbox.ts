import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { LANES, type Lane, type NewRecord, type SyncRecord } from './records.js';

/** Per-row overhead counted against the bound on top of the record's JSON (keys, index entries). */
const ROW_OVERHEAD = 48;
/** Evict down to this fraction of the bound, so a full buffer does not evict on every append. */
const EVICT_TO = 0.9;

const MIGRATIONS = [
  `create table outbox (
     seq integer primary key autoincrement,
     lane text not null,
     type text not null,
     ts integer not null,
     mono_ms integer not null,
     clock_synced integer not null,
     boot_id text not null,
     body text not null,
     bytes integer not null
   );
   create index outbox_lane on outbox (lane, seq);
   create table dead_letter (
     seq integer primary key,
     lane text not null,
     record text not null,
     code text not null,
     reason text not null,
     at integer not null
   );
   create table counters (name text primary key, value integer not null);`,
];

export interface OutboxOptions {
  /** `<state_dir>/buffer.db`. */
  path: string;
  maxBytes: number;
  /** Group-commit interval for the event and telemetry lanes (0: every record at once). */
  commitMs: number;
  clock: Clock;
  bootId: string;
  /** Monotonic ms since boot (pairs with bootId). */
  monoMs: () => number;
  /** Whether the system clock is NTP-synchronised now. */
  clockSynced: () => boolean;
  log: Logger;
}

interface Pending {
  row: Omit<SyncRecord, 'seq'>;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

export interface LaneStats {
  lane: Lane;
  depth: number;
  bytes: number;
  /** Epoch ms of the oldest record waiting, or null. */
  oldestTs: number | null;
}

/**
 * The hub's store-and-forward outbox (ARCHITECTURE §4.5): every record gets the next per-device
 * `seq` (shared by all lanes, never reused: AUTOINCREMENT) when it is committed. Durability:
 * synchronous=FULL, so a commit is on the card before its producer hears "stored". Alerts commit at
 * once; events and telemetry are group-committed every `commitMs`, one fsync for all of them. The
 * bound (`maxBytes`) evicts the oldest telemetry, then events — never alerts — and records each
 * eviction as an `evicted` record so central sees every gap explained.
 */
export class Outbox {
  #db: Database.Database | undefined;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #bytes = 0;
  #stmts!: ReturnType<Outbox['prepare']>;
  /** Told after each commit, with the lanes that got records (the uploader wakes up). */
  onCommit: ((lanes: Set<Lane>) => void) | undefined;

  constructor(private readonly opts: OutboxOptions) {}

  start(): void {
    mkdirSync(dirname(this.opts.path), { recursive: true, mode: 0o700 });
    const db = new Database(this.opts.path);
    db.pragma('journal_mode = WAL');
    // FULL: every commit is fsync'd; group commit is what keeps that cheap.
    db.pragma('synchronous = FULL');
    // The outbox is written and read front to back: a small page cache serves it (the default 2 MB
    // counts against a Pi Zero's memory for nothing).
    db.pragma('cache_size = -256');
    const version = db.pragma('user_version', { simple: true }) as number;
    db.transaction(() => {
      for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    })();
    this.#db = db;
    this.#stmts = this.prepare(db);
    this.#bytes = (db.prepare('select coalesce(sum(bytes), 0) as b from outbox').get() as { b: number }).b;
    if (this.opts.commitMs > 0) {
      this.#timer = setInterval(() => this.flush(), this.opts.commitMs);
      this.#timer.unref();
    }
  }

  private prepare(db: Database.Database) {
    return {
      insert: db.prepare(
        'insert into outbox (lane, type, ts, mono_ms, clock_synced, boot_id, body, bytes) values (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      peek: db.prepare('select * from outbox where lane = ? and seq > ? order by seq limit ?'),
      deleteRange: db.prepare('delete from outbox where seq between ? and ? returning bytes'),
      // `evicted` markers explain gaps: they are never evicted themselves.
      deleteLaneRange: db.prepare(
        "delete from outbox where lane = ? and seq between ? and ? and type != 'evicted' returning bytes",
      ),
      get: db.prepare('select * from outbox where seq = ?'),
      deadLetter: db.prepare(
        'insert or replace into dead_letter (seq, lane, record, code, reason, at) values (?, ?, ?, ?, ?, ?)',
      ),
      oldest: db.prepare("select seq, bytes from outbox where lane = ? and type != 'evicted' order by seq limit ?"),
      count: db.prepare(
        'select lane, count(*) as depth, coalesce(sum(bytes), 0) as bytes, min(ts) as oldest from outbox group by lane',
      ),
      bump: db.prepare(
        'insert into counters (name, value) values (?, ?) on conflict (name) do update set value = value + excluded.value',
      ),
      counter: db.prepare('select value from counters where name = ?'),
    };
  }

  /**
   * Stores a record; resolves with its seq once it is durable (that is the acknowledgement a
   * producer may pass on). Alerts are committed before this returns a settled promise's turn.
   */
  append(rec: NewRecord): Promise<number> {
    if (!this.#db) return Promise.reject(new Error('outbox not started'));
    const row: Omit<SyncRecord, 'seq'> = {
      ...rec,
      ts: this.opts.clock.now(),
      mono_ms: Math.floor(this.opts.monoMs()),
      clock_synced: this.opts.clockSynced(),
    };
    const done = new Promise<number>((resolve, reject) => this.#pending.push({ row, resolve, reject }));
    if (rec.lane === 'alert' || this.opts.commitMs === 0) this.flush();
    return done;
  }

  /** Commits everything pending in one transaction (one fsync) and settles its producers. */
  flush(): void {
    const db = this.#db;
    if (!db || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    const lanes = new Set<Lane>();
    let seqs: number[];
    try {
      seqs = db.transaction(() => {
        const out: number[] = [];
        for (const p of batch) {
          const { lane, type, ts, mono_ms, clock_synced, ...rest } = p.row;
          const body = JSON.stringify(rest);
          const bytes = body.length + ROW_OVERHEAD;
          const info = this.#stmts.insert.run(
            lane,
            type,
            ts,
            mono_ms,
            clock_synced ? 1 : 0,
            this.opts.bootId,
            body,
            bytes,
          );
          this.#bytes += bytes;
          out.push(Number(info.lastInsertRowid));
          lanes.add(lane);
        }
        if (this.#bytes > this.opts.maxBytes) this.#evict();
        return out;
      })();
    } catch (err) {
      // Nothing of the batch was stored (the transaction rolled back): its producers hear so.
      this.#bytes = (db.prepare('select coalesce(sum(bytes), 0) as b from outbox').get() as { b: number }).b;
      for (const p of batch) p.reject(err as Error);
      this.opts.log.error({ err, records: batch.length }, 'outbox commit failed');
      return;
    }
    batch.forEach((p, i) => p.resolve(seqs[i]!));
    this.onCommit?.(lanes);
  }

  /** Oldest telemetry first, then events; never alerts. Inside the commit's transaction. */
  #evict(): void {
    const target = this.opts.maxBytes * EVICT_TO;
    for (const lane of ['telemetry', 'event'] as const) {
      while (this.#bytes > target) {
        const rows = this.#stmts.oldest.all(lane, 500) as { seq: number; bytes: number }[];
        if (rows.length === 0) break;
        let need = this.#bytes - target;
        let last = rows[0]!.seq;
        for (const r of rows) {
          last = r.seq;
          need -= r.bytes;
          if (need <= 0) break;
        }
        const first = rows[0]!.seq;
        // The seq range may hold other lanes' records (seq is shared): only this lane's go.
        const gone = this.#stmts.deleteLaneRange.all(lane, first, last) as { bytes: number }[];
        const count = gone.length;
        for (const g of gone) this.#bytes -= g.bytes;
        const marker = { lane, from_seq: first, to_seq: last, count };
        const body = JSON.stringify({ data: marker });
        this.#stmts.insert.run(
          'event',
          'evicted',
          this.opts.clock.now(),
          Math.floor(this.opts.monoMs()),
          this.opts.clockSynced() ? 1 : 0,
          this.opts.bootId,
          body,
          body.length + ROW_OVERHEAD,
        );
        this.#bytes += body.length + ROW_OVERHEAD;
        this.#stmts.bump.run('evicted', count);
        this.opts.log.warn(marker, 'outbox full: oldest records evicted');
      }
    }
  }

  /**
   * Up to `maxCount` records of a lane after `afterSeq`, within about `maxBytes` of JSON, all of one
   * boot (a batch names one boot_id: monotonic times only compare within a boot).
   */
  peek(lane: Lane, maxCount: number, maxBytes: number, afterSeq = 0): SyncRecord[] {
    return this.peekBatch(lane, maxCount, maxBytes, afterSeq).records;
  }

  peekBatch(lane: Lane, maxCount: number, maxBytes: number, afterSeq = 0): { bootId: string; records: SyncRecord[] } {
    const rows = this.#stmts.peek.all(lane, afterSeq, maxCount) as Row[];
    const bootId = rows[0]?.boot_id ?? this.opts.bootId;
    const records: SyncRecord[] = [];
    let size = 0;
    for (const r of rows) {
      size += r.bytes;
      if (r.boot_id !== bootId || (records.length > 0 && size > maxBytes)) break;
      records.push(fromRow(r));
    }
    return { bootId, records };
  }

  /** Deletes what central acknowledged (inclusive ranges). */
  ack(ranges: [number, number][]): void {
    this.#db!.transaction(() => {
      for (const [from, to] of ranges)
        for (const r of this.#stmts.deleteRange.all(from, to) as { bytes: number }[]) this.#bytes -= r.bytes;
    })();
  }

  /** Moves records central refused for good out of the queue, with why. */
  deadLetter(rejected: { seq: number; code: string; reason: string }[]): void {
    const now = this.opts.clock.now();
    this.#db!.transaction(() => {
      for (const r of rejected) {
        const row = this.#stmts.get.get(r.seq) as Row | undefined;
        if (!row) continue;
        this.#stmts.deadLetter.run(
          r.seq,
          row.lane,
          JSON.stringify(fromRow(row)),
          r.code.slice(0, 64),
          r.reason.slice(0, 512),
          now,
        );
        for (const d of this.#stmts.deleteRange.all(r.seq, r.seq) as { bytes: number }[]) this.#bytes -= d.bytes;
        this.#stmts.bump.run('dead_lettered', 1);
      }
    })();
  }

  stats(): { lanes: LaneStats[]; bytes: number; evicted: number; deadLettered: number; pending: number } {
    const rows = this.#stmts.count.all() as { lane: Lane; depth: number; bytes: number; oldest: number | null }[];
    const counter = (name: string) => (this.#stmts.counter.get(name) as { value: number } | undefined)?.value ?? 0;
    return {
      lanes: LANES.map((lane) => {
        const r = rows.find((x) => x.lane === lane);
        return { lane, depth: r?.depth ?? 0, bytes: r?.bytes ?? 0, oldestTs: r?.oldest ?? null };
      }),
      bytes: this.#bytes,
      evicted: counter('evicted'),
      deadLettered: counter('dead_lettered'),
      pending: this.#pending.length,
    };
  }

  /** Commits what is pending, then closes the file. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.flush();
    this.#db?.close();
    this.#db = undefined;
  }
}

interface Row {
  seq: number;
  lane: Lane;
  type: SyncRecord['type'];
  ts: number;
  mono_ms: number;
  clock_synced: number;
  boot_id: string;
  body: string;
  bytes: number;
}

function fromRow(r: Row): SyncRecord {
  return {
    seq: r.seq,
    lane: r.lane,
    type: r.type,
    ts: r.ts,
    mono_ms: r.mono_ms,
    clock_synced: r.clock_synced === 1,
    ...(JSON.parse(r.body) as Partial<SyncRecord>),
  };
}
