// The binlog read on a thread of its own (binlog/threaded-reader.ts) hands the applier exactly
// what the reader on the applier's own thread does: for the same stretch of binlog, with the
// kinds of value that cross threads badly (BLOBs and binary strings, which arrive as bare byte
// arrays; MySQL's binary JSON, rebuilt as SQL on the applier's side; BIT, DECIMAL, temporal,
// latin1 text, NULL), the items are equal one for one. Stopped, its connection leaves the
// server and its thread waits idle; the next read takes that thread and reads the same.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RowDataPacket } from 'mysql2';
import { BinlogStreamer, type BinlogSource, type StreamItem } from '../../binlog/streamer';
import { readerThreads, ThreadedReader } from '../../binlog/threaded-reader';
import { credentialsFromEnvironment } from '../../mysql/credentials';
import { SqlExpression } from '../../mysql/statements';
import { admin, binlogPosition, freshDatabase, IS_MYSQL, SERVER } from '../support/helpers';
import { sleep } from '../support/wait';

const DB = 'rv_reader';
const credentials = credentialsFromEnvironment({
  REVENANT_MYSQL_PASSWORD: 'revenant',
  REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY: '1',
  REVENANT_MYSQL_SSL_DIRS: process.env.REVENANT_MYSQL_SSL_DIRS,
});
let conn: Awaited<ReturnType<typeof admin>>;
before(async () => {
  await freshDatabase(DB);
  conn = await admin(DB);
});
after(async () => {
  await conn?.end();
});

/** Items of `reader` until the `commits`th commit, then stops it. */
async function readAll(reader: BinlogSource, commits: number): Promise<StreamItem[]> {
  const items: StreamItem[] = [];
  const deadline = Date.now() + 30_000;
  try {
    await reader.start(1_000_000 + Math.floor(Math.random() * 1_000_000_000));
    while (items.filter((i) => i.type === 'commit').length < commits) {
      assert.ok(Date.now() < deadline, `read ${items.length} items in 30 s, not yet ${commits} commits`);
      items.push(...(await reader.take(1000, 200)));
    }
  } finally {
    reader.stop();
  }
  return items;
}

test('the reader on its own thread hands over what the reader on the applier’s thread does, and again once idle', async () => {
  await conn.query(`CREATE TABLE t (
    id INT PRIMARY KEY,
    blob_value BLOB,
    bin VARBINARY(16),
    doc JSON,
    bits BIT(12),
    amount DECIMAL(20,6),
    at DATETIME(3),
    latin VARCHAR(40) CHARACTER SET latin1,
    note TEXT
  )`);
  const from = await binlogPosition();
  const doc = IS_MYSQL ? '{"a": [1, 2.0, "x"], "b": {"c": null}}' : '{"a": 1}';
  // MariaDB's JSON is text: no CAST to it.
  const json = IS_MYSQL ? 'CAST(? AS JSON)' : '?';
  for (let i = 1; i <= 200; i++) {
    await conn.query(`INSERT INTO t VALUES (?, ?, ?, ${json}, b'101010101010', ?, ?, ?, ?)`, [
      i,
      Buffer.from([0, i % 256, 255, 10]),
      Buffer.from([i % 256, 0]),
      doc,
      `${i}.123456`,
      '2026-12-04 10:11:12.345',
      'café ß',
      i % 3 ? `note ${i}` : null,
    ]);
  }
  await conn.query("UPDATE t SET blob_value = x'00ff', note = NULL WHERE id <= 50");
  await conn.query('DELETE FROM t WHERE id > 180');
  const commits = 202;
  const opts = { server: SERVER, credentials, from, tables: { [DB]: ['t'] } };
  const inline = await readAll(new BinlogStreamer(opts), commits);
  const threaded = await readAll(new ThreadedReader(opts), commits);

  assert.equal(threaded.length, inline.length);
  assert.deepEqual(threaded, inline, 'the same items, values and positions');
  const rows = threaded.filter((i) => i.type === 'rows');
  const changed = rows.map((i) => (i.type === 'rows' ? i.change.rows.length : 0)).reduce((a, b) => a + b, 0);
  assert.equal(changed, 200 + 50 + 20, 'rows inserted, updated and deleted');
  const first = rows[0].type === 'rows' && rows[0].change.kind === 'insert' ? rows[0].change.rows[0] : {};
  assert.ok(Buffer.isBuffer(first.blob_value) && Buffer.isBuffer(first.bin), 'BLOB and VARBINARY values are Buffers');
  if (IS_MYSQL) assert.ok(first.doc instanceof SqlExpression, "MySQL's binary JSON is rebuilt as SQL");

  // Stopped: the thread goes back to wait idle, and the server has no binlog dump of it left.
  await stoppedReading();
  const { live } = readerThreads();
  assert.equal(live, 1, 'one reader thread');
  // The next read takes the same thread, and reads the same.
  assert.deepEqual(await readAll(new ThreadedReader(opts), commits), inline, 'the same items from the thread again');
  await stoppedReading();
  assert.equal(readerThreads().live, live, 'no new thread for the second read');
});

