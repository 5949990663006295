// Every refusal is a clear, specific error before anything is changed: the migration fails
// with the reason, and no _gho, _ghc or _del table is left behind.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { admin, createTestTable, IS_MYSQL, ServerInstance, failureOf, freshDatabase, input, startTemporal, tablesIn, waitForPhase, type TestTemporal } from './helpers';
import type { MigrationInput } from '../workflows/types';

let temporal: TestTemporal;
before(async () => { temporal = await startTemporal('test-refusals'); });
after(async () => { await temporal.close(); });

async function expectRefusal(db: string, alter: string, message: RegExp, extra: Partial<MigrationInput> = {}, table = 't') {
  const handle = await temporal.start(input(db, table, alter, extra));
  const failure = await failureOf(handle);
  assert.match(failure, message);
  const left = (await tablesIn(db)).filter((t) => /^_.*_(gho|ghc|del)$/.test(t));
  assert.deepEqual(left, [], 'no ghost, changelog or old table is left behind');
}

async function withGlobal(variable: string, value: string, fn: () => Promise<void>) {
  const c = await admin();
  const [[{ v }]] = await c.query<any[]>(`SELECT @@global.${variable} AS v`);
  await c.query(`SET GLOBAL ${variable} = ?`, [value]);
  try {
    await fn();
  } finally {
    await c.query(`SET GLOBAL ${variable} = ?`, [v]);
    await c.end();
  }
}

async function table(db: string) {
  await freshDatabase(db);
  await createTestTable(db, 't', 100);
}

test('refuses a server without binary logging', { timeout: 120_000 }, async () => {
  const dir = join(process.env.REVENANT_TEST_WORK ?? '/tmp/revenant-test', 'nobinlog');
  const port = Number(process.env.REVENANT_TEST_NOBINLOG_PORT ?? 23308);
  const server = new ServerInstance(dir, port, 9, ['--skip-log-bin']);
  await server.start();
  try {
    await freshDatabase('rv_ref_nobinlog', port);
    await createTestTable('rv_ref_nobinlog', 't', 10, port);
    const handle = await temporal.start(input('rv_ref_nobinlog', 't', 'ADD COLUMN x INT', { server: { host: '127.0.0.1', port, user: 'revenant' } }));
    assert.match(await failureOf(handle), /binary logging is off \(log_bin=OFF\) on the server/);
    assert.deepEqual(await tablesIn('rv_ref_nobinlog', port), ['t']);
  } finally {
    await server.stop();
  }
});

test('refuses binlog_format=STATEMENT', async () => {
  await table('rv_ref_stmt');
  await withGlobal('binlog_format', 'STATEMENT', () => expectRefusal('rv_ref_stmt', 'ADD COLUMN x INT', /binlog_format is STATEMENT, but revenant needs ROW/));
});

test('refuses binlog_row_image=MINIMAL', async () => {
  await table('rv_ref_minimal');
  await withGlobal('binlog_row_image', 'MINIMAL', () => expectRefusal('rv_ref_minimal', 'ADD COLUMN x INT', /binlog_row_image is MINIMAL, but revenant needs FULL/));
});

test('refuses a missing table', async () => {
  await freshDatabase('rv_ref_missing');
  await expectRefusal('rv_ref_missing', 'ADD COLUMN x INT', /table rv_ref_missing\.nope does not exist/, {}, 'nope');
});

test('refuses an ALTER without a shared unique key', async () => {
  await table('rv_ref_nokey');
  await expectRefusal('rv_ref_nokey', 'MODIFY id BIGINT NOT NULL, DROP PRIMARY KEY, DROP INDEX uk_idx', /no PRIMARY nor UNIQUE key found in table rv_ref_nokey\.t after the ALTER/);
});

test('refuses a table without any unique key', async () => {
  await freshDatabase('rv_ref_nouk');
  const c = await admin('rv_ref_nouk');
  await c.query('CREATE TABLE t (a INT, b INT); INSERT INTO t VALUES (1, 2)');
  await c.end();
  await expectRefusal('rv_ref_nouk', 'ADD COLUMN x INT', /no PRIMARY nor UNIQUE key found in table rv_ref_nouk\.t:/);
});

test('refuses a unique key on a nullable or FLOAT column', async () => {
  await freshDatabase('rv_ref_float');
  const c = await admin('rv_ref_float');
  await c.query('CREATE TABLE t (f FLOAT NOT NULL, n INT NULL, UNIQUE KEY f_u (f), UNIQUE KEY n_u (n))');
  await c.end();
  await expectRefusal('rv_ref_float', 'ADD COLUMN x INT', /unsuitable shared keys: f_u: float column f; n_u: nullable column n/);
});

