// Refusals of the server's settings (and of a second migration of a table): a clear, specific
// error before anything is changed, the migration fails with the reason, and no _gho, _ghc or
// _del table is left behind.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  admin,
  createTestTable,
  IS_MYSQL,
  MYSQL_PORT,
  ServerInstance,
  failureOf,
  freshDatabase,
  input,
  startTemporal,
  tablesIn,
  waitForPhase,
  type TestTemporal,
} from '../support/helpers';
import type { MigrationInput } from '../../model/types';
import { cutOverSignal } from '../../model/messages';

let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-refusals');
});
after(async () => {
  await temporal.close();
});

async function expectRefusal(
  db: string,
  alter: string,
  message: RegExp,
  extra: Partial<MigrationInput> = {},
  table = 't',
) {
  const handle = await temporal.start(input(db, table, alter, extra));
  const failure = await failureOf(handle);
  assert.match(failure, message);
  const left = (await tablesIn(db)).filter((t) => /^_.*_(gho|ghc|del)$/.test(t));
  assert.deepEqual(left, [], 'no ghost, changelog or old table is left behind');
}

async function withGlobal(variable: string, value: string, fn: () => Promise<void>) {
  const c = await admin();
  // SHOW gives the setting as text ('OFF'); @@global gives a boolean as 0, which SET refuses as '0'.
  const [[{ Value: v }]] = await c.query<RowDataPacket[]>('SHOW GLOBAL VARIABLES LIKE ?', [variable]);
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
    const handle = await temporal.start(
      input('rv_ref_nobinlog', 't', 'ADD COLUMN x INT', { server: { host: '127.0.0.1', port, user: 'revenant' } }),
    );
    assert.match(await failureOf(handle), /binary logging is off \(log_bin=OFF\) on the server/);
    assert.deepEqual(await tablesIn('rv_ref_nobinlog', port), ['t']);
  } finally {
    await server.stop();
  }
});

test('refuses binlog_format=STATEMENT', async () => {
  await table('rv_ref_stmt');
  await withGlobal('binlog_format', 'STATEMENT', () =>
    expectRefusal('rv_ref_stmt', 'ADD COLUMN x INT', /binlog_format is STATEMENT, but revenant needs ROW/),
  );
});

test('refuses binlog_row_image=MINIMAL', async () => {
  await table('rv_ref_minimal');
  await withGlobal('binlog_row_image', 'MINIMAL', () =>
    expectRefusal('rv_ref_minimal', 'ADD COLUMN x INT', /binlog_row_image is MINIMAL, but revenant needs FULL/),
  );
});

// Refusals of tables, keys and ALTERs are in inputs.test.ts, with the bad inputs.

test('refuses a second migration of the same table, and the first completes', async () => {
  const db = 'rv_ref_second';
  await table(db);
  const first = await temporal.start(input(db, 't', 'ADD COLUMN x INT', { postponeCutOver: true }));
  await waitForPhase(first, ['postponed']);
  // Same workflow id: the server refuses the start.
  await assert.rejects(temporal.start(input(db, 't', 'ADD COLUMN y INT')), /already started/i);
  // Another workflow id (e.g. started by hand): inspection refuses, touching nothing.
  const other = await temporal.client.workflow.start('migrateTable', {
    taskQueue: temporal.taskQueue,
    workflowId: `other-${Date.now()}`,
    args: [input(db, 't', 'ADD COLUMN y INT')],
  });
  assert.match(
    await failureOf(other),
    /changelog table rv_ref_second\._t_ghc exists: another migration of t is running/,
  );
  assert.deepEqual(await tablesIn(db), ['_t_ghc', '_t_gho', 't']);
  await first.signal(cutOverSignal);
  await first.result();
  assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
});

// MySQL's binlog settings that hide whole rows from a binlog reader, and GTID modes a
// checkpoint cannot be trusted in: each refused with the statement that fixes it.
const mysqlOnly = IS_MYSQL ? false : 'a MySQL-only setting';

test('refuses binlog_transaction_compression=ON (MySQL)', { skip: mysqlOnly }, async () => {
  await table('rv_ref_compress');
  await withGlobal('binlog_transaction_compression', 'ON', () =>
    expectRefusal(
      'rv_ref_compress',
      'ADD COLUMN x INT',
      /binlog_transaction_compression is ON: .*SET GLOBAL binlog_transaction_compression = OFF/,
    ),
  );
});

test('refuses binlog_row_value_options=PARTIAL_JSON (MySQL)', { skip: mysqlOnly }, async () => {
  await table('rv_ref_partial_json');
  await withGlobal('binlog_row_value_options', 'PARTIAL_JSON', () =>
    expectRefusal(
      'rv_ref_partial_json',
      'ADD COLUMN x INT',
      /binlog_row_value_options is PARTIAL_JSON: .*SET GLOBAL binlog_row_value_options = ''/,
    ),
  );
});

test('refuses a transitional gtid_mode (MySQL: ON_PERMISSIVE)', { skip: mysqlOnly }, async () => {
  await table('rv_ref_gtid_mode');
  await withGlobal('gtid_mode', 'ON_PERMISSIVE', () =>
    expectRefusal('rv_ref_gtid_mode', 'ADD COLUMN x INT', /gtid_mode is ON_PERMISSIVE: in a transitional GTID mode/),
  );
});

test("refuses a server reached through a forwarded port (gh-ost's port check); --skip-port-validation goes through", {
  timeout: 120_000,
}, async () => {
  await table('rv_ref_port');
  // A TCP forwarder on another port: the server reached says its port is MYSQL_PORT.
  const forwarder = createServer((client) => {
    const upstream = connect(MYSQL_PORT, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  const port = MYSQL_PORT + 50;
  await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
  try {
    const server = { host: '127.0.0.1', port, user: 'revenant' };
    await expectRefusal(
      'rv_ref_port',
      'ADD COLUMN x INT',
      new RegExp(
        `unexpected database port reported: the server reached on port ${port} says its port is ${MYSQL_PORT}; through a proxy or a forwarded port, add --skip-port-validation`,
      ),
      { server },
    );
    const handle = await temporal.start(
      input('rv_ref_port', 't', 'ADD COLUMN x INT', { server, skipPortValidation: true, execute: false }),
    );
    const r: any = await handle.result();
    assert.equal(r.status.phase, 'dry-run-completed', r.status.message);
  } finally {
    forwarder.close();
  }
});

test('a statement the server refuses as written, once the ghost exists, fails at once and leaves nothing', {
  timeout: 120_000,
}, async () => {
  const db = 'rv_refused_statement';
  await freshDatabase(db);
  await createTestTable(db, 't', 2000);
  // A SELECT (the settings' rule) the server cannot parse: each try would fail the same way.
  const handle = await temporal.start(
    input(db, 't', 'ADD COLUMN r INT NULL', { throttleQuery: 'SELECT FROM WHERE', copyStartDelayMillis: 500 }),
  );
  const began = Date.now();
  const failure = await failureOf(handle);
  assert.match(failure, /refuses a statement as written/);
  assert.match(failure, /the ghost table and changelog were dropped/);
  assert.ok(Date.now() - began < 30_000, `failed in ${Date.now() - began} ms, not retried for minutes`);
  assert.deepEqual(await tablesIn(db), ['t']);
});
