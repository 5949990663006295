// Bad and odd inputs, as a careless or an unusual user gives them. Each bad one fails within
// 15 s with a message that names the problem, leaves no _gho/_ghc/_del behind, and the
// original byte-for-byte as it was (its definition and a checksum of every row). Each odd but
// valid one migrates with every row kept.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  createTestTable,
  failureOf,
  failureText,
  freshDatabase,
  input,
  MYSQL_PORT,
  runRevenant,
  showCreate,
  startTemporal,
  tablesIn,
  type TestTemporal,
  migrateArgs,
  tableArgs,
} from '../support/helpers';
import type { MigrationInput, MigrationResult, TablePlan } from '../../model/types';
import { cleanup } from '../../activities/cleanup';
import { credentialsFromEnvironment } from '../../mysql/credentials';
import { connect } from '../../mysql/connection';
import { isStatementError } from '../../mysql/errors';
import { rows } from '../../mysql/query';

const LIMIT_MS = 15_000;
let temporal: TestTemporal;
let wrongPassword: TestTemporal;
/** A worker whose operator admits any server (REVENANT_MYSQL_HOSTS=*): what a name that does not resolve meets. */
let anyHost: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-inputs');
  // A worker whose credentials the server refuses.
  wrongPassword = await startTemporal('test-inputs-wrong-password', { REVENANT_MYSQL_PASSWORD: 'not-the-password' });
  anyHost = await startTemporal('test-inputs-any-host', {
    REVENANT_MYSQL_PASSWORD: 'revenant',
    REVENANT_MYSQL_HOSTS: '*',
  });
});
after(async () => {
  await temporal.close();
  await wrongPassword.close();
  await anyHost.close();
});

/** The original as it is: definition and every row, on all its columns. */
async function snapshot(db: string, table = 't') {
  const tables = await tablesIn(db);
  if (!tables.includes(table)) return { tables };
  return { tables, create: await showCreate(db, table), sum: await checksum(db, table, await columnsOf(db, table)) };
}

async function table(db: string, rows = 200) {
  await freshDatabase(db);
  await createTestTable(db, 't', rows);
}

interface Bad {
  name: string;
  setUp?: (db: string) => Promise<void>;
  alter?: string;
  extra?: Partial<MigrationInput>;
  table?: string;
  via?: 'wrong-password' | 'any-host';
  message: RegExp;
}

