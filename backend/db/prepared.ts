import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import { isDeepStrictEqual } from 'node:util';
import type { CentralDb } from './connect.js';
import type { Database } from './types.js';

/**
 * A query for a hot path, built by kysely once per database and then run with new parameter values.
 * Building a kysely query allocates a tree of frozen nodes; at a few thousand requests a second that
 * garbage costs more than the SQL itself (measured: 9.7k vs 15.7k req/s for one authenticated list).
 *
 * On SQLite the query runs synchronously on the committed-read connection (committed-reader.ts): use
 * it for reads outside a transaction only.
 *
 * `build(...args)` must use every argument exactly once, as a plain value, in order, and nothing
 * else as a parameter; the first compile checks that, so a query that breaks the rule fails at once
 * rather than running with shifted parameters.
 */
export function preparedQuery<A extends readonly unknown[], R>(
  build: (db: Kysely<Database>, ...args: A) => Compilable<R>,
) {
  const compiled = new WeakMap<CentralDb, string>();
  return async (db: CentralDb, ...args: A): Promise<R[]> => {
    let sqlText = compiled.get(db);
    if (sqlText === undefined) {
      const query = build(db.kysely, ...args).compile();
      if (!isDeepStrictEqual([...query.parameters], [...args])) {
        throw new Error(
          `preparedQuery: parameters ${JSON.stringify(query.parameters)} are not the arguments ${JSON.stringify(args)} in order`,
        );
      }
      sqlText = query.sql;
      compiled.set(db, sqlText);
    }
    if (db.committedReads) return db.committedReads.all<R>(sqlText, args);
    return (await db.kysely.executeQuery<R>(CompiledQuery.raw(sqlText, [...args]))).rows;
  };
}
