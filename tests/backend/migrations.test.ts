import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import ts from 'typescript';
import { openDatabase, type CentralDb } from '../../backend/db/connect.js';
import { MIGRATION_NAMES, migrateToLatest } from '../../backend/db/migrate.js';
import { GLOBAL_ROLES } from '../../backend/db/seed-data.js';
import { dbTargets, type DbTarget } from '../helpers/databases.js';

// Migrations are frozen: once released, a migration must do exactly what it did, or databases created
// before and after an edit disagree. Upgrades from the previous schema must keep data and end with
// the schema a fresh database gets; the seed (0002) must stay byte-for-byte what it always inserted;
// and no migration may import code that can change under it.

const MIGRATIONS_DIR = join(import.meta.dirname, '../../backend/db/migrations');

/**
 * Everything migration 0002 inserts, spelled out. A change here or in 0002 is a bug: catalog changes
 * are new migrations (and then this test checks the rows those add on top).
 */
const SEED = {
  roles: {
    columns: ['id', 'name', 'description'],
    rows: [
      [1, 'prime_admin', 'everything, including granting roles'],
      [2, 'general_admin', 'fleet administration: catalog, preregistration, alerts, audit'],
      [3, 'developer', 'read access to the catalog and developer tooling'],
      [4, 'owner', 'per-device: full control of a hub'],
      [5, 'viewer', 'per-device: sees data and alerts, acknowledges alerts'],
    ],
  },
  hardware_variants: {
    columns: ['id', 'name', 'description'],
    rows: [
      [1, 'Standard', 'base hub'],
      [2, 'Pro', 'hub with the extended sensor kit'],
    ],
  },
  supported_components: {
    columns: [
      'id',
      'component_type',
      'display_name',
      'category',
      'description',
      'telemetry_category',
      'component_metadata',
    ],
    rows: [
      [1, 'led', 'LED', 'actuator', 'GPIO LED', 'status', '{"states":["ON","OFF"]}'],
      [2, 'relay', 'Relay', 'actuator', 'GPIO relay', 'status', '{"states":["ON","OFF"]}'],
      [
        3,
        'pump',
        'Water pump',
        'actuator',
        'pump on a relay, runs for a duration',
        'status',
        '{"states":["ON","OFF"],"max_duration_s":600}',
      ],
      [
        4,
        'button',
        'Button',
        'sensor',
        'push button (long press starts BLE provisioning)',
        'status',
        '{"states":["PRESSED","RELEASED"]}',
      ],
      [5, 'pir', 'Motion sensor', 'sensor', 'PIR motion sensor', 'motion', '{"states":["MOTION","CLEAR"]}'],
      [
        6,
        'dht22',
        'Temperature & humidity',
        'sensor',
        'DHT22 one-wire sensor',
        'temperature',
        '{"units":{"temperature":"°C","humidity":"%"}}',
      ],
      [
        7,
        'cpu_temp',
        'CPU temperature',
        'internal_module',
        'SoC temperature from the thermal zone',
        'temperature',
        '{"units":{"temperature":"°C"}}',
      ],
      [8, 'system', 'System', 'internal_module', 'hub health: load, memory, disk, uptime', 'system', '{}'],
      [
        9,
        'radar',
        'mmWave radar',
        'sensor',
        '60 GHz radar node (ESP32 + DFRobot C1001) on the LAN',
        'presence',
        '{"node":true}',
      ],
      [10, 'imu', 'Wearable IMU', 'sensor', 'accelerometer/gyroscope node on the LAN', 'motion', '{"node":true}'],
    ],
  },
  device_pin_configs: {
    columns: [
      'id',
      'hardware_version',
      'hardware_variant',
      'component_type',
      'pin_number',
      'pin_mode',
      'default_state',
      'description',
      'shareable',
    ],
    rows: [
      [1, '3B', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [2, '3B', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [3, '3B', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [4, '3B', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
      [5, '3B', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [6, '3B', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [7, '3B', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [8, '3B', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [9, '3B', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [10, '3B', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
      [11, '3B', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [12, '3B', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [13, '3B+', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [14, '3B+', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [15, '3B+', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [16, '3B+', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
      [17, '3B+', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [18, '3B+', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [19, '3B+', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [20, '3B+', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [21, '3B+', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [22, '3B+', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
      [23, '3B+', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [24, '3B+', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [25, '4B', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [26, '4B', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [27, '4B', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [28, '4B', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
      [29, '4B', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [30, '4B', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [31, '4B', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [32, '4B', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [33, '4B', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [34, '4B', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
      [35, '4B', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [36, '4B', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [37, '5', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [38, '5', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [39, '5', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [40, '5', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
      [41, '5', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [42, '5', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [43, '5', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [44, '5', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [45, '5', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [46, '5', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
      [47, '5', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [48, '5', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [49, 'Z2W', 'Standard', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [50, 'Z2W', 'Standard', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [51, 'Z2W', 'Standard', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [52, 'Z2W', 'Standard', 'button', 23, 'IN', null, 'default button pin', 0],
      [53, 'Z2W', 'Standard', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [54, 'Z2W', 'Standard', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
      [55, 'Z2W', 'Pro', 'led', 17, 'OUT', 'OFF', 'default led pin', 0],
      [56, 'Z2W', 'Pro', 'relay', 27, 'OUT', 'OFF', 'default relay pin', 0],
      [57, 'Z2W', 'Pro', 'pump', 22, 'OUT', 'OFF', 'default pump pin', 0],
      [58, 'Z2W', 'Pro', 'button', 23, 'IN', null, 'default button pin', 0],
      [59, 'Z2W', 'Pro', 'pir', 24, 'IN', null, 'default pir pin', 0],
      [60, 'Z2W', 'Pro', 'dht22', 4, 'IN', null, 'default dht22 pin', 0],
    ],
  },
};

type SeedTable = keyof typeof SEED;

/** A database of its own: a temp SQLite file, or a PostgreSQL schema dropped afterwards. */
async function openDb(t: Test, target: DbTarget, suffix: string): Promise<CentralDb> {
  const dir = mkdtempSync(join(tmpdir(), 'ares-migrations-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const schema = target.schema ? `${target.schema}_${suffix}` : undefined;
  const db = await openDatabase(target.url(dir), schema ? { schema } : {});
  t.teardown(async () => {
    if (schema) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db.kysely);
    await db.close();
  });
  return db;
}

/** Tables, columns, indexes and constraints, comparable between two databases of one dialect. */
async function describeSchema(db: CentralDb): Promise<unknown> {
  if (db.dialect === 'sqlite') {
    const objects = await sql`
      select type, name, tbl_name, sql from sqlite_master
      where name not like 'sqlite_%' order by type, name`.execute(db.kysely);
    const columns = await sql`
      select m.name as table_name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk
      from sqlite_master m join pragma_table_info(m.name) p
      where m.type = 'table' and m.name not like 'sqlite_%' order by m.name, p.cid`.execute(db.kysely);
    return { objects: objects.rows, columns: columns.rows };
  }
  const schema = db.schema!;
  const columns = await sql`
    select table_name, column_name, ordinal_position, data_type, character_maximum_length, is_nullable,
      column_default
    from information_schema.columns where table_schema = ${schema}
    order by table_name, ordinal_position`.execute(db.kysely);
  const indexes = await sql`
    select tablename, indexname, indexdef from pg_indexes where schemaname = ${schema}
    order by tablename, indexname`.execute(db.kysely);
  // NOT NULL shows up as CHECK constraints named after OIDs; nullability is in the columns already.
  const constraints = await sql`
    select table_name, constraint_name, constraint_type from information_schema.table_constraints
    where table_schema = ${schema} and constraint_type <> 'CHECK'
    order by table_name, constraint_name`.execute(db.kysely);
  // Each database lives in a schema of its own; its name is the one difference allowed.
  return JSON.parse(
    JSON.stringify({ columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows }).replaceAll(
      schema,
      '<schema>',
    ),
  );
}

async function tableNames(db: CentralDb): Promise<string[]> {
  // Not kysely's introspection: on PostgreSQL it reads every schema, and other test files drop theirs
  // while it does (see 'migrating while another session creates and drops schemas').
  const rows =
    db.dialect === 'postgres'
      ? await sql<{ name: string }>`
          select table_name as name from information_schema.tables
          where table_schema = ${db.schema} and table_name not like 'kysely_%'`.execute(db.kysely)
      : await sql<{ name: string }>`
          select name from sqlite_master
          where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'`.execute(db.kysely);
  return rows.rows.map((x) => x.name).sort();
}

async function seedRows(db: CentralDb, table: SeedTable): Promise<unknown[][]> {
  const { columns } = SEED[table];
  const rows = await db.kysely.selectFrom(table).selectAll().orderBy('id').execute();
  return rows.map((r) => columns.map((c) => (r as Record<string, unknown>)[c]));
}

const T0 = Date.UTC(2026, 0, 15, 12);

/** Representative rows of a running central, inserted with the previous schema. */
async function insertRepresentativeRows(db: CentralDb): Promise<void> {
  const k = db.kysely;
  const user = await k
    .insertInto('users')
    .values({
      username: 'ana',
      email: 'ana@ares.test',
      password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      created_at: T0,
      last_login_at: T0 + 1000,
      is_active: 1,
      token_version: 3,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const admin = await k.selectFrom('roles').select('id').where('name', '=', 'general_admin').executeTakeFirstOrThrow();
  await k.insertInto('user_roles').values({ user_id: user.id, role_id: admin.id }).execute();
  const device = await k
    .insertInto('devices')
    .values({
      cpu_serial: '10000000abcdef01',
      device_uuid: '8f0e4c2a-1b3d-4e5f-9a7b-6c5d4e3f2a1b',
      hardware_version: '4B',
      hardware_variant: 'Pro',
      public_key: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n',
      claim_code_hash: 'hash',
      status: 'provisioned',
      shared_secret: 'c2VjcmV0',
      created_at: T0,
      claimed_at: T0 + 5000,
      last_seen_at: T0 + 9000,
      clock_skew_s: -2,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await k
    .insertInto('user_devices')
    .values({ user_id: user.id, device_id: device.id, role: 'owner', nickname: 'Grandma’s flat', created_at: T0 })
    .execute();
  // An admin's catalog edit and addition: an upgrade must not undo either.
  await k
    .updateTable('supported_components')
    .set({ display_name: 'Relay (10 A)' })
    .where('component_type', '=', 'relay')
    .execute();
  await k
    .insertInto('supported_components')
    .values({
      component_type: 'buzzer',
      display_name: 'Buzzer',
      category: 'actuator',
      description: null,
      component_metadata: '{"states":["ON","OFF"]}',
      telemetry_category: 'status',
    })
    .execute();
  await k
    .insertInto('attached_components')
    .values({
      device_id: device.id,
      component_type: 'dht22',
      name: 'Living room',
      pin_number: 4,
      pin_mode: 'IN',
      default_state: null,
      config: '{"interval_s":30}',
      created_at: T0,
    })
    .execute();
  await k
    .insertInto('telemetry_data')
    .values([
      {
        device_id: device.id,
        seq: 41,
        lane: 'telemetry',
        type: 'reading',
        ts: T0 + 60_000,
        received_at: T0 + 61_000,
        component_type: 'dht22',
        component_id: 'dht22-1',
        node_id: null,
        metric: 'temperature',
        value: 21.5,
        data: null,
        hub_ts: T0 - 3_600_000,
        clock_synced: 0,
      },
      {
        device_id: device.id,
        seq: 42,
        lane: 'alert',
        type: 'fall',
        ts: T0 + 120_000,
        received_at: T0 + 121_000,
        component_type: 'imu',
        component_id: 'imu-1',
        node_id: 'wrist-1',
        metric: null,
        value: null,
        data: '{"prob":0.93}',
        hub_ts: null,
        clock_synced: 1,
      },
    ])
    .execute();
  await k
    .insertInto('device_alerts')
    .values({
      id: '3f1e2d3c-4b5a-4697-8877-665544332211',
      device_id: device.id,
      type: 'fall',
      status: 'acknowledged',
      ts: T0 + 120_000,
      seq: 42,
      node_id: 'wrist-1',
      component_id: 'imu-1',
      prob: 0.93,
      acknowledged_by: 'ana@ares.test',
      acknowledged_at: T0 + 180_000,
      cancelled_by: null,
      cancelled_at: null,
      created_at: T0 + 121_000,
    })
    .execute();
  await k
    .insertInto('mqtt_credentials')
    .values({
      username: 'app-ana-1',
      user_id: user.id,
      secret_hash: 'hash',
      created_at: T0,
      expires_at: T0 + 3_600_000,
    })
    .execute();
  await k
    .insertInto('audit_log')
    .values({ ts: T0, actor_user_id: user.id, action: 'component.update', target: 'relay', details: '{}', ip: '::1' })
    .execute();
}

/** What each table above holds, in a stable order. */
const SNAPSHOT: Record<string, string[]> = {
  users: ['id'],
  user_roles: ['user_id', 'role_id'],
  devices: ['id'],
  user_devices: ['id'],
  supported_components: ['id'],
  attached_components: ['id'],
  telemetry_data: ['id'],
  device_alerts: ['device_id', 'id'],
  mqtt_credentials: ['username'],
  audit_log: ['id'],
};

async function snapshot(db: CentralDb): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [table, order] of Object.entries(SNAPSHOT)) {
    const rows = await sql<Record<string, unknown>>`
      select * from ${sql.table(table)} order by ${sql.join(order.map((c) => sql.ref(c)))}`.execute(db.kysely);
    out[table] = rows.rows;
  }
  return out;
}

const pick = (row: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));

for (const target of await dbTargets()) {
  t.test(`migrations on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const latest = MIGRATION_NAMES.at(-1)!;
    const previous = MIGRATION_NAMES.at(-2)!;

    const fresh = await openDb(t, target, 'fresh');
    t.strictSame(await migrateToLatest(fresh), MIGRATION_NAMES, 'a fresh database runs every migration');
    t.strictSame(await migrateToLatest(fresh), [], 'and nothing the second time');

    t.test('the frozen seed: exactly what 0002 has always inserted', async (t) => {
      for (const table of Object.keys(SEED) as SeedTable[]) {
        t.strictSame(await seedRows(fresh, table), SEED[table].rows, table);
      }
      const roles = SEED.roles.rows.map((r) => r[1]);
      for (const role of GLOBAL_ROLES) t.ok(roles.includes(role), `global role ${role} is seeded`);
    });

    t.test(`upgrade from the previous schema (up to ${previous}) to ${latest}`, async (t) => {
      const db = await openDb(t, target, 'old');
      t.strictSame(await migrateToLatest(db, { upTo: previous }), MIGRATION_NAMES.slice(0, -1));
      await insertRepresentativeRows(db);
      const before = await snapshot(db);
      t.equal(before['telemetry_data']!.length, 2, 'rows are in');

      t.strictSame(await migrateToLatest(db), [latest], 'only the new migration runs');
      const after = await snapshot(db);
      for (const [table, rows] of Object.entries(before)) {
        const afterRows = after[table]!;
        t.equal(afterRows.length, rows.length, `${table}: as many rows`);
        // New columns may appear; every old value stays as it was.
        t.strictSame(
          afterRows.map((r, i) => pick(r, Object.keys(rows[i] ?? {}))),
          rows,
          `${table}: values unchanged`,
        );
      }
      // The seed is not re-run, nor are admins' catalog edits undone.
      t.strictSame(await seedRows(db, 'roles'), SEED.roles.rows);
      t.strictSame(await seedRows(db, 'device_pin_configs'), SEED.device_pin_configs.rows);
      t.equal(
        (await db.kysely.selectFrom('supported_components').selectAll().execute()).length,
        SEED.supported_components.rows.length + 1,
      );

      t.strictSame(await tableNames(db), await tableNames(fresh), 'same tables as a fresh database');
      t.strictSame(await describeSchema(db), await describeSchema(fresh), 'same schema as a fresh database');
    });

    // kysely finds its migration table by introspecting every schema of the database; another
    // session dropping its own schema at that moment (another application; here, other test files
    // do it all the time) must not fail central's start.
    if (target.name === 'postgres')
      t.test('migrating while another session creates and drops schemas', async (t) => {
        const other = await openDb(t, target, 'churn');
        let stop = false;
        let churned = 0;
        const churn = (async () => {
          while (!stop) {
            const name = `${target.schema}_churn_${churned++ % 4}`;
            await sql`create schema ${sql.id(name)}`.execute(other.kysely);
            for (let i = 0; i < 8; i++)
              await sql`create table ${sql.id(name, `t${i}`)} (id serial primary key, v text)`.execute(other.kysely);
            await sql`drop schema ${sql.id(name)} cascade`.execute(other.kysely);
          }
        })();
        try {
          for (let i = 0; i < 6; i++) {
            const db = await openDb(t, target, `race${i}`);
            t.strictSame(await migrateToLatest(db), MIGRATION_NAMES, `migration ${i + 1} under churn`);
          }
        } finally {
          stop = true;
          await churn;
        }
        t.ok(churned > 6, `schemas came and went meanwhile (${churned})`);
      });
  });
}

/**
 * Problems with a migration's imports: anything but kysely and files of the migrations folder must be
 * `import type` (erased at compile time), so nothing a migration runs can change after it shipped.
 */
function importProblems(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const problems: string[] = [];
  const allowedValue = (spec: string) => spec === 'kysely' || /^\.\/[^/]+\.js$/.test(spec);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const spec = node.moduleSpecifier.text;
      if (!allowedValue(spec) && !node.importClause?.isTypeOnly) problems.push(`imports ${spec}`);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const spec = node.moduleSpecifier.text;
      if (!allowedValue(spec) && !node.isTypeOnly) problems.push(`re-exports ${spec}`);
    } else if (ts.isImportEqualsDeclaration(node) && !node.isTypeOnly) {
      problems.push(`import = ${node.moduleReference.getText(file)}`);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword) problems.push(`import(${node.arguments[0]?.getText(file)})`);
      if (ts.isIdentifier(callee) && callee.text === 'require')
        problems.push(`require(${node.arguments[0]?.getText(file)})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return problems;
}

t.test('migrations import nothing that can change under them', async (t) => {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.ts'));
  t.strictSame(
    files
      .filter((f) => /^\d{4}_/.test(f))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort(),
    [...MIGRATION_NAMES].sort(),
    'every migration file is registered in migrate.ts, and every registered one exists',
  );
  for (const f of files) {
    t.strictSame(importProblems(f, readFileSync(join(MIGRATIONS_DIR, f), 'utf8')), [], f);
  }

  // The check itself catches what it should.
  t.strictSame(
    importProblems(
      'x.ts',
      [
        "import { sql, type Kysely } from 'kysely';",
        "import type { Database } from '../types.js';",
        "import * as helper from './helper.js';",
        "import { ROLES } from '../seed-data.js';",
        "import { type DialectName } from '../connect.js';",
        "import '../side-effect.js';",
        "import { readFileSync } from 'node:fs';",
        "export { x } from '../y.js';",
        "const m = await import('../z.js');",
        "const r = require('../w.js');",
      ].join('\n'),
    ),
    [
      'imports ../seed-data.js',
      'imports ../connect.js',
      'imports ../side-effect.js',
      'imports node:fs',
      're-exports ../y.js',
      "import('../z.js')",
      "require('../w.js')",
    ],
  );
});