const CASES: Bad[] = [
  {
    name: 'a refused password',
    via: 'wrong-password',
    message:
      /cannot log in to 127\.0\.0\.1:\d+ as revenant: Error 1045 \(28000\): Access denied for user 'revenant'.*check --user and --password/,
  },
  {
    name: 'an unknown user',
    extra: { server: { host: '127.0.0.1', port: MYSQL_PORT, user: 'nobody_here' } },
    message: /cannot log in to .* as nobody_here: Error 1045/,
  },
  {
    name: 'a host that does not resolve',
    via: 'any-host',
    extra: { server: { host: 'no-such-host.invalid', port: 3306, user: 'revenant' } },
    message:
      /cannot connect to no-such-host\.invalid:3306: the host name no-such-host\.invalid does not resolve; check --host and --port/,
  },
  {
    name: 'a host the worker was not given',
    extra: { server: { host: 'no-such-host.invalid', port: 3306, user: 'revenant' } },
    message:
      /this worker does not connect to no-such-host\.invalid:3306: its configuration names no such server \(servers on this machine only/,
  },
  {
    name: 'a closed port',
    extra: { server: { host: '127.0.0.1', port: 1, user: 'revenant' } },
    message: /cannot connect to 127\.0\.0\.1:1: nothing listens on port 1 \(connection refused\)/,
  },
  {
    name: 'a missing database',
    extra: { database: 'rv_no_such_db' },
    message: /database rv_no_such_db does not exist \(--database\)/,
  },
  { name: 'a missing table', table: 'nope', message: /table rv_in_\d+\.nope does not exist/ },
  {
    name: 'a view instead of a table',
    table: 'v',
    setUp: async (db) => {
      await exec(db, 'CREATE VIEW v AS SELECT * FROM t');
    },
    message: /rv_in_\d+\.v is a VIEW, not a table/,
  },
  { name: 'an empty ALTER', alter: '   ', message: /the ALTER is empty/ },
  {
    name: 'an ALTER the server cannot parse',
    alter: 'ADD COLUMN x INT NOT NULL DEFAULT',
    message: /Error 1064 \(42000\).*the ALTER failed on the ghost table/,
  },
  {
    name: 'an ALTER naming a missing column',
    alter: 'DROP COLUMN no_such_column',
    message: /Error 1091 \(42000\).*no_such_column/,
  },
  {
    name: 'a duplicate column',
    alter: 'ADD COLUMN name INT',
    message: /Error 1060 \(42S21\): Duplicate column name 'name'/,
  },
  { name: 'RENAME TO', alter: 'RENAME TO t2', message: /seems to RENAME the table/ },
  {
    name: 'a column rename without --approve-renamed-columns',
    alter: 'CHANGE note remark VARCHAR(255)',
    message: /renames columns \(note -> remark\).*--approve-renamed-columns/,
  },
  {
    name: 'an ALTER that leaves no unique key',
    alter: 'MODIFY id BIGINT NOT NULL, DROP PRIMARY KEY, DROP INDEX uk_idx',
    message: /no PRIMARY nor UNIQUE key found in table rv_in_\d+\.t after the ALTER/,
  },
  {
    name: 'a table without a unique key',
    setUp: async (db) => {
      await exec(db, 'DROP TABLE t; CREATE TABLE t (a INT, b INT); INSERT INTO t VALUES (1, 2)');
    },
    message: /no PRIMARY nor UNIQUE key found in table rv_in_\d+\.t:/,
  },
  {
    name: 'a nullable unique key alone',
    setUp: async (db) => {
      await exec(db, 'DROP TABLE t; CREATE TABLE t (n INT NULL, UNIQUE KEY n_u (n)); INSERT INTO t VALUES (1), (2)');
    },
    message: /nullable column n/,
  },
  {
    name: 'a FLOAT unique key alone',
    setUp: async (db) => {
      await exec(db, 'DROP TABLE t; CREATE TABLE t (f FLOAT NOT NULL, UNIQUE KEY f_u (f)); INSERT INTO t VALUES (1.5)');
    },
    message: /float column f/,
  },
  {
    name: 'a child foreign key',
    table: 'child',
    setUp: async (db) => {
      await exec(
        db,
        'CREATE TABLE child (id INT PRIMARY KEY, t_id BIGINT NOT NULL, CONSTRAINT c_t FOREIGN KEY (t_id) REFERENCES t (id))',
      );
    },
    message: /Child-side foreign keys are not supported/,
  },
  {
    name: 'a parent foreign key',
    setUp: async (db) => {
      await exec(
        db,
        'CREATE TABLE child (id INT PRIMARY KEY, t_id BIGINT NOT NULL, CONSTRAINT c_t FOREIGN KEY (t_id) REFERENCES t (id))',
      );
    },
    message: /Parent-side foreign keys are not supported/,
  },
  {
    name: 'triggers',
    setUp: async (db) => {
      await exec(db, 'CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.note = NEW.note');
    },
    message: /has triggers \(t_bi\); --include-triggers/,
  },
  {
    name: 'a leftover ghost table',
    setUp: async (db) => {
      await exec(db, 'CREATE TABLE _t_gho (id INT PRIMARY KEY)');
    },
    message: /ghost table rv_in_\d+\._t_gho exists/,
  },
  {
    name: 'a leftover old table',
    setUp: async (db) => {
      await exec(db, 'CREATE TABLE _t_del (id INT PRIMARY KEY)');
    },
    message: /table rv_in_\d+\._t_del exists \(left by an earlier migration\).*--initially-drop-old-table/,
  },
  {
    name: 'DATETIME to TIMESTAMP in the key',
    setUp: async (db) => {
      await exec(
        db,
        'DROP TABLE t; CREATE TABLE t (d DATETIME NOT NULL PRIMARY KEY, v INT); INSERT INTO t VALUES (NOW(), 1)',
      );
    },
    alter: 'MODIFY d TIMESTAMP NOT NULL',
    message: /converting a column from DATETIME to TIMESTAMP that is also part of the chosen unique key/,
  },
  {
    name: 'a user without the privileges',
    setUp: async () => {
      const a = await admin();
      await a.query(
        "DROP USER IF EXISTS 'rv_weak'@'%'; CREATE USER 'rv_weak'@'%' IDENTIFIED BY 'revenant'; GRANT SELECT ON *.* TO 'rv_weak'@'%'",
      );
      await a.end();
    },
    extra: { server: { host: '127.0.0.1', port: MYSQL_PORT, user: 'rv_weak' } },
    message: /the MySQL user lacks privileges revenant needs: REPLICATION SLAVE, .*ALTER/,
  },
  {
    name: 'a lossy ALTER: values truncated',
    alter: 'MODIFY name VARCHAR(5) NOT NULL',
    message: /the ALTER loses data: .*name "name-\d+" became "name-".*--allow-data-loss/,
  },
  {
    name: 'a lossy ALTER: a unique key over duplicates',
    alter: 'ADD UNIQUE KEY amount_u (created)',
    setUp: async (db) => {
      await exec(db, "UPDATE t SET created = '2024-01-01' WHERE id % 7 = 0");
    },
    message:
      /the ALTER loses data: .*left out \d+ row\(s\) that a unique key of the new table holds once only.*has no place in the new table.*--allow-data-loss/,
  },
  {
    name: 'a lossy ALTER: another charset',
    setUp: async (db) => {
      await exec(
        db,
        "ALTER TABLE t MODIFY note VARCHAR(255) CHARACTER SET utf8mb4 NULL; UPDATE t SET note = '✓ checked' WHERE id = 7",
      );
    },
    alter: 'MODIFY note VARCHAR(255) CHARACTER SET latin1 NULL',
    message: /the ALTER loses data: .*Incorrect string value.*note "✓ checked" became "\? checked".*--allow-data-loss/,
  },
];
const BAD = CASES;

async function exec(db: string, statements: string): Promise<void> {
  const c = await admin(db);
  await c.query(statements);
  await c.end();
}

for (const [i, c] of BAD.entries()) {
  test(`bad input: ${c.name}`, { timeout: 120_000 }, async () => {
    const db = `rv_in_${i}`;
    await table(db);
    await c.setUp?.(db);
    const name = c.table ?? 't';
    const before = await snapshot(db, name);
    const t = c.via === 'wrong-password' ? wrongPassword : c.via === 'any-host' ? anyHost : temporal;
    const started = Date.now();
    const handle = await t.start(
      input(c.extra?.database ?? db, name, c.alter ?? 'ADD COLUMN x INT NOT NULL DEFAULT 1', c.extra),
    );
    const failure = await failureOf(handle);
    const took = Date.now() - started;
    assert.match(failure, c.message);
    assert.ok(took < LIMIT_MS, `failed after ${took} ms (limit ${LIMIT_MS} ms): ${failure}`);
    const left = (await tablesIn(db)).filter((x) => /^_.*_(gho|ghc|del)$/.test(x) && !before.tables.includes(x));
    assert.deepEqual(left, [], 'no ghost, changelog or old table is left behind');
    assert.deepEqual(await snapshot(db, name), before, 'the original is as it was');
    console.log(`${c.name}: ${took} ms: ${failure.slice(0, 160)}`);
  });
}

async function columnsOf(db: string, t: string): Promise<string[]> {
  const c = await admin(db);
  const [r] = await c.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [db, t],
  );
  await c.end();
  return r.map((x) => String(x.COLUMN_NAME));
}

