// The input's one definition (model/migration-input.ts): defaults filled as the CLI fills them,
// refusals naming the field, and the shipped JSON Schema generated from the same table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { completeInput, INPUT_FIELDS, InputRefused, inputJsonSchema } from '../../model/migration-input';
import { ROOT } from '../support/paths';

const minimal = { server: { host: 'db1' }, database: 'shop', table: 'orders', alter: 'ADD COLUMN z INT NULL' };

test('four fields: every other takes the default the CLI gives it', () => {
  const input = completeInput(minimal);
  assert.deepEqual(input.server, { host: 'db1', port: 3306 });
  assert.equal(input.execute, false, 'a dry run unless execute');
  assert.equal(input.chunkSize, 1000);
  assert.equal(input.chunkTargetMillis, 100, 'without chunkSize, chunks adapt');
  assert.equal(input.dmlBatchSize, 10);
  assert.equal(input.cutOverLockTimeoutSeconds, 3);
  assert.equal(input.postponeCutOver, false);
  assert.equal(input.checksum, true);
  assert.equal(completeInput({ ...minimal, allowDataLoss: true }).checksum, false);
  assert.equal(completeInput({ ...minimal, chunkSize: 500 }).chunkTargetMillis, undefined, 'chunkSize alone: fixed');
  // Given values stand.
  assert.equal(completeInput({ ...minimal, chunkSize: 500, checksum: false }).checksum, false);
});

test('refusals name the field and what it takes', () => {
  const refused = (given: unknown, expected: RegExp) =>
    assert.throws(
      () => completeInput(given),
      (e: unknown) => {
        assert.ok(e instanceof InputRefused);
        assert.match((e as Error).message, expected);
        return true;
      },
    );
  refused([], /one JSON object/);
  refused({ ...minimal, alter: undefined }, /input field alter is required/);
  refused({ ...minimal, database: '' }, /input field database: "" is not a non-empty string/);
  refused({ ...minimal, chunkSize: 1e9 }, /chunkSize: 1000000000 is not an integer from 10 to 100000 \(--chunk-size\)/);
  refused({ ...minimal, server: { host: 'db1', tls: { ca: 3 } } }, /input field server\.tls\.ca: 3 is not a string/);
  refused({ ...minimal, server: 'db1:3306' }, /input field server: "db1:3306" is not an object/);
  refused({ ...minimal, copyThreads: 17 }, /copyThreads: 17 is not an integer from 1 to 16/);
  refused({ ...minimal, renewal: 'x' }, /input field renewal: "x" is not an object/);
});

test('the shipped JSON Schema is the one the model generates, with every field', () => {
  const shipped = JSON.parse(readFileSync(join(ROOT, 'schemas', 'migration-input.schema.json'), 'utf8'));
  assert.deepEqual(shipped, inputJsonSchema(), 'schemas/ is stale: npm run build && npm run schema');
  assert.deepEqual(shipped.required, ['server', 'database', 'table', 'alter']);
  assert.deepEqual(Object.keys(shipped.properties as object).sort(), Object.keys(INPUT_FIELDS).sort());
  assert.equal(shipped.additionalProperties, false);
});
