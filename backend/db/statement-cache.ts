const STATEMENT_CACHE_MAX = 512;

/**
 * Statements prepared once per SQL text, in a bounded LRU: preparing costs more than running a
 * small indexed query, and queries come from a fixed set of shapes.
 */
export class StatementCache<S> {
  readonly #cache = new Map<string, S>();
  constructor(
    private readonly prepare: (sqlText: string) => S,
    private readonly max = STATEMENT_CACHE_MAX,
  ) {}

  get(sqlText: string): S {
    let stmt = this.#cache.get(sqlText);
    if (stmt) {
      // Map order is insertion order: re-inserting makes the first key the least recently used.
      this.#cache.delete(sqlText);
    } else {
      stmt = this.prepare(sqlText);
      if (this.#cache.size >= this.max) this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(sqlText, stmt);
    return stmt;
  }
}