test('bad input: the CLI refuses bad flags at once, before it talks to anything', async () => {
  const base = ['migrate', ...tableArgs('d', 't')];
  for (const [args, message] of [
    [[...base], /--alter is required/],
    [[...base, '--alter', 'ADD c INT', '--chunk-size', '5'], /--chunk-size must be between 10 and 100000, got 5/],
    [[...base, '--alter', 'ADD c INT', '--port', 'x'], /--port takes a whole number, not "x"/],
    [[...base, '--alter', 'ADD c INT', '--critical-load', 'Threads_running'], /critical-load/],
    [[...base, '--alter', 'ADD c INT', '--execute=maybe'], /--execute takes true or false, not "maybe"/],
    [[...base, '--alter', 'ADD c INT', '--allow-on-master', '--migrate-on-replica'], /topolog|one of|together/i],
    [[...base, '--alter', 'ADD c INT', '--no-such-flag'], /unknown flag --no-such-flag/],
  ] as [string[], RegExp][]) {
    const started = Date.now();
    const r = await runRevenant(args, 'test-inputs');
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
    assert.match(r.out, message);
    assert.ok(Date.now() - started < LIMIT_MS);
  }
});

// ---- Odd but valid --------------------------------------------------------------------------

interface Odd {
  name: string;
  create: string;
  table: string;
  columns: string[];
  alter: string;
  extra?: Partial<MigrationInput>;
  /** A lossy ALTER accepted: the rows the migrated table must have (instead of every row). */
  expectRows?: number;
}