test('refuses a table with a foreign key (child and parent)', async () => {
  await table('rv_ref_fk');
  const c = await admin('rv_ref_fk');
  await c.query('CREATE TABLE child (id INT PRIMARY KEY, t_id BIGINT NOT NULL, CONSTRAINT child_t FOREIGN KEY (t_id) REFERENCES t (id)) ENGINE=InnoDB');
  await c.end();
  await expectRefusal('rv_ref_fk', 'ADD COLUMN x INT', /Parent-side foreign keys are not supported: rv_ref_fk\.child references rv_ref_fk\.t \(child_t\)/);
  await expectRefusal('rv_ref_fk', 'ADD COLUMN x INT', /Child-side foreign keys are not supported\. Bailing out: rv_ref_fk\.child references t \(child_t\)/, {}, 'child');
});

test('refuses a table with triggers', async () => {
  await table('rv_ref_trigger');
  const c = await admin('rv_ref_trigger');
  await c.query('CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW SET @x = 1');
  await c.end();
  await expectRefusal('rv_ref_trigger', 'ADD COLUMN x INT', /has triggers \(t_ai\)/);
});

test('refuses bad ALTER syntax, and drops the ghost it made', async () => {
  await table('rv_ref_syntax');
  await expectRefusal('rv_ref_syntax', 'ADD COLUMN x INT NOT NULL DEFAULT', /Error 1064 \(42000\): .*SQL syntax.*\(the ALTER failed on the ghost table rv_ref_syntax\._t_gho\)/);
});

test('refuses RENAME TO', async () => {
  await table('rv_ref_rename');
  await expectRefusal('rv_ref_rename', 'ADD COLUMN x INT, RENAME TO t2', /alter statement seems to RENAME the table \(RENAME TO\)/);
  await expectRefusal('rv_ref_rename', 'RENAME AS t2', /seems to RENAME the table/);
});

test('refuses a column rename without --approve-renamed-columns', async () => {
  await table('rv_ref_colrename');
  await expectRefusal('rv_ref_colrename', 'CHANGE note remark VARCHAR(255)', /renames columns \(note -> remark\).*--approve-renamed-columns/);
});

test('refuses a second migration of the same table, and the first completes', async () => {
  const db = 'rv_ref_second';
  await table(db);
  const first = await temporal.start(input(db, 't', 'ADD COLUMN x INT', { postponeCutOver: true }));
  await waitForPhase(first, ['postponed']);
  // Same workflow id: the server refuses the start.
  await assert.rejects(temporal.start(input(db, 't', 'ADD COLUMN y INT')), /already started/i);
  // Another workflow id (e.g. started by hand): inspection refuses, touching nothing.
  const other = await temporal.client.workflow.start('migrateTable', { taskQueue: temporal.taskQueue, workflowId: `other-${Date.now()}`, args: [input(db, 't', 'ADD COLUMN y INT')] });
  assert.match(await failureOf(other), /changelog table rv_ref_second\._t_ghc exists: another migration of t is running/);
  assert.deepEqual(await tablesIn(db), ['_t_ghc', '_t_gho', 't']);
  await first.signal('cut-over');
  await first.result();
  assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
});

// MySQL's binlog settings that hide whole rows from a binlog reader, and GTID modes a
// checkpoint cannot be trusted in: each refused with the statement that fixes it.
const mysqlOnly = IS_MYSQL ? false : 'a MySQL-only setting';

test('refuses binlog_transaction_compression=ON (MySQL)', { skip: mysqlOnly }, async () => {
  await table('rv_ref_compress');
  await withGlobal('binlog_transaction_compression', 'ON', () =>
    expectRefusal('rv_ref_compress', 'ADD COLUMN x INT', /binlog_transaction_compression is ON: .*SET GLOBAL binlog_transaction_compression = OFF/));
});

test('refuses binlog_row_value_options=PARTIAL_JSON (MySQL)', { skip: mysqlOnly }, async () => {
  await table('rv_ref_partial_json');
  await withGlobal('binlog_row_value_options', 'PARTIAL_JSON', () =>
    expectRefusal('rv_ref_partial_json', 'ADD COLUMN x INT', /binlog_row_value_options is PARTIAL_JSON: .*SET GLOBAL binlog_row_value_options = ''/));
});

test('refuses a transitional gtid_mode (MySQL: ON_PERMISSIVE)', { skip: mysqlOnly }, async () => {
  await table('rv_ref_gtid_mode');
  await withGlobal('gtid_mode', 'ON_PERMISSIVE', () =>
    expectRefusal('rv_ref_gtid_mode', 'ADD COLUMN x INT', /gtid_mode is ON_PERMISSIVE: in a transitional GTID mode/));
});
