// What is read back from the changelog (control/stored-shapes.ts): every shape revenant writes
// is taken, and rows of any other shape, which a second account with rights on the schema could
// write, are refused by the row's name and not retried.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { parseStored } from '../../control/changelog';
import {
  copyCheckpointShape,
  isBinlogCheckpoint,
  isMigrationRecord,
  laneCheckpointShape,
} from '../../control/stored-shapes';
import type { SharedKey } from '../../model/types';

const CHANGELOG = { database: 'shop', changelogTable: '_orders_ghc' };
/** A two-column key: an integer and a binary string. */
const KEY: SharedKey = { name: 'PRIMARY', columns: ['id', 'code'], integer: [true, false] };

const refusedAs = (hint: string) => (e: unknown) =>
  e instanceof ApplicationFailure &&
  e.nonRetryable &&
  e.message.includes(`'${hint}' row is not one revenant wrote`) &&
  e.message.includes('shop._orders_ghc');

test('the checkpoints revenant writes are taken as written', () => {
  const binlog = {
    file: 'mysql-bin.000042',
    position: 1234,
    gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-57, 0d8b0a36-71ca-11e1-9e33-c80aa9429562:tag_1:1-3',
    eventsApplied: 99,
    from: { file: 'mysql-bin.000042', position: 1000 },
    partialEvents: 2,
    appliedHeartbeat: '2026-12-06 01:02:03.456',
    window: 1,
    openedBy: { file: 'mysql-bin.000043', position: 4 },
  };
  assert.deepEqual(parseStored(CHANGELOG, 'binlog-checkpoint', JSON.stringify(binlog), isBinlogCheckpoint), binlog);
  const mariadb = { file: 'mariadb-bin.000001', position: 4, gtid: '0-1-42,1-3-45', eventsApplied: 0 };
  assert.ok(isBinlogCheckpoint(mariadb));
  const copy = {
    min: ['1', { b64: 'AAE=' }],
    max: [9_000_000_000, null],
    lastKey: ['42', { b64: '' }],
    claimed: [{ after: ['42', { b64: '' }], to: ['80', 'x'], done: false }],
    chunk: { after: null, to: ['42', { b64: '' }] },
    rowsCopied: 42,
    chunksCopied: 1,
    done: false,
  };
  assert.ok(copyCheckpointShape(KEY)(copy));
  assert.ok(
    copyCheckpointShape(KEY)({ min: null, max: null, lastKey: null, rowsCopied: 0, chunksCopied: 0, done: false }),
  );
  assert.ok(laneCheckpointShape(3)({ file: 'binlog.000007', position: 88, lanes: 4 }));
  assert.ok(
    isMigrationRecord({
      workflowId: 'revenant-x',
      database: 'shop',
      table: 'orders',
      alter: 'ADD COLUMN c INT',
      plan: {},
      startPosition: { file: 'binlog.000001', position: 4 },
      startedAt: '2026-12-06T01:00:00.000Z',
    }),
  );
});

test('a binlog checkpoint of another shape is refused', () => {
  const good = { file: 'binlog.000001', position: 4, eventsApplied: 0 };
  const bad: unknown[] = [
    { ...good, position: -1 },
    { ...good, position: 1.5 },
    { ...good, position: '4' },
    { ...good, file: "binlog.000001'; DROP TABLE orders; --" },
    { ...good, file: '../../etc/passwd' },
    { ...good, file: '' },
    { ...good, gtid: "0-1-1'" },
    { ...good, gtid: 7 },
    { ...good, eventsApplied: -3 },
    { ...good, from: { file: 'x', position: -1 } },
    { ...good, partialEvents: 'all' },
    { ...good, window: -1 },
    { ...good, appliedHeartbeat: 5 },
    { position: 4, eventsApplied: 0 },
    [good],
    null,
    'binlog.000001:4',
  ];
  for (const v of bad) assert.equal(isBinlogCheckpoint(v), false, JSON.stringify(v));
  // Text that does not parse at all is refused the same way, not thrown as a SyntaxError (retried).
  assert.throws(
    () => parseStored(CHANGELOG, 'binlog-checkpoint', '{"file":', isBinlogCheckpoint),
    refusedAs('binlog-checkpoint'),
  );
  assert.throws(
    () => parseStored(CHANGELOG, 'binlog-checkpoint', JSON.stringify(bad[0]), isBinlogCheckpoint),
    refusedAs('binlog-checkpoint'),
  );
});

test("a lane's checkpoint must name a lane count it can belong to", () => {
  const at = { file: 'binlog.000001', position: 4 };
  assert.equal(laneCheckpointShape(3)({ ...at, lanes: 2 }), false, 'lane 3 of 2');
  assert.equal(laneCheckpointShape(1)({ ...at, lanes: 0 }), false, 'no lanes');
  assert.equal(laneCheckpointShape(1)({ ...at, lanes: 17 }), false, 'more lanes than --apply-threads allows');
  assert.equal(laneCheckpointShape(1)({ ...at, lanes: 2.5 }), false);
  assert.equal(laneCheckpointShape(1)({ ...at, lanes: '4' }), false);
  assert.equal(laneCheckpointShape(1)({ ...at, position: -4, lanes: 4 }), false);
  assert.equal(laneCheckpointShape(1)({ lanes: 4 }), false);
  assert.throws(
    () => parseStored(CHANGELOG, 'apply-lane-2', JSON.stringify({ ...at, lanes: 99 }), laneCheckpointShape(2)),
    refusedAs('apply-lane-2'),
  );
});

test("a copy checkpoint must hold keys of the copy's key", () => {
  const good = { min: ['1', 'a'], max: ['9', 'z'], lastKey: ['5', 'k'], rowsCopied: 5, chunksCopied: 1, done: false };
  const shape = copyCheckpointShape(KEY);
  assert.ok(shape(good));
  const bad: unknown[] = [
    { ...good, lastKey: ['5'] },
    { ...good, lastKey: ['5', 'k', 'extra'] },
    { ...good, lastKey: ['5 OR 1=1', 'k'] },
    { ...good, lastKey: [5.5, 'k'] },
    { ...good, lastKey: ['5', { b64: 'not base64!' }] },
    { ...good, lastKey: ['5', { b64: 'AA==', more: 1 }] },
    { ...good, lastKey: ['5', true] },
    { ...good, lastKey: '5' },
    { ...good, max: undefined },
    { ...good, claimed: {} },
    { ...good, claimed: [{ after: null, to: ['6', 'l'] }] },
    { ...good, claimed: [{ after: null, to: ['x', 'l'], done: true }] },
    { ...good, chunk: { after: null } },
    { ...good, rowsCopied: -1 },
    { ...good, chunksCopied: null },
    { ...good, done: 'yes' },
  ];
  for (const v of bad) assert.equal(shape(v), false, JSON.stringify(v));
});

test("a migration record's position and names must be of their shapes", () => {
  const good = {
    workflowId: 'w',
    database: 'shop',
    table: 'orders',
    alter: 'ADD COLUMN c INT',
    plan: {},
    startPosition: { file: 'binlog.000001', position: 4 },
    startedAt: 'x',
  };
  assert.ok(isMigrationRecord(good));
  for (const v of [
    { ...good, startPosition: { file: 'binlog.000001', position: -4 } },
    { ...good, plan: 'DROP TABLE orders' },
    { ...good, table: 7 },
    { ...good, alter: undefined },
  ])
    assert.equal(isMigrationRecord(v), false, JSON.stringify(v));
});