const ODD: Odd[] = [
  {
    name: 'names with spaces, backquotes and non-ASCII letters',
    table: 'wéird `tab le',
    create: 'CREATE TABLE `wéird ``tab le` (`the id` INT NOT NULL PRIMARY KEY, `sp ``ace` VARCHAR(20), `ünï` INT)',
    columns: ['the id', 'sp `ace', 'ünï'],
    alter: 'ADD COLUMN `new ``one` INT NOT NULL DEFAULT 5',
  },
  {
    name: 'reserved words as column names',
    table: 'orders',
    create:
      'CREATE TABLE orders (`select` INT NOT NULL, `order` VARCHAR(40) NOT NULL, `from` DATE, PRIMARY KEY (`select`, `order`))',
    columns: ['select', 'order', 'from'],
    alter: 'ADD COLUMN `where` INT',
  },
  {
    name: 'an empty table',
    table: 'nothing_here',
    create: 'CREATE TABLE nothing_here (id INT PRIMARY KEY, v INT)',
    columns: ['id', 'v'],
    alter: 'ADD INDEX v_idx (v)',
  },
  {
    name: 'a table that is only its key',
    table: 'keyonly',
    create: 'CREATE TABLE keyonly (id BIGINT UNSIGNED PRIMARY KEY)',
    columns: ['id'],
    alter: 'ADD COLUMN c INT',
  },
  {
    name: 'a VARCHAR unique key, no primary key',
    table: 'byname',
    create: 'CREATE TABLE byname (name VARCHAR(40) CHARACTER SET utf8mb4 NOT NULL, v INT, UNIQUE KEY name_u (name))',
    columns: ['name', 'v'],
    alter: 'ADD COLUMN w INT NOT NULL DEFAULT 0',
  },
  {
    name: 'an ENUM primary key',
    table: 'byenum',
    create: "CREATE TABLE byenum (e ENUM('z', 'a', 'm') NOT NULL PRIMARY KEY, v INT)",
    columns: ['e', 'v'],
    alter: 'ADD COLUMN w INT',
  },
  {
    name: '`ALTER TABLE t` prefix and a trailing semicolon',
    table: 'prefixed',
    create: 'CREATE TABLE prefixed (id INT PRIMARY KEY, v INT)',
    columns: ['id', 'v'],
    alter: 'ALTER TABLE prefixed ADD COLUMN w INT;',
  },
  {
    name: 'a column dropped and added again (a new column, as in gh-ost)',
    table: 'readd',
    create: 'CREATE TABLE readd (id INT PRIMARY KEY, c1 INT NULL)',
    columns: ['id'],
    alter: 'DROP COLUMN c1, ADD COLUMN c1 INT NOT NULL DEFAULT 47',
  },
  {
    name: 'values truncated, accepted with --allow-data-loss',
    table: 'lossy',
    create: 'CREATE TABLE lossy (id INT PRIMARY KEY, s VARCHAR(40))',
    columns: ['id'],
    alter: 'MODIFY s VARCHAR(3)',
    extra: { allowDataLoss: true },
  },
  {
    name: 'another charset, accepted with --allow-data-loss',
    table: 'latin',
    create:
      "CREATE TABLE latin (id INT PRIMARY KEY, s VARCHAR(40) CHARACTER SET utf8mb4); INSERT INTO latin VALUES (10, '✓ one')",
    columns: ['id'],
    alter: 'MODIFY s VARCHAR(40) CHARACTER SET latin1',
    extra: { allowDataLoss: true },
  },
  {
    name: 'a unique key over duplicates, accepted with --allow-data-loss',
    table: 'dups',
    create: 'CREATE TABLE dups (id INT PRIMARY KEY, a INT NOT NULL); INSERT INTO dups VALUES (11, 1), (12, 1), (13, 2)',
    columns: ['id'],
    alter: 'ADD UNIQUE KEY a_u (a)',
    extra: { allowDataLoss: true },
    expectRows: 3,
  },
];