/** Every reader thread idle, and no binlog dump of the test's user left on the server, within 10 s. */
async function stoppedReading(): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [dumps] = await conn.query<RowDataPacket[]>(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'revenant' AND COMMAND LIKE 'Binlog Dump%'",
    );
    const { live, idle } = readerThreads();
    if (idle === live && dumps.length === 0) return;
    assert.ok(
      Date.now() < deadline,
      `10 s after stop: ${live - idle} reader thread(s) still reading, ${dumps.length} dump(s)`,
    );
    await sleep(100);
  }
}

/** What `reader` does in `ms`, taking every 100 ms (`take: false`: not taking at all): 'failed: …' or 'alive'. */
async function fateOf(reader: BinlogSource, ms: number, take = true): Promise<string> {
  const deadline = Date.now() + ms;
  try {
    await reader.start(1_000_000 + Math.floor(Math.random() * 1_000_000_000));
    while (Date.now() < deadline) {
      if (take) await reader.take(1000, 100);
      else await sleep(100);
    }
    await reader.take(1000, 0);
    return 'alive';
  } catch (e) {
    return `failed: ${(e as Error).message}`;
  } finally {
    reader.stop();
  }
}

test('a stream that hears nothing from the server is taken for dead; one that hears anything, or is paused, is not', async () => {
  await conn.query('CREATE TABLE quiet (id INT PRIMARY KEY)');
  await conn.query('CREATE TABLE busy (id INT AUTO_INCREMENT PRIMARY KEY)');
  const opts = async (highWater?: number) => ({
    server: SERVER,
    credentials,
    from: await binlogPosition(),
    tables: { [DB]: ['quiet'] },
    silenceLimitMs: 1_500,
    ...(highWater ? { highWater } : {}),
  });
  // Nothing written: dead within the limit and a check, on either reader.
  for (const reader of [new BinlogStreamer(await opts()), new ThreadedReader(await opts())]) {
    const started = Date.now();
    const fate = await fateOf(reader, 6_000);
    assert.match(fate, /^failed: the binlog stream received nothing for \d+ s after .*taken for dead/);
    assert.ok(Date.now() - started < 5_000, `taken for dead after ${Date.now() - started} ms`);
  }
  // Another table written every 300 ms: its events reach the stream (filtered out there), which lives.
  const writing = { on: true };
  const writer = (async () => {
    while (writing.on) {
      await conn.query('INSERT INTO busy VALUES ()');
      await sleep(300);
    }
  })();
  try {
    assert.equal(await fateOf(new ThreadedReader(await opts()), 4_000), 'alive');
  } finally {
    writing.on = false;
    await writer;
  }
  // Paused (its queue full, nothing taken), then silent for longer than the limit: alive.
  const paused = new BinlogStreamer(await opts(5));
  const pausedFate = fateOf(paused, 4_000, false);
  await sleep(500);
  for (let i = 1; i <= 20; i++) await conn.query('INSERT INTO quiet VALUES (?)', [i]);
  assert.equal(await pausedFate, 'alive');
});
