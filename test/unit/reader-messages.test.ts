// What crosses from the binlog reader's thread to the applier's (binlog/reader-messages.ts):
// sent through a real MessageChannel, a rows item's Buffers come back as Buffers with the same
// bytes, and a mysql2 error keeps the fields that decide whether the activity retries; the
// reader sends of the applied table only the columns the applier reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { errorOf, restoreBuffers, shapeOfError } from '../../binlog/reader-messages';
import { changeToDml, type ApplyTarget } from '../../binlog/row-events';
import { trimImages, type StreamItem } from '../../binlog/streamer';

/** `value` as the other thread receives it. */
async function sent<T>(value: T): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<T>((resolve) => port2.once('message', resolve));
  port1.postMessage(value);
  const v = await received;
  port1.close();
  return v;
}

test("a rows item's Buffers arrive as Buffers, every other value as it was sent", async () => {
  const blob = Buffer.from([0, 1, 2, 254, 255]);
  // A Buffer that is a slice of a larger one: only its own bytes must come back.
  const slice = Buffer.from('..abc..', 'latin1').subarray(2, 5);
  const inserted: StreamItem = {
    type: 'rows',
    database: 'd',
    table: 't',
    timestamp: 1,
    change: { kind: 'insert', rows: [{ id: 1, b: blob, s: slice, text: 'é', n: null, big: 12345678901234567890n }] },
  };
  const updated: StreamItem = {
    type: 'rows',
    database: 'd',
    table: 't',
    timestamp: 2,
    change: { kind: 'update', rows: [{ before: { id: 1, b: blob }, after: { id: 1, b: Buffer.alloc(0) } }] },
  };
  const [ins, upd] = await sent([inserted, updated]);
  const insertedRow = (ins.type === 'rows' && ins.change.kind === 'insert' && ins.change.rows[0]) || {};
  assert.ok(!Buffer.isBuffer(insertedRow.b), 'structured clone turns a Buffer into a bare Uint8Array');
  restoreBuffers(ins);
  restoreBuffers(upd);
  assert.ok(Buffer.isBuffer(insertedRow.b) && Buffer.isBuffer(insertedRow.s));
  assert.deepEqual(insertedRow, {
    id: 1,
    b: blob,
    s: Buffer.from('abc'),
    text: 'é',
    n: null,
    big: 12345678901234567890n,
  });
  assert.ok(upd.type === 'rows' && upd.change.kind === 'update');
  const u = upd.change.rows[0];
  assert.ok(Buffer.isBuffer(u.before.b) && Buffer.isBuffer(u.after.b));
  assert.deepEqual(u, { before: { id: 1, b: blob }, after: { id: 1, b: Buffer.alloc(0) } });
});

test('a mysql2 error keeps its errno, code, SQL state and fatal flag; what is not an Error keeps its text', async () => {
  const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), {
    code: 'PROTOCOL_CONNECTION_LOST',
    fatal: true,
  });
  const purged = Object.assign(new Error('Could not find first log file name in binary log index file'), {
    code: 'ER_MASTER_FATAL_ERROR_READING_BINLOG',
    errno: 1236,
    sqlState: 'HY000',
    sqlMessage: 'Could not find first log file name in binary log index file',
  });
  for (const original of [lost, purged]) {
    const e = errorOf(await sent(shapeOfError(original)));
    assert.ok(e instanceof Error);
    assert.equal(e.message, original.message);
    for (const f of ['code', 'errno', 'sqlState', 'sqlMessage', 'fatal'] as const)
      assert.equal(
        (e as unknown as Record<string, unknown>)[f],
        (original as unknown as Record<string, unknown>)[f],
        f,
      );
  }
  assert.equal(errorOf(shapeOfError('plain text')).message, 'plain text');
});

test('the reader keeps of the applied table only the columns the applier reads; it refuses a short image as before', () => {
  const used = { database: 'd', table: 't', key: ['id'], values: ['id', 'name'] };
  const target: ApplyTarget = {
    database: 'd',
    ghostTable: '_t_gho',
    columns: [
      { source: 'id', ghost: 'id' },
      { source: 'name', ghost: 'name' },
    ],
    key: { name: 'PRIMARY', columns: ['id'], integer: [true] },
  };
  // `dropped` is a column the ALTER drops: in every FULL image, read by nothing.
  const full = (id: number, name: string) => ({ id, name, dropped: 'x'.repeat(100) });
  const inserted = trimImages('insert', [full(1, 'a')], used);
  assert.deepEqual(inserted, [{ id: 1, name: 'a' }]);
  assert.deepEqual(trimImages('delete', [full(2, 'b')], used), [{ id: 2 }]);
  const updated = trimImages('update', [{ before: full(3, 'c'), after: full(4, 'd') }], used);
  assert.deepEqual(updated, [{ before: { id: 3 }, after: { id: 4, name: 'd' } }]);
  // The ghost's changes are those of the untrimmed images: the key's move, then the new row.
  const dml = changeToDml({ kind: 'update', rows: updated as never }, target);
  assert.deepEqual(dml, changeToDml({ kind: 'update', rows: [{ before: full(3, 'c'), after: full(4, 'd') }] }, target));
  assert.deepEqual(dml, [
    { kind: 'delete', keys: [[3]] },
    { kind: 'replace', rows: [[4, 'd']] },
  ]);
  // An image without a column the applier reads (binlog_row_image not FULL) stays without it.
  const short = trimImages('insert', [{ id: 5 }], used);
  assert.throws(
    () => changeToDml({ kind: 'insert', rows: short as never }, target),
    /binlog row image has no column name/,
  );
});
