import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { LANES, type Lane, type NewRecord, type SyncRecord } from './records.js';

/** Per-row overhead counted against the bound on top of the record's JSON (keys, index entries). */
const ROW_OVERHEAD = 48;
/** Records waiting for a commit beyond which one happens at once (bounded memory under a burst). */
const MAX_PENDING = 10_000;
/** Evict down to this fraction of the bound, so a full buffer does not evict on every append. */
const EVICT_TO = 0.9;

/** Rows per multi-row INSERT: one statement step for many records is most of group commit's speed. */
const INSERT_CHUNK = 32;
const COLUMNS = '(seq, type, ts, mono_ms, clock_synced, boot_id, body, bytes)';

const laneTable = (lane: Lane) => `lane_${lane}`;
const emptyTally = (): Record<Lane, { depth: number; bytes: number }> => ({
  alert: { depth: 0, bytes: 0 },
  event: { depth: 0, bytes: 0 },
  telemetry: { depth: 0, bytes: 0 },
});

/*
 * One table per lane, keyed by seq, instead of one table with a (lane, seq) index: a commit then
 * rewrites one table page and the sequence's page, not also an index page — a third fewer bytes
 * written per commit, which is what wears an SD card.
 */
const MIGRATIONS = [
  `${LANES.map(
    (lane) => `create table ${laneTable(lane)} (
       seq integer primary key,
       type text not null,
       ts integer not null,
       mono_ms integer not null,
       clock_synced integer not null,
       boot_id text not null,
       body text not null,
       bytes integer not null
     );`,
  ).join('\n')}
   create table meta (id integer primary key check (id = 1), next_seq integer not null);
   create table evictions (
     lane text primary key,
     from_seq integer not null,
     to_seq integer not null,
     count integer not null
   );
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
  rec: NewRecord;
  ts: number;
  mono: number;
  synced: boolean;
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
 * `seq` (shared by all lanes, never reused: a high-water mark is committed whenever rows are
 * deleted) when it is committed. Durability:
 * synchronous=FULL, so a commit is on the card before its producer hears "stored". Alerts commit at
 * once; events and telemetry are group-committed every `commitMs`, one fsync for all of them. The
 * bound (`maxBytes`) evicts the oldest telemetry, then events — never alerts — and records each
 * eviction as an `evicted` record so central sees every gap explained.
 */
export class Outbox {
  #db: Database.Database | undefined;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  /**
   * Depth and bytes per lane, kept in step with every insert and delete: /healthz and /metrics read
   * them often, and counting a week's backlog each time would scan the whole file.
   */
  #tally: Record<Lane, { depth: number; bytes: number }> = emptyTally();
  #bytes = 0;
  #nextSeq = 1;
  #stmts!: ReturnType<Outbox['prepare']>;
  /** Told after each commit, with the lanes that got records (the uploader wakes up). */
  onCommit: ((lanes: Set<Lane>) => void) | undefined;

  constructor(private readonly opts: OutboxOptions) {}

  start(): void {
    mkdirSync(dirname(this.opts.path), { recursive: true, mode: 0o700 });
    const db = new Database(this.opts.path);
    // Small pages: every commit rewrites the pages it touches (lane table, high-water mark), so 1 KiB
    // pages write a quarter of the bytes 4 KiB pages would — SD cards wear by bytes written. Takes
    // effect only on a new file (before WAL is switched on).
    db.pragma('page_size = 1024');
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
    this.#recount();
    // The next seq: past the high-water mark and anything stored (never reused, even once every
    // record was acknowledged and deleted).
    const mark = (db.prepare('select next_seq from meta').get() as { next_seq: number } | undefined)?.next_seq ?? 1;
    const maxStored = Math.max(
      0,
      ...LANES.map(
        (l) => (db.prepare(`select max(seq) as m from ${laneTable(l)}`).get() as { m: number | null }).m ?? 0,
      ),
    );
    this.#nextSeq = Math.max(mark, maxStored + 1);
    if (this.opts.commitMs > 0) {
      this.#timer = setInterval(() => this.flush(), this.opts.commitMs);
      this.#timer.unref();
    }
  }

  private prepare(db: Database.Database) {
    const perLane = <T>(make: (table: string, lane: Lane) => T) =>
      Object.fromEntries(LANES.map((l) => [l, make(laneTable(l), l)])) as Record<Lane, T>;
    const row = '(?, ?, ?, ?, ?, ?, ?, ?)';
    return {
      insertOne: perLane((t) => db.prepare(`insert into ${t} ${COLUMNS} values ${row}`)),
      insertMany: perLane((t) =>
        db.prepare(`insert into ${t} ${COLUMNS} values ${Array(INSERT_CHUNK).fill(row).join(', ')}`),
      ),
      peek: perLane((t) => db.prepare(`select * from ${t} where seq > ? order by seq limit ?`)),
      deleteRange: perLane((t) => db.prepare(`delete from ${t} where seq between ? and ? returning bytes`)),
      // Acks delete thousands of rows: counted in SQLite, not returned row by row to JS.
      rangeSize: perLane((t) =>
        db.prepare(`select count(*) as n, coalesce(sum(bytes), 0) as bytes from ${t} where seq between ? and ?`),
      ),
      deleteRangeQuiet: perLane((t) => db.prepare(`delete from ${t} where seq between ? and ?`)),
      firstBoot: perLane((t) => db.prepare(`select boot_id from ${t} order by seq limit 1`)),
      // One upload's batch body built inside SQLite: one string crosses into JS instead of thousands
      // of row objects (most of the hub's CPU per upload). Up to @count rows, all of the first row's boot
      // (@boot), within @bytes (at least one row); the columns the outbox added go in front of the stored record's first key.
      pageJson: perLane((t) =>
        db.prepare(
          `select count(*) as n, min(seq) as first,
             group_concat('{"seq":' || seq || ',"ts":' || ts || ',"mono_ms":' || mono_ms || ',"clock_synced":' ||
               iif(clock_synced, 'true', 'false') || ',' || substr(body, 2), ',' order by seq) as json
           from (select seq, ts, mono_ms, clock_synced, body,
                   sum(bytes) over (order by seq) as running, row_number() over (order by seq) as rn,
                   sum(boot_id != @boot) over (order by seq) as other_boot
                 from (select * from ${t} order by seq limit @count))
           where other_boot = 0 and (running <= @bytes or rn = 1)`,
        ),
      ),
      // `evicted` markers explain gaps: they are never evicted themselves.
      evictRange: perLane((t) =>
        db.prepare(`delete from ${t} where seq between ? and ? and type != 'evicted' returning bytes`),
      ),
      oldest: perLane((t) => db.prepare(`select seq, bytes from ${t} where type != 'evicted' order by seq limit ?`)),
      get: perLane((t) => db.prepare(`select * from ${t} where seq = ?`)),
      count: perLane((t) => db.prepare(`select count(*) as depth, coalesce(sum(bytes), 0) as bytes from ${t}`)),
      // The record waiting longest is the first in seq order (its ts may be off before NTP sync).
      first: perLane((t) => db.prepare(`select ts from ${t} order by seq limit 1`)),
      setNextSeq: db.prepare(
        'insert into meta (id, next_seq) values (1, ?) on conflict (id) do update set next_seq = excluded.next_seq',
      ),
      addEviction: db.prepare(
        `insert into evictions (lane, from_seq, to_seq, count) values (?, ?, ?, ?)
         on conflict (lane) do update set from_seq = min(from_seq, excluded.from_seq),
           to_seq = max(to_seq, excluded.to_seq), count = count + excluded.count`,
      ),
      evictions: db.prepare('select lane, from_seq, to_seq, count from evictions'),
      clearEvictions: db.prepare('delete from evictions'),
      markerWaiting: db.prepare("select 1 from lane_event where type = 'evicted' limit 1"),
      deadLetter: db.prepare(
        'insert or replace into dead_letter (seq, lane, record, code, reason, at) values (?, ?, ?, ?, ?, ?)',
      ),
      bump: db.prepare(
        'insert into counters (name, value) values (?, ?) on conflict (name) do update set value = value + excluded.value',
      ),
      counter: db.prepare('select value from counters where name = ?'),
    };
  }

  /** Depth and bytes from the tables themselves (at start, and after a failed commit). */
  #recount(): void {
    this.#tally = emptyTally();
    for (const l of LANES) {
      const r = this.#stmts.count[l].get() as { depth: number; bytes: number };
      this.#tally[l] = { depth: r.depth, bytes: r.bytes };
    }
    this.#bytes = LANES.reduce((n, l) => n + this.#tally[l].bytes, 0);
  }

  #count(lane: Lane, rows: number, bytes: number): void {
    const t = this.#tally[lane];
    t.depth += rows;
    t.bytes += bytes;
    this.#bytes += bytes;
  }

  /** Counts rows a `… returning bytes` delete removed. */
  #removed(lane: Lane, gone: { bytes: number }[]): void {
    let bytes = 0;
    for (const g of gone) bytes += g.bytes;
    this.#count(lane, -gone.length, -bytes);
  }

  /**
   * Stores a record; resolves with its seq once it is durable (that is the acknowledgement a
   * producer may pass on). Alerts are committed before this returns a settled promise's turn.
   */
  append(rec: NewRecord): Promise<number> {
    if (!this.#db) return Promise.reject(new Error('outbox not started'));
    let settle!: Pick<Pending, 'resolve' | 'reject'>;
    const done = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
    this.#pending.push({
      rec,
      ts: this.opts.clock.now(),
      mono: Math.floor(this.opts.monoMs()),
      synced: this.#clockSynced(),
      ...settle,
    });
    // Alerts at once; otherwise at the interval, or sooner when a burst would hold too much in memory.
    if (rec.lane === 'alert' || this.opts.commitMs === 0 || this.#pending.length >= MAX_PENDING) this.flush();
    return done;
  }

  /** The clock-sync check (a file probe on a Pi) at most once a second, not once per record. */
  #syncedAt = Number.NEGATIVE_INFINITY;
  #synced = false;
  #clockSynced(): boolean {
    const now = this.opts.monoMs();
    if (now - this.#syncedAt >= 1000) {
      this.#synced = this.opts.clockSynced();
      this.#syncedAt = now;
    }
    return this.#synced;
  }

  /** Commits everything pending in one transaction (one fsync) and settles its producers. */
  flush(): void {
    const db = this.#db;
    if (!db || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    const lanes = new Set<Lane>();
    const firstSeq = this.#nextSeq;
    try {
      db.transaction(() => {
        // Seqs in arrival order, shared by all lanes; rows go to their lane's table in chunks.
        const byLane: Record<Lane, unknown[][]> = { alert: [], event: [], telemetry: [] };
        let seq = firstSeq;
        for (const p of batch) {
          byLane[p.rec.lane].push(this.#row(seq++, p.rec, p.ts, p.mono, p.synced));
          lanes.add(p.rec.lane);
        }
        for (const lane of lanes) this.#insertRows(lane, byLane[lane]);
        this.#nextSeq = seq;
        if (this.#bytes > this.opts.maxBytes) {
          this.#evict();
          this.#stmts.setNextSeq.run(this.#nextSeq);
        }
        this.#materializeEvictions();
      })();
    } catch (err) {
      // Nothing of the batch was stored (the transaction rolled back): its producers hear so.
      this.#nextSeq = firstSeq;
      this.#recount();
      for (const p of batch) p.reject(err as Error);
      this.opts.log.error({ err, records: batch.length }, 'outbox commit failed');
      return;
    }
    batch.forEach((p, i) => p.resolve(firstSeq + i));
    this.onCommit?.(lanes);
  }

  /** A row for a lane table, counted against the bound. */
  #row(seq: number, rec: NewRecord, ts: number, mono: number, synced: boolean): unknown[] {
    // The whole record as given (lane and type repeat the columns; cheaper than copying it).
    const body = JSON.stringify(rec);
    const bytes = body.length + ROW_OVERHEAD;
    this.#count(rec.lane, 1, bytes);
    return [seq, rec.type, ts, mono, synced ? 1 : 0, this.opts.bootId, body, bytes];
  }

  #insertRows(lane: Lane, rows: unknown[][]): void {
    let i = 0;
    for (; i + INSERT_CHUNK <= rows.length; i += INSERT_CHUNK)
      this.#stmts.insertMany[lane].run(rows.slice(i, i + INSERT_CHUNK).flat());
    for (; i < rows.length; i++) this.#stmts.insertOne[lane].run(rows[i]);
  }

  /** Oldest telemetry first, then events; never alerts. Inside the commit's transaction. */
  #evict(): void {
    const target = this.opts.maxBytes * EVICT_TO;
    for (const lane of ['telemetry', 'event'] as const) {
      while (this.#bytes > target) {
        const rows = this.#stmts.oldest[lane].all(500) as { seq: number; bytes: number }[];
        if (rows.length === 0) break;
        let need = this.#bytes - target;
        let last = rows[0]!.seq;
        for (const r of rows) {
          last = r.seq;
          need -= r.bytes;
          if (need <= 0) break;
        }
        const first = rows[0]!.seq;
        const gone = this.#stmts.evictRange[lane].all(first, last) as { bytes: number }[];
        this.#removed(lane, gone);
        this.#stmts.addEviction.run(lane, first, last, gone.length);
        this.#stmts.bump.run('evicted', gone.length);
        this.opts.log.warn(
          { lane, from_seq: first, to_seq: last, count: gone.length },
          'outbox full: oldest records evicted',
        );
      }
    }
  }

  /**
   * Evictions become `evicted` records one lot at a time: while a marker waits to be sent, later
   * evictions accumulate in one row per lane (ranges merged: eviction always takes the oldest, so
   * nothing still buffered lies between two rounds). However long central stays away, at most a few
   * markers exist — they are never evicted, so they must not pile up in a full buffer.
   */
  #materializeEvictions(): void {
    const rows = this.#stmts.evictions.all() as { lane: Lane; from_seq: number; to_seq: number; count: number }[];
    if (rows.length === 0 || this.#stmts.markerWaiting.get()) return;
    for (const r of rows) {
      const rec: NewRecord = {
        lane: 'event',
        type: 'evicted',
        data: { lane: r.lane, from_seq: r.from_seq, to_seq: r.to_seq, count: r.count },
      };
      const now = this.opts.clock.now();
      const mono = Math.floor(this.opts.monoMs());
      this.#insertRows('event', [this.#row(this.#nextSeq++, rec, now, mono, this.#clockSynced())]);
    }
    this.#stmts.clearEvictions.run();
  }

  /**
   * The rows of one upload: up to `maxCount` of a lane after `afterSeq`, within about `maxBytes`
   * (at least one), all of one boot (a batch names one boot_id: monotonic times only compare within
   * a boot).
   */
  #page(lane: Lane, maxCount: number, maxBytes: number, afterSeq: number): { bootId: string; rows: Row[] } {
    const all = this.#stmts.peek[lane].all(afterSeq, maxCount) as Row[];
    const bootId = all[0]?.boot_id ?? this.opts.bootId;
    const rows: Row[] = [];
    let size = 0;
    for (const r of all) {
      size += r.bytes;
      if (r.boot_id !== bootId || (rows.length > 0 && size > maxBytes)) break;
      rows.push({ ...r, lane });
    }
    return { bootId, rows };
  }

  /** The records of the next upload, parsed (tests and tools; the uploader uses peekJson). */
  peek(lane: Lane, maxCount: number, maxBytes: number, afterSeq = 0): SyncRecord[] {
    return this.#page(lane, maxCount, maxBytes, afterSeq).rows.map(fromRow);
  }

  /**
   * The same records as peek, already serialised as the JSON array elements of a sync batch
   * (`{"seq",…}` joined by commas): the uploader sends them without parsing and re-serialising every
   * stored record — on a Pi that is most of the upload's CPU.
   */
  peekJson(
    lane: Lane,
    maxCount: number,
    maxBytes: number,
  ): { bootId: string; count: number; first: number; json: string } {
    const bootId = (this.#stmts.firstBoot[lane].get() as { boot_id: string } | undefined)?.boot_id;
    if (bootId === undefined) return { bootId: this.opts.bootId, count: 0, first: 0, json: '' };
    const r = this.#stmts.pageJson[lane].get({ boot: bootId, count: maxCount, bytes: maxBytes }) as {
      n: number;
      first: number;
      json: string;
    };
    return { bootId, count: r.n, first: r.first, json: r.json };
  }

  /** Deletes what central acknowledged (inclusive ranges) from the lane the batch came from. */
  ack(lane: Lane, ranges: [number, number][]): void {
    this.#db!.transaction(() => {
      // The high-water mark is written where rows are deleted (here, dead-lettering, eviction): while
      // a row remains, max(seq) already says where to continue. One page write fewer per commit.
      this.#stmts.setNextSeq.run(this.#nextSeq);
      for (const [from, to] of ranges) {
        const gone = this.#stmts.rangeSize[lane].get(from, to) as { n: number; bytes: number };
        this.#stmts.deleteRangeQuiet[lane].run(from, to);
        this.#count(lane, -gone.n, -gone.bytes);
      }
    })();
  }

  /** Moves records central refused for good out of the queue, with why. */
  deadLetter(lane: Lane, rejected: { seq: number; code: string; reason: string }[]): void {
    const now = this.opts.clock.now();
    this.#db!.transaction(() => {
      this.#stmts.setNextSeq.run(this.#nextSeq);
      for (const r of rejected) {
        const row = this.#stmts.get[lane].get(r.seq) as Row | undefined;
        if (!row) continue;
        this.#stmts.deadLetter.run(
          r.seq,
          lane,
          JSON.stringify(fromRow({ ...row, lane })),
          r.code.slice(0, 64),
          r.reason.slice(0, 512),
          now,
        );
        this.#removed(lane, this.#stmts.deleteRange[lane].all(r.seq, r.seq) as { bytes: number }[]);
        this.#stmts.bump.run('dead_lettered', 1);
      }
    })();
  }

  stats(): { lanes: LaneStats[]; bytes: number; evicted: number; deadLettered: number; pending: number } {
    const counter = (name: string) => (this.#stmts.counter.get(name) as { value: number } | undefined)?.value ?? 0;
    return {
      lanes: LANES.map((lane) => {
        const first = this.#stmts.first[lane].get() as { ts: number } | undefined;
        return { lane, ...this.#tally[lane], oldestTs: first?.ts ?? null };
      }),
      bytes: this.#bytes,
      evicted: counter('evicted'),
      deadLettered: counter('dead_lettered'),
      pending: this.#pending.length,
    };
  }

  /** Records waiting for the next commit (producers can hold back when it grows). */
  get pendingCount(): number {
    return this.#pending.length;
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
    ...(JSON.parse(r.body) as Partial<SyncRecord>),
    seq: r.seq,
    lane: r.lane,
    type: r.type,
    ts: r.ts,
    mono_ms: r.mono_ms,
    clock_synced: r.clock_synced === 1,
  };
}
