// Column kinds where the servers differ, under concurrent writes: expression defaults
// (DEFAULT CURRENT_TIMESTAMP, ON UPDATE: MySQL's information_schema says DEFAULT_GENERATED for
// them, and a column taken for a generated one would be left out of copy and apply), JSON
// (binary in MySQL's binlog, text in MariaDB's), virtual and stored generated columns, text in
// the server's own default collation (utf8mb4_0900_ai_ci on MySQL), and the numeric, temporal,
// binary, BIT, ENUM and SET kinds. With writes stopped before the cut-over, the migrated table
// equals the original row for row on every stored column.
// JSON documents carry what MySQL's binary JSON keeps and its text loses: integral doubles
// (24.0), DECIMALs, DATEs, DATETIMEs, TIMEs, unsigned integers and binary strings inside a
// document, and documents past 64 KiB (the large format); each must come out of the binlog
// with its type, which JSON_TYPE and the text (24.0 is not 24) both check.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  failureOf,
  freshDatabase,
  input,
  IS_MYSQL,
  seq,
  startTemporal,
  tablesIn,
  waitForPhase,
  type TestTemporal,
  WRITE_PAUSE_MS,
} from '../support/helpers';
import { sleep } from '../support/wait';
import type { MigrationResult } from '../../model/types';
import { cutOverSignal } from '../../model/messages';

const ROWS = 30_000;
let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-types');
});
after(async () => {
  await temporal.close();
});

// MariaDB 10.11 has no utf8mb4_0900_ai_ci (11.4.5 maps it to uca1400); its nearest is unicode_ci.
const COLLATION = IS_MYSQL ? 'utf8mb4_0900_ai_ci' : 'utf8mb4_unicode_ci';
const STORED = [
  'id',
  'created',
  'updated',
  'seen',
  'doc',
  'qty',
  'qty3',
  'name',
  'raw',
  'f',
  'd',
  'e',
  'st',
  'b',
  'yr',
  'tm',
  'big',
  'txt',
];

