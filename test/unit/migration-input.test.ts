// The input's one definition (model/migration-input.ts): defaults filled as the CLI fills them,
// refusals naming the field, and the shipped JSON Schema generated from the same table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { completeInput, INPUT_FIELDS, InputRefused, inputJsonSchema } from '../../model/migration-input';
import { completeFleetInput, FLEET_FIELDS, fleetJsonSchema } from '../../model/fleet-input';
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

/** Asserts that `complete` refuses what is given, in words matching `expected`. */
const refusedBy =
  (complete: (given: unknown) => unknown) =>
  (given: unknown, expected: RegExp): void =>
    assert.throws(
      () => complete(given),
      (e: unknown) => {
        assert.ok(e instanceof InputRefused);
        assert.match((e as Error).message, expected);
        return true;
      },
    );

test('refusals name the field and what it takes', () => {
  const refused = refusedBy(completeInput);
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

const fleet = {
  name: 'shards',
  servers: [
    { host: 'db1', databases: 'shard_%' },
    { host: 'db2', port: 3307, databases: ['a', 'b'], table: 'o2' },
  ],
  table: 'orders',
  template: { alter: 'ADD COLUMN z INT NULL', execute: true },
};

test("a fleet's four fields: the CLI's defaults for the rest; each target completes its own template", () => {
  const input = completeFleetInput(fleet);
  assert.equal(input.maxConcurrent, 4);
  assert.equal(input.canary, 0);
  assert.equal(input.onFailure, 'stop');
  assert.equal(input.cutOver, 'each');
  assert.deepEqual(input.servers[0], { host: 'db1', port: 3306, databases: 'shard_%' });
  assert.deepEqual(input.servers[1], { host: 'db2', port: 3307, databases: ['a', 'b'], table: 'o2' });
  assert.deepEqual(input.template, fleet.template, 'the template as given: each target fills its defaults');
  assert.deepEqual(input.login, {});
});

test("a fleet's refusals name the field, the template's and the servers' included", () => {
  const refused = refusedBy(completeFleetInput);
  refused('x', /one JSON object/);
  refused({ ...fleet, servers: [] }, /input field servers: \[\] is not a non-empty list of objects/);
  refused({ ...fleet, servers: [{ host: 'db1' }] }, /input field servers\[0\]\.databases is required/);
  refused(
    { ...fleet, servers: [{ host: 'db1', databases: [''] }] },
    /servers\[0\]\.databases: \[""\] is not a non-empty string or a non-empty list/,
  );
  refused(
    { ...fleet, servers: [{ host: 'db1', databases: 'x', port: 0 }] },
    /servers\[0\]\.port: 0 is not an integer from 1 to 65535/,
  );
  refused({ ...fleet, servers: [{ host: 'db1', databases: 'x', pasword: 'x' }] }, /servers\[0\]\.pasword is unknown/);
  refused({ ...fleet, onFailure: 'retry' }, /input field onFailure: "retry" is not one of stop, continue/);
  refused({ ...fleet, maxConcurrent: 0 }, /maxConcurrent: 0 is not an integer from 1 to 100/);
  refused({ ...fleet, template: { execute: true } }, /input field template\.alter is required/);
  refused(
    { ...fleet, template: { ...fleet.template, chunkSize: 'x' } },
    /input field template\.chunkSize: "x" is not an integer from 10 to 100000/,
  );
  refused(
    { ...fleet, template: { ...fleet.template, database: 'other' } },
    /input field template\.database is unknown/,
  );
  refused({ ...fleet, login: { user: 'u', password: 'p' } }, /input field login\.password is unknown/);
});

test('the shipped fleet schema is the one the model generates', () => {
  const shipped = JSON.parse(readFileSync(join(ROOT, 'schemas', 'fleet-input.schema.json'), 'utf8'));
  assert.deepEqual(shipped, fleetJsonSchema(), 'schemas/ is stale: npm run build && npm run schema');
  assert.deepEqual(shipped.required, ['name', 'servers', 'table', 'template']);
  assert.deepEqual(Object.keys(shipped.properties as object).sort(), Object.keys(FLEET_FIELDS).sort());
});

test('a multi-table migration: one server, one database, two tables or more, each once; together by default', () => {
  const tables = {
    ...fleet,
    servers: [{ host: 'db1', databases: ['shop'] }],
    template: { ...fleet.template, alter: '' },
    tables: [
      { table: 'orders', alter: 'ADD COLUMN a INT NULL' },
      { table: 'order_items', alter: 'ADD INDEX b (b)' },
    ],
  };
  const input = completeFleetInput(tables);
  assert.equal(input.cutOver, 'together');
  assert.deepEqual(
    input.tables?.map((t) => t.table),
    ['orders', 'order_items'],
  );
  const refused = refusedBy(completeFleetInput);
  refused({ ...tables, servers: [{ host: 'db1', databases: 'shop_%' }] }, /names one server with one database/);
  refused({ ...tables, servers: [...tables.servers, { host: 'db2', databases: ['shop'] }] }, /one server/);
  refused({ ...tables, tables: tables.tables.slice(0, 1) }, /two tables or more/);
  refused({ ...tables, tables: [tables.tables[0], tables.tables[0]] }, /orders is named twice/);
  refused({ ...tables, cutOver: 'each' }, /cuts over together/);
  refused({ ...tables, tables: [{ table: 'orders' }, tables.tables[1]] }, /tables\[0\]\.alter is required/);
  refused(
    { ...tables, template: { ...tables.template, cutOverWindows: ['Mon 02:00-03:00 UTC'] } },
    /takes no cut-over windows/,
  );
  refused({ ...tables, template: { ...tables.template, testOnReplica: true } }, /takes no --test-on-replica/);
});
