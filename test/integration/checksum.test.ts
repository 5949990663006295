// --checksum (on by default in the CLI) finds a ghost that differs from the original (a row
// written behind the applier's back), copies the differing range again and compares it again
// in a new snapshot: the migration completes equal, and says what it repaired. A
// worker killed mid-checksum: another attempt compares again from the start, and the
// migration completes.
// (That it passes on equal tables, under write load and for each kind of ALTER, is in
// migrations.test.ts.)
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import {
  admin,
  checksum,
  createTestTable,
  freshDatabase,
  input,
  startTemporal,
  tablesIn,
  TEMPORAL_ADDRESS,
  waitForPhase,
  WorkerProcess,
  type TestTemporal,
} from '../support/helpers';
import { checksumSummary, migrationWorkflowId, type MigrationResult } from '../../model/types';
import { comparableColumns, hashedAsTheyAre } from '../../activities/checksum';
import * as sql from '../../mysql/statements';

const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-checksum');
});
after(async () => {
  await temporal.close();
});

test('--checksum: values of every type hash alike as they are and cast to binary, when their text is in one collation', async () => {
  const db = 'rv_checksum_bare';
  await freshDatabase(db);
  const c = await admin(db);
  try {
    await c.query('SET NAMES utf8mb4');
    await c.query(
      `CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20), a2 CHAR(10), f FLOAT, g DOUBLE, h DECIMAL(20,6),
        i DATETIME(6), j TIMESTAMP(3) NULL, k TIME(2), l YEAR, m BIT(10), n ENUM('x','y','é'), o SET('p','q'),
        p VARBINARY(10), q BLOB, r JSON, s TINYINT UNSIGNED, u BIGINT, v DATE, w BINARY(4), x TEXT)
        DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
    );
    await c.query(
      `INSERT INTO t VALUES
        (1, 'Ä€😀', 'ab', 0.1, 1e-300, 12345.678901, '2020-01-02 03:04:05.123456', '2021-02-03 04:05:06.789',
         '-838:59:58.99', 2024, b'1010101010', 'é', 'p,q', 0x00ff1f, 0xfffe1f00c3, '{"a": [1, 2.50, "x"], "é": null}',
         255, -9223372036854775808, '2020-02-29', 0x01ff, 'ß😀'),
        (2, '', '', 3.4e38, -0.0, -0.000001, '1000-01-01 00:00:00', NULL, '00:00:00', 1901, b'0', 'x', '', '', '',
         'null', 0, 0, '1000-01-01', 0x00000000, ''),
        (3, NULL, 'z', 1.17549435e-38, 1.7976931348623157e308, 0, NULL, '2038-01-19 03:14:07.999', NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    );
    const columnsOfT = sql.columnsOf(db, 't');
    const [types] = await c.query<RowDataPacket[]>(columnsOfT.sql, columnsOfT.params);
    const names = types.map((t) => String(t.COLUMN_NAME));
    const mapping = names.map((n) => ({ source: n, ghost: n }));
    const { compared, bare } = comparableColumns(mapping, types as never, types as never);
    // MariaDB's JSON is text in utf8mb4_bin: a second collation, so its checksum casts here.
    const json = types.find((t) => t.COLUMN_NAME === 'r')!;
    assert.equal(bare, json.CHARACTER_SET_NAME === null, `one collation of text: hashed as they are (${bare})`);
    const notNull = compared.map((m) => m.notNull);
    // Row by row: a difference in one row must not hide behind another's.
    for (const id of [1n, 2n, 3n]) {
      const range = { from: [id], fromInclusive: true, to: [id] };
      const hash = async (asTheyAre: boolean | boolean[]) => {
        const each = typeof asTheyAre === 'boolean' ? names.map(() => asTheyAre) : asTheyAre;
        const q = sql.rangeChecksum(db, 't', 'PRIMARY', ['id'], names, range, notNull, each);
        const [[r]] = await c.query<RowDataPacket[]>(q.sql, q.params);
        return `${r.n} ${r.s}`;
      };
      assert.equal(await hash(true), await hash(false), `row ${id}: the same hash as they are and cast`);
      // MySQL's mix: the values without a charset cast, the text as it is.
      const mixed = hashedAsTheyAre(compared, true, true);
      assert.ok(mixed.includes(true) && mixed.includes(false));
      assert.equal(await hash(mixed), await hash(false), `row ${id}: the same hash with numbers cast, text as it is`);
      // The row's bytes as one CONCAT_WS of every value and its ISNULL gave them before the
      // values were joined by CONCAT: a checksum of either form compares alike.
      const joined = names
        .map((n, i) => (notNull[i] ? `CAST(\`${n}\` AS BINARY)` : `CAST(\`${n}\` AS BINARY), ISNULL(\`${n}\`)`))
        .join(', ');
      const [[one]] = await c.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n, COALESCE(SUM(CRC32(CONCAT_WS(0x1f, ${joined}))), 0) AS s FROM t WHERE id = ?`,
        [id],
      );
      assert.equal(await hash(false), `${one.n} ${one.s}`, `row ${id}: the same hash as one CONCAT_WS`);
    }
    // Text in two collations: cast, as MariaDB refuses to join them.
    await c.query('ALTER TABLE t ADD COLUMN y VARCHAR(9) COLLATE utf8mb4_bin');
    const [retyped] = await c.query<RowDataPacket[]>(columnsOfT.sql, columnsOfT.params);
    const all = retyped.map((t) => ({ source: String(t.COLUMN_NAME), ghost: String(t.COLUMN_NAME) }));
    assert.equal(comparableColumns(all, retyped as never, retyped as never).bare, false);
  } finally {
    await c.end();
  }
});

test('--checksum: a ghost row damaged behind the applier is found, its range copied again, and the migration completes equal', {
  timeout: 300_000,
}, async () => {
  const db = 'rv_checksum_differs';
  await freshDatabase(db);
  await createTestTable(db, 't', 50_000);
  // The copy is held back 3 s: a row written into the empty ghost now makes the copy skip the
  // original's row of that key (INSERT IGNORE), and writes to the ghost are not in the
  // applier's stream: the ghost ends up differing in one row, however fast the copy is.
  const handle = await temporal.start(
    input(db, 't', 'ADD COLUMN c INT NOT NULL DEFAULT 0', { checksum: true, copyStartDelayMillis: 3000 }),
  );
  const s = await waitForPhase(handle, ['migrating', 'failed']);
  assert.equal(s.phase, 'migrating', s.message);
  const c = await admin(db);
  // Row 25,000 falls in the 3rd of the checksum's 10,000-row ranges.
  await c.query(
    "INSERT INTO _t_gho (id, uk, name, amount, note, created) SELECT id, uk, 'written behind the applier', amount, note, created FROM t WHERE id = 25000",
  );
  const [[{ n }]] = await c.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM _t_gho');
  await c.end();
  assert.equal(Number(n), 1, 'the copy had not started');
  const result = (await handle.result()) as MigrationResult;
  assert.equal(result.status.phase, 'completed');
  assert.equal(
    result.status.checksum?.repairedRanges,
    1,
    `one range repaired: ${JSON.stringify(result.status.checksum)}`,
  );
  assert.match(checksumSummary(result.status.checksum!), /1 differing range copied again and found equal/);
  assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
  assert.deepEqual(
    await checksum(db, 't', COLS),
    await checksum(db, '_t_del', COLS),
    'the migrated table equals the original, the damaged row repaired',
  );
  const a = await admin(db);
  const [[row]] = await a.query<RowDataPacket[]>('SELECT name FROM t WHERE id = 25000');
  await a.end();
  assert.equal(row.name, 'name-25000');
});

test('--checksum: a worker killed mid-checksum; the next attempt compares again and the migration completes', {
  timeout: 300_000,
}, async () => {
  const db = 'rv_checksum_killed';
  await freshDatabase(db);
  // A million rows: about a second of checksum (100 ranges), a wide window for the kill.
  await createTestTable(db, 't', 1_000_000);
  const queue = 'test-checksum-kill';
  const worker = new WorkerProcess(queue);
  await worker.start();
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const i = input(db, 't', 'ADD COLUMN c INT NOT NULL DEFAULT 0', { checksum: true });
  const handle = await client.workflow.start('migrateTable', {
    taskQueue: queue,
    workflowId: migrationWorkflowId(i.server, db, 't'),
    args: [i],
  });
  try {
    for (;;) {
      const d = await handle.describe();
      assert.equal(d.status.name, 'RUNNING', 'the migration ended before its checksum was seen running');
      // PENDING_ACTIVITY_STATE_STARTED
      if (d.raw.pendingActivities?.some((a) => a.activityType?.name === 'checksumTables' && Number(a.state) === 2))
        break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    await worker.restart();
    const r = (await handle.result()) as MigrationResult;
    assert.equal(r.status.phase, 'completed');
    assert.equal(r.status.checksum?.rowsCompared, 1_000_000);
    // The attempt that completed the checksum is not the first (the first died with its worker).
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checksumTables',
    );
    const started = events.find(
      (e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1) === Number(scheduled?.eventId),
    );
    assert.ok(
      Number(started?.activityTaskStartedEventAttributes?.attempt) >= 2,
      `checksum attempt ${started?.activityTaskStartedEventAttributes?.attempt}`,
    );
    assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));
  } finally {
    worker.kill9();
    await connection.close();
  }
});