async function writer(db: string, index: number, stop: () => boolean, ledger: string[]): Promise<number> {
  const c = await admin(db);
  let n = 0;
  const rnd = (max: number) => 1 + Math.floor(Math.random() * max);
  const names = ['Ålborg', 'straße', 'ÉCOLE', 'naïve ☃', 'emoji 🐬', 'Ωmega', 'plain'];
  try {
    while (!stop()) {
      n++;
      const op = n % 6;
      const doc = JSON.stringify({
        n,
        w: index,
        s: names[n % names.length],
        // biome-ignore lint/correctness/noPrecisionLoss: a JSON number past 2^53, as an application may write one.
        nested: { a: [1, 2.5, null, true, 'x'], big: 9007199254740993 },
        empty: {},
      });
      try {
        if (op === 0) {
          const name = `live-${index}-${n}`;
          await c.query(
            `INSERT INTO t (doc, qty, name, raw, f, d, e, st, b, yr, tm, big, txt) VALUES (?, ?, ?, UNHEX(?), ?, ?, ?, ?, b'10101', 2024, '12:34:56.789', ?, ?)`,
            [
              doc,
              n,
              name,
              (n * 7919).toString(16).padStart(8, '0'),
              n / 3,
              n / 7,
              ['a', 'b', 'c'][n % 3],
              ['x', 'y', 'x,y', ''][n % 4],
              String(2n ** 63n - BigInt(n)),
              names[n % names.length].repeat(3),
            ],
          );
          ledger.push(name);
        } else if (op === 1) {
          await c.query('UPDATE t SET qty = qty + 1, doc = ? WHERE id = ?', [doc, rnd(ROWS)]);
        } else if (op === 2) {
          // The ON UPDATE column moves by itself; JSON changed in place, with values of types
          // that only binary JSON keeps, and now and then past 64 KiB.
          await c.query(
            `UPDATE t SET doc = JSON_SET(COALESCE(doc, '{}'), '$.touched', ?, '$.dec', CAST(? AS DECIMAL(14,4)), '$.neg', CAST(? AS DECIMAL(30,12)),
              '$.dbl', CAST(? AS DOUBLE), '$.u', CAST(? AS UNSIGNED), '$.day', CAST('2024-02-29' AS DATE), '$.when', CAST(? AS DATETIME(6)),
              '$.t', CAST('-01:02:03.5' AS TIME(6)), '$.bin', CAST(? AS BINARY), '$.list', JSON_ARRAY(CAST(? AS DECIMAL(5,2)), ?, CAST(1 AS DOUBLE)),
              '$.pad', ?) WHERE id = ?`,
            [
              n,
              n / 4,
              -n / 8,
              n,
              n,
              `2024-05-06 07:08:09.${String(n % 1000000).padStart(6, '0')}`,
              Buffer.from([0, n % 256, 255]),
              -(n % 999) / 100,
              `s${n}`,
              n % 10 === 0 ? 'p'.repeat(70_000) : '',
              rnd(ROWS),
            ],
          );
        } else if (op === 3) {
          await c.query('UPDATE t SET name = ?, e = NULL, st = ?, seen = NULL WHERE id = ?', [
            names[n % names.length],
            'y',
            rnd(ROWS),
          ]);
        } else if (op === 4) {
          await c.query('DELETE FROM t WHERE id = ?', [rnd(ROWS)]);
        } else {
          await c.query('UPDATE t SET id = id + 10000000 WHERE id = ?', [rnd(ROWS)]);
        }
      } catch (e) {
        // Two writers moving the same row, or waiting on each other: the application's lot, not the migration's.
        if (!['ER_DUP_ENTRY', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'].includes((e as { code?: string }).code ?? ''))
          throw e;
      }
      await sleep(WRITE_PAUSE_MS);
    }
  } finally {
    await c.end();
  }
  return n;
}

test(`expression defaults, ON UPDATE, JSON, generated columns and ${COLLATION} text under concurrent writes`, {
  timeout: 300_000,
}, async () => {
  const db = 'rv_types';
  await freshDatabase(db);
  const c = await admin(db);
  await c.query(`CREATE TABLE t (
      id BIGINT NOT NULL AUTO_INCREMENT,
      created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      updated TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
      seen DATETIME NULL DEFAULT CURRENT_TIMESTAMP,
      doc JSON NULL,
      qty INT NOT NULL,
      qty2 INT AS (qty * 2) VIRTUAL,
      qty3 INT AS (qty * 3) STORED,
      name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE ${COLLATION} NOT NULL,
      raw VARBINARY(16) NULL,
      f FLOAT NULL, d DOUBLE NULL,
      e ENUM('a', 'b', 'c') NULL, st SET('x', 'y') NULL, b BIT(5) NULL,
      yr YEAR NULL, tm TIME(3) NULL, big BIGINT UNSIGNED NULL,
      txt TEXT CHARACTER SET utf8mb4 COLLATE ${COLLATION} NULL,
      PRIMARY KEY (id), KEY name_idx (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${COLLATION}`);
  await c.query(`INSERT INTO t (id, doc, qty, name, raw, f, d, e, st, b, yr, tm, big, txt)
      SELECT seq, JSON_OBJECT('seq', seq, 'quarter', CAST(seq AS DOUBLE) + 0.25, 'tag', CONCAT('é', seq)), seq, CONCAT('Ñame ', seq), UNHEX(LPAD(HEX(seq), 8, '0')),
        seq / 3, seq / 7, ELT(1 + seq % 3, 'a', 'b', 'c'), ELT(1 + seq % 3, 'x', 'y', 'x,y'), seq % 32, 2000 + seq % 100, SEC_TO_TIME(seq % 86400),
        seq * 1000003, IF(seq % 4 = 0, NULL, REPEAT('ü', seq % 50))
      FROM ${seq(ROWS)} AS s`);
  await c.end();

  let stopping = false;
  const ledger: string[] = [];
  const writers = [0, 1, 2].map((i) => writer(db, i, () => stopping, ledger));
  const handle = await temporal.start(
    input(db, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 1, ADD INDEX qty_idx (qty)', {
      chunkSize: 1000,
      postponeCutOver: true,
      copyStartDelayMillis: 500,
      checksum: true,
    }),
  );
  let written = 0;
  try {
    const postponed = await waitForPhase(handle, ['postponed', 'failed']);
    assert.equal(postponed.phase, 'postponed', postponed.message);
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    stopping = true;
    written = (await Promise.all(writers)).reduce((a, b) => a + b, 0);
  }
  assert.ok(written > 300, `writers wrote too little (${written})`);
  await handle.signal(cutOverSignal);
  const result = (await handle.result()) as MigrationResult;
  assert.equal(result.status.phase, 'completed');
  assert.ok(result.status.eventsApplied > 100, `binlog events were applied (${result.status.eventsApplied})`);
  assert.deepEqual(result.status.checksum?.skippedColumns, [], 'no stored column left out of --checksum');
  assert.ok(
    result.status.checksum?.columns.includes('created') && result.status.checksum?.columns.includes('updated'),
    `expression-default columns are copied and compared: ${result.status.checksum?.columns}`,
  );

  const original = await checksum(db, '_t_del', STORED);
  const migrated = await checksum(db, 't', STORED);
  assert.deepEqual(migrated, original, 'migrated table equals the original on every stored column');
  // Generated columns are the server's to compute; they must agree with their expressions.
  const a = await admin(db);
  const [[bad]] = await a.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM t WHERE qty2 <> qty * 2 OR qty3 <> qty * 3',
  );
  assert.equal(Number(bad.n), 0);
  // Every acknowledged insert, and no timestamp defaulted by the copy (the originals' values kept).
  const [present] = await a.query<RowDataPacket[]>("SELECT name FROM t WHERE name LIKE 'live-%'");
  const names = new Set(present.map((r) => r.name));
  assert.deepEqual(
    ledger.filter((n) => !names.has(n)),
    [],
  );
  const [[same]] = await a.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM t JOIN _t_del o USING (id) WHERE t.created <> o.created OR t.updated <> o.updated OR NOT (t.doc <=> o.doc)',
  );
  assert.equal(Number(same.n), 0, 'timestamps and JSON documents as the original has them');
  const paths = ['$.dec', '$.neg', '$.dbl', '$.u', '$.day', '$.when', '$.t', '$.bin', '$.list[0]', '$.list[2]'];
  const typeOf = (alias: string, path: string) => `JSON_TYPE(JSON_EXTRACT(${alias}.doc, '${path}'))`;
  const [[typed]] = await a.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM t JOIN _t_del o USING (id)
      WHERE ${paths.map((p) => `NOT (${typeOf('t', p)} <=> ${typeOf('o', p)})`).join(' OR ')} OR CAST(t.doc AS CHAR) <> CAST(o.doc AS CHAR)`);
  assert.equal(Number(typed.n), 0, 'every JSON value keeps its type and its text');
  const [[seen]] = await a.query<RowDataPacket[]>(`SELECT SUM(${typeOf('t', '$.dec')} IS NOT NULL) AS touched,
      SUM(LENGTH(JSON_UNQUOTE(JSON_EXTRACT(t.doc, '$.pad'))) > 65536) AS large FROM t`);
  assert.ok(
    Number(seen.touched) > 50 && Number(seen.large) > 5,
    `typed and large documents were written (${seen.touched}, ${seen.large})`,
  );
  await a.end();
});

test("MySQL: a JSON document holding a BLOB column's bytes, which no SQL rebuilds, stops the migration before the cut-over; --allow-data-loss writes its text", {
  skip: IS_MYSQL ? false : 'MySQL binary JSON only',
}, async () => {
  const db = 'rv_types_opaque';
  const run = async (allowDataLoss: boolean) => {
    await freshDatabase(db);
    const c = await admin(db);
    await c.query('CREATE TABLE t (id INT PRIMARY KEY, b BLOB, doc JSON)');
    await c.query(`INSERT INTO t SELECT seq, 'bytes', JSON_ARRAY(seq) FROM ${seq(100)} AS s`);
    const handle = await temporal.start(
      input(db, 't', 'ADD COLUMN extra INT', { postponeCutOver: true, allowDataLoss, checksum: false }),
    );
    assert.equal((await waitForPhase(handle, ['postponed', 'failed'])).phase, 'postponed');
    await c.query('UPDATE t SET doc = JSON_ARRAY(b) WHERE id = 7');
    await c.end();
    return handle;
  };
  const refused = await run(false);
  assert.match(
    await failureOf(refused),
    /the ALTER loses data: column doc: a JSON document holds a MySQL BLOB value .*"base64:type252:Ynl0ZXM="/,
  );
  assert.deepEqual(await tablesIn(db), ['t'], 'ghost and changelog dropped');

  const accepted = await run(true);
  await waitForPhase(accepted, ['postponed']);
  await accepted.signal(cutOverSignal);
  assert.equal(((await accepted.result()) as MigrationResult).status.phase, 'completed');
  const a = await admin(db);
  const [[row]] = await a.query<RowDataPacket[]>(
    "SELECT JSON_TYPE(JSON_EXTRACT(doc, '$[0]')) AS type, CAST(doc AS CHAR) AS text FROM t WHERE id = 7",
  );
  await a.end();
  assert.deepEqual({ ...row }, { type: 'STRING', text: '["base64:type252:Ynl0ZXM="]' }, 'the value as its text');
});