for (const [i, c] of ODD.entries()) {
  test(`odd but valid: ${c.name}`, { timeout: 120_000 }, async () => {
    const db = `rv_odd_${i}`;
    await freshDatabase(db);
    await exec(db, c.create);
    const cols = c.columns.map((x) => `\`${x.replace(/`/g, '``')}\``).join(', ');
    const quoted = `\`${c.table.replace(/`/g, '``')}\``;
    if (c.name !== 'an empty table') {
      const values = Array.from({ length: 3 }, (_, k) => k + 1);
      const [colDefs] = await admin(db).then(async (a) => {
        const r = await a.query<RowDataPacket[]>(
          'SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
          [db, c.table],
        );
        await a.end();
        return r;
      });
      const literal = (type: string, k: number) =>
        /char|text/.test(type)
          ? `'välue ${k} ${'x'.repeat(10)}'`
          : type === 'enum'
            ? `${k}`
            : type === 'date'
              ? `'2024-01-0${k}'`
              : `${k}`;
      for (const k of values) {
        await exec(
          db,
          `INSERT INTO ${quoted} (${colDefs.map((d: any) => `\`${String(d.COLUMN_NAME).replace(/`/g, '``')}\``).join(', ')}) VALUES (${colDefs.map((d: any) => literal(String(d.DATA_TYPE), k)).join(', ')})`,
        );
      }
    }
    const before = await checksum(db, c.table, c.columns);
    const handle = await temporal.start(input(db, c.table, c.alter, { approveRenamedColumns: true, ...c.extra }));
    const result = (await handle.result()) as MigrationResult;
    assert.equal(result.status.phase, 'completed', result.status.message);
    if (c.expectRows !== undefined)
      assert.equal((await checksum(db, c.table, c.columns)).rows, c.expectRows, 'the rows the accepted loss leaves');
    else assert.deepEqual(await checksum(db, c.table, c.columns), before, `every row kept (${cols})`);
    if (c.table === 'readd') {
      const a = await admin(db);
      const [[r]] = await a.query<RowDataPacket[]>('SELECT COUNT(*) AS n, MIN(c1) AS lo, MAX(c1) AS hi FROM readd');
      await a.end();
      assert.deepEqual(
        [Number(r.n), Number(r.lo), Number(r.hi)],
        [3, 47, 47],
        'the re-added column holds its new default',
      );
    }
  });
}

test('odd but valid: every column dropped but the key', { timeout: 120_000 }, async () => {
  await table('rv_odd_dropall');
  const handle = await temporal.start(
    input(
      'rv_odd_dropall',
      't',
      'DROP COLUMN uk, DROP COLUMN name, DROP COLUMN amount, DROP COLUMN note, DROP COLUMN created, ADD COLUMN z INT',
    ),
  );
  const result = (await handle.result()) as MigrationResult;
  assert.equal(result.status.phase, 'completed', result.status.message);
  assert.deepEqual(await checksum('rv_odd_dropall', 't', ['id']), await checksum('rv_odd_dropall', '_t_del', ['id']));
});

test("an applier error that recurs fails the migration within a minute, the server's error in the CLI's last line", {
  timeout: 180_000,
}, async () => {
  const db = 'rv_in_recurring';
  await table(db, 2_000);
  const r = runRevenant(
    [
      ...migrateArgs(db, 't', 'ADD COLUMN x INT NOT NULL DEFAULT 1'),
      '--allow-on-master',
      '--execute',
      '--checksum=false',
      '--copy-start-delay-millis',
      '4000',
    ],
    'test-inputs',
  );
  // The ghost exists while the copy waits: a trigger on it refuses one value, every time.
  for (let i = 0; !(await tablesIn(db)).includes('_t_gho'); i++) {
    assert.ok(i < 200, 'the ghost was created');
    await new Promise((res) => setTimeout(res, 50));
  }
  await exec(
    db,
    "CREATE TRIGGER refuse_boom BEFORE INSERT ON _t_gho FOR EACH ROW BEGIN IF NEW.note = 'boom' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the ghost refuses boom'; END IF; END",
  );
  await exec(db, "INSERT INTO t (uk, name, amount, note, created) VALUES (99999999, 'x', 1, 'boom', NOW())");
  const started = Date.now();
  const { code, out } = await r;
  const took = Date.now() - started;
  assert.equal(code, 1, out);
  const last = out.trim().split('\n').pop() ?? '';
  // The applier meets the row, or the copy does if it read the key range after the insert.
  assert.match(
    last,
    /^ERROR Error 1644 \(45000\): the ghost refuses boom \((applying binlog events up to|copying keys) .*, tried 60 times\)/,
    out,
  );
  assert.ok(took < 60_000, `failed ${took} ms after the refused change was written`);
  assert.deepEqual(
    (await tablesIn(db)).filter((x) => x === '_t_del'),
    [],
    'no cut-over',
  );
});

test('--mysql-timeout: a statement unanswered that long has its connection closed, and is retried as a lost one', {
  timeout: 60_000,
}, async () => {
  const server = { host: '127.0.0.1', port: MYSQL_PORT, user: 'revenant', timeoutSeconds: 0.5 };
  const credentials = credentialsFromEnvironment({ REVENANT_MYSQL_PASSWORD: 'revenant' });
  const conn = await connect(server, credentials);
  const [one] = await rows(conn, { sql: 'SELECT 1 AS one', params: [] });
  assert.equal(Number(one.one), 1);
  const started = Date.now();
  await assert.rejects(
    rows(conn, { sql: 'SELECT SLEEP(3)', params: [] }),
    (e: unknown) =>
      /127\.0\.0\.1:\d+ did not answer within 0\.5 s \(--mysql-timeout\)/.test(failureText(e)) && !isStatementError(e),
  );
  assert.ok(Date.now() - started < 2000, `gave up after ${Date.now() - started} ms`);
  await assert.rejects(
    rows(conn, { sql: 'SELECT 1', params: [] }),
    'the connection is closed, not left to read the late answer',
  );
  // Without the flag, no limit.
  const patient = await connect({ ...server, timeoutSeconds: undefined }, credentials);
  const [slept] = await rows(patient, { sql: 'SELECT SLEEP(1) AS s', params: [] });
  assert.equal(Number(slept.s), 0, 'SLEEP(1) ran to its end');
  patient.destroy();
});

test("cleanup: a drop held by another session's open transaction fails within its bound, and drops nothing else", {
  timeout: 90_000,
}, async () => {
  const db = 'rv_cleanup_held';
  await freshDatabase(db);
  const c = await admin(db);
  const holder = await admin(db);
  try {
    await c.query('CREATE TABLE t (id INT PRIMARY KEY)');
    await c.query('CREATE TABLE _t_ghc (id INT PRIMARY KEY)');
    await c.query('CREATE TABLE _t_del (id INT PRIMARY KEY)');
    // A transaction that read the changelog holds its metadata lock until it ends.
    await holder.query('START TRANSACTION');
    await holder.query('SELECT COUNT(*) FROM _t_ghc');
    const migration = input(db, 't', 'ADD COLUMN x INT');
    const plan = { database: db, table: 't', changelogTable: '_t_ghc', oldTable: '_t_del' } as TablePlan;
    const credentials = credentialsFromEnvironment({ REVENANT_MYSQL_PASSWORD: 'revenant' });
    const started = Date.now();
    await assert.rejects(cleanup(credentials, migration, plan), (e: unknown) =>
      /Lock wait timeout exceeded/.test(failureText(e)),
    );
    const waited = Date.now() - started;
    // The bound (30 s), not a year: a retry of the activity logs it and tries again.
    assert.ok(waited >= 25_000 && waited < 60_000, `the drop waited ${waited} ms`);
    assert.deepEqual(await tablesIn(db), ['_t_del', '_t_ghc', 't'], 'nothing dropped');
    await holder.query('COMMIT');
    await cleanup(credentials, migration, plan);
    assert.deepEqual(await tablesIn(db), ['_t_del', 't'], 'the changelog dropped once the transaction ended');
  } finally {
    await holder.end();
    await c.end();
  }
});
