import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { AresError } from '../../core/errors.js';
import { openDatabase, type CentralDb } from '../../backend/db/connect.js';
import { migrateToLatest } from '../../backend/db/migrate.js';
import { preparedQuery } from '../../backend/db/prepared.js';
import { loadAuthUser } from '../../backend/store/users.js';

// SQLite hot reads run on a second, read-only connection (db/committed-reader.ts). What that must
// guarantee: committed data only, no waiting behind a write transaction, the same rows as the
// kysely path, and a clear error once the database is closed.

const userById = preparedQuery((db, id: number) =>
  db.selectFrom('users').select(['id', 'email', 'username', 'token_version']).where('id', '=', id),
);

async function withDb(t: Test, url: (dir: string) => string): Promise<CentralDb> {
  const dir = mkdtempSync(join(tmpdir(), 'ares-committed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = await openDatabase(url(dir));
  t.teardown(() => db.close().catch(() => undefined));
  await migrateToLatest(db);
  return db;
}

async function addUser(db: CentralDb, email: string): Promise<number> {
  const row = await db.kysely
    .insertInto('users')
    .values({ email, username: 'u', password_hash: 'x', is_active: 1, token_version: 0, created_at: Date.now() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

t.test('reads see committed rows only, and do not wait for a write transaction', async (t) => {
  const db = await withDb(t, (dir) => `sqlite:${dir}/central.db`);
  t.ok(db.committedReads, 'a SQLite file gets a committed-read connection');
  const id = await addUser(db, 'a@ares.test');
  t.match(await userById(db, id), [{ id, email: 'a@ares.test', token_version: 0 }], 'committed insert is visible');

  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let inTransaction!: () => void;
  const opened = new Promise<void>((resolve) => (inTransaction = resolve));
  const writer = db.kysely.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ token_version: 7 }).where('id', '=', id).execute();
    inTransaction();
    await gate;
  });
  await opened;

  // kysely's own reads queue for the one read-write connection, which the transaction holds.
  let queuedDone = false;
  const queued = db.kysely
    .selectFrom('users')
    .select('token_version')
    .where('id', '=', id)
    .executeTakeFirstOrThrow()
    .then((r) => {
      queuedDone = true;
      return r;
    });
  const during = await userById(db, id);
  t.equal(during[0]!.token_version, 0, 'the open transaction is invisible');
  t.equal(await loadAuthUser(db, id, 0).then((u) => u?.id), id, 'the auth lookup answers meanwhile');
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(queuedDone, 'a kysely read is still waiting for the transaction');

  release();
  await writer;
  t.equal((await queued).token_version, 7);
  t.equal((await userById(db, id))[0]!.token_version, 7, 'visible once committed');
  t.equal(await loadAuthUser(db, id, 0), undefined, 'the old token version is refused at once');
});

t.test('a rolled-back write never shows', async (t) => {
  const db = await withDb(t, (dir) => `sqlite:${dir}/central.db`);
  const id = await addUser(db, 'b@ares.test');
  await t.rejects(
    db.kysely.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ email: 'changed@ares.test' }).where('id', '=', id).execute();
      throw new Error('abort');
    }),
  );
  t.equal((await userById(db, id))[0]!.email, 'b@ares.test');
});

t.test('the same rows as the kysely path; :memory: uses it', async (t) => {
  const file = await withDb(t, (dir) => `sqlite:${dir}/central.db`);
  const memory = await withDb(t, () => 'sqlite::memory:');
  t.equal(memory.committedReads, undefined, 'a second connection could not see an in-memory database');
  for (const db of [file, memory]) {
    const ids = [await addUser(db, 'x@ares.test'), await addUser(db, 'ünï"cødé\'@ares.test')];
    for (const id of ids) {
      const viaKysely = await db.kysely
        .selectFrom('users')
        .select(['id', 'email', 'username', 'token_version'])
        .where('id', '=', id)
        .execute();
      t.strictSame(await userById(db, id), viaKysely);
    }
    t.strictSame(await userById(db, 999_999), [], 'no row: empty');
  }
});

t.test('refusals', async (t) => {
  const db = await withDb(t, (dir) => `sqlite:${dir}/central.db`);
  t.throws(() => db.committedReads!.all("update users set email = 'x'", []), /queries that return rows/);
  t.strictSame(db.committedReads!.all('select email from users where id = ?', [1]), [], 'no row');
  await db.close();
  const closed = await userById(db, 1).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.ok(closed instanceof AresError, 'a read after close is a coded error');
  t.equal((closed as AresError).code, 'ARES_ERR_DATABASE', 'answered 503 by the API');
});

t.test('a query that does not use its arguments as parameters is refused at its first run', async (t) => {
  const db = await withDb(t, (dir) => `sqlite:${dir}/central.db`);
  const shifted = preparedQuery((k, id: number) =>
    k.selectFrom('users').select('id').where('token_version', '=', 0).where('id', '=', id),
  );
  await t.rejects(shifted(db, 1), /parameters \[0,1\] are not the arguments \[1\]/);
});
