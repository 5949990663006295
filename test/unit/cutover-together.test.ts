// The cut-over together's names (activities/cutover-together.ts): its sentry sorts after every
// name of the RENAME, as the server orders metadata locks, and the RENAME swaps every pair.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renameTogether, sentryNames } from '../../activities/cutover-together';
import { tableAlters, tablesInput } from '../../client/fleet';
import { migrateRequest, parseFlags } from '../../client/flags';

const key = (db: string, t: string) => Buffer.from(`${db}\0${t}\0`);
const after = (s: { database: string; sentry: string }, names: { database: string; table: string }[]) =>
  names.every((n) => Buffer.compare(key(s.database, s.sentry), key(n.database, n.table)) > 0);

test('the sentry sorts after every name of the RENAME: originals, ghosts, old names, any schema', () => {
  const names = (db: string, t: string) => [
    { database: db, table: t },
    { database: db, table: `_${t}_gho` },
    { database: db, table: `_${t}_del` },
  ];
  for (const tables of [
    [...names('shop', 'orders'), ...names('shop', 'order_items')],
    [...names('shard_01', 't'), ...names('shard_02', 't'), ...names('shard_10', 't')],
    [...names('shop', 'Orders'), ...names('shop', 'zz_last')],
    // A name that sorts after '~' (not ASCII): the sentry takes its name and a '~'.
    [...names('shop', 'orders'), ...names('shop', 'überschrift')],
  ]) {
    const s = sentryNames(tables);
    assert.ok(after(s, tables), `${s.database}.${s.sentry} after ${tables.map((t) => t.table).join(', ')}`);
    assert.equal(
      s.database,
      [...tables].sort((x, y) => Buffer.compare(key(x.database, x.table), key(y.database, y.table))).pop()?.database,
    );
    assert.notEqual(s.source, s.sentry);
  }
  assert.equal(sentryNames(names('shop', 'orders')).sentry, '~revenant_sentry');
  assert.equal(sentryNames(names('shop', 'überschrift')).sentry, 'überschrift~');
  assert.throws(() => sentryNames(names('shop', `ü${'x'.repeat(62)}`)), /no sentry name sorts after/);
});

test('one RENAME: each pair as the single cut-over writes it, the sentry pair last', () => {
  const statement = renameTogether(
    [
      { database: 'shop', table: 'orders', ghostTable: '_orders_gho', oldTable: '_orders_del' },
      { database: 'shop', table: 'order_items', ghostTable: '_order_items_gho', oldTable: '_order_items_del' },
    ],
    { database: 'shop', sentry: '~revenant_sentry', source: '~revenant_sentryfrom' },
  );
  assert.equal(
    statement,
    'RENAME TABLE `shop`.`orders` TO `shop`.`_orders_del`, `shop`.`_orders_gho` TO `shop`.`orders`, ' +
      '`shop`.`order_items` TO `shop`.`_order_items_del`, `shop`.`_order_items_gho` TO `shop`.`order_items`, ' +
      '`shop`.`~revenant_sentryfrom` TO `shop`.`~revenant_sentry`',
  );
});

test('--alter-table: each table once, with its ALTER; two or more; a fleet of one server cut over together', () => {
  const flags = parseFlags([
    '--host',
    'db1',
    '--database',
    'shop',
    '--alter-table',
    'orders=ADD COLUMN a INT NULL',
    '--alter-table',
    '`order_items`=ADD INDEX b (b)',
    '--execute',
  ]);
  const tables = tableAlters(flags.values);
  assert.deepEqual(tables, [
    { table: 'orders', alter: 'ADD COLUMN a INT NULL' },
    { table: 'order_items', alter: 'ADD INDEX b (b)' },
  ]);
  const req = migrateRequest({ ...flags, values: { ...flags.values, table: 'orders', alter: tables[0].alter } });
  const input = tablesInput(req, flags.values, tables);
  assert.equal(input.name, 'shop.orders.order_items');
  assert.equal(input.cutOver, 'together');
  assert.deepEqual(input.servers, [{ host: 'db1', port: 3306, databases: ['shop'] }]);
  assert.equal(input.template.execute, true);
  assert.throws(() => tableAlters({ 'alter-table': 'orders' }), /takes TABLE="ALTER …"/);
  assert.throws(() => tableAlters({ 'alter-table': 'a=x\na=y' }), /names a twice/);
  assert.throws(() => tablesInput(req, flags.values, tables.slice(0, 1)), /two tables or more/);
});
