import BetterSqlite3 from 'better-sqlite3';
import { AresError } from '../../core/errors.js';
import { StatementCache } from './statement-cache.js';

/** Synchronous reads of committed data (SQLite only; see CommittedReader). */
export interface CommittedReads {
  all<R>(sqlText: string, params: readonly unknown[]): R[];
}

/**
 * Reads that see only committed rows, run synchronously on a second, read-only connection to
 * central's SQLite file.
 *
 * Every kysely query on SQLite queues for the one read-write connection, which a transaction holds
 * across its awaits, and goes through kysely's executor and the queue's promises: for a 3-row list
 * that machinery cost more than SQLite itself (bench/central-api). In WAL mode a second connection
 * reads the last committed snapshot without waiting for the writer and without seeing a
 * transaction in flight, so the hot reads of every authenticated request (prepared.ts) run here.
 * A read here does not see the caller's own open transaction: it is for reads outside transactions.
 *
 * Opened on first use, after the migrations have created the schema.
 */
export class CommittedReader implements CommittedReads {
  #conn: BetterSqlite3.Database | undefined;
  #statements: StatementCache<{ stmt: BetterSqlite3.Statement; columns: string[] }> | undefined;
  #closed = false;

  constructor(private readonly path: string) {}

  all<R>(sqlText: string, params: readonly unknown[]): R[] {
    const { stmt, columns } = this.#open().get(sqlText);
    // Rows come back as arrays and become objects here: better-sqlite3 builds each row object key
    // by key from C++, which for a 3-row list took a third of the query's time.
    const rows = stmt.all(params as unknown[]) as unknown[][];
    const out = new Array<R>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const obj: Record<string, unknown> = {};
      for (let c = 0; c < columns.length; c++) obj[columns[c]!] = row[c];
      out[r] = obj as R;
    }
    return out;
  }

  close(): void {
    this.#closed = true;
    this.#conn?.close();
    this.#conn = undefined;
    this.#statements = undefined;
  }

  #open(): StatementCache<{ stmt: BetterSqlite3.Statement; columns: string[] }> {
    if (this.#statements) return this.#statements;
    if (this.#closed) throw new AresError('ARES_ERR_DATABASE', 'the database is closed', { transient: true });
    const conn = new BetterSqlite3(this.path, { readonly: true, fileMustExist: true });
    // As the writer's: wait out a checkpoint's brief exclusive moment rather than fail.
    conn.pragma('busy_timeout = 5000');
    conn.pragma('mmap_size = 268435456');
    this.#conn = conn;
    this.#statements = new StatementCache((sqlText) => {
      const stmt = conn.prepare(sqlText);
      if (!stmt.reader) throw new TypeError(`committed reads are for queries that return rows: ${sqlText}`);
      return { stmt: stmt.raw(true), columns: stmt.columns().map((c) => c.name) };
    }, 128);
    return this.#statements;
  }
}
