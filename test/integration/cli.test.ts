// `revenant migrate` as a user runs it: gh-ost's flags, a dry run without --execute, the
// status line, refusal of a second migration of a table, attach on rerun, `cut-over`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createTestTable,
  freshDatabase,
  runRevenant,
  showCreate,
  startTemporal,
  tablesIn,
  type TestTemporal,
  tableArgs,
} from '../support/helpers';

let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-cli');
});
after(async () => {
  await temporal.close();
});

const revenant = (args: string[]) => runRevenant(args, 'test-cli');

const base = (db: string) => [...tableArgs(db, 't'), '--allow-on-master'];

test('usage errors are specific and touch nothing', async () => {
  let r = await revenant(['migrate', '--database', 'x', '--table', 't']);
  assert.equal(r.code, 2);
  assert.match(r.out, /--alter is required/);
  r = await revenant(['migrate', '--no-such-flag', '1']);
  assert.equal(r.code, 2);
  assert.match(r.out, /unknown flag --no-such-flag/);
  r = await revenant(['migrate', ...base('x'), '--alter', 'ADD COLUMN c INT', '--chunk-size', 'lots']);
  assert.equal(r.code, 2);
  assert.match(r.out, /--chunk-size takes a whole number, not "lots"/);
});

test('without --execute it is a dry run: the ghost is made, altered and dropped', { timeout: 120_000 }, async () => {
  const db = 'rv_cli_dry';
  await freshDatabase(db);
  await createTestTable(db, 't', 1000);
  const before = await showCreate(db, 't');
  const r = await revenant(['migrate', ...base(db), '--alter', 'ADD COLUMN c INT NOT NULL DEFAULT 0']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /dry run: the ALTER is valid/);
  assert.deepEqual(await tablesIn(db), ['t']);
  assert.equal(await showCreate(db, 't'), before);
});

test('migrate with gh-ost flags; a second ALTER is refused; rerun attaches; cut-over', {
  timeout: 300_000,
}, async () => {
  const db = 'rv_cli_run';
  await freshDatabase(db);
  await createTestTable(db, 't', 30_000);
  const first = [
    ...base(db),
    '--alter',
    'ADD COLUMN c INT NOT NULL DEFAULT 5',
    '--execute',
    '--chunk-size=500',
    '-dml-batch-size',
    '20',
    '--postpone-cut-over',
    '--ok-to-drop-table',
    '--checksum',
  ];
  let r = await revenant(['migrate', ...first, '--detach']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /migration started: workflow revenant:127\.0\.0\.1:\d+:rv_cli_run\.t/);

  r = await revenant(['migrate', ...base(db), '--alter', 'ADD COLUMN other INT', '--execute']);
  assert.equal(r.code, 3, r.out);
  assert.match(
    r.out,
    /refused: a migration of rv_cli_run\.t on 127\.0\.0\.1:\d+ is already running .*one migration per table at a time/,
  );

  // The same command again attaches; it ends when the operator cuts over.
  const attached = revenant(['migrate', ...first]);
  await new Promise((res) => setTimeout(res, 3000));
  const s = await revenant(['status', ...base(db)]);
  assert.match(s.out, /State: (migrating|checksumming|postponed)/);
  const c = await revenant(['cut-over', ...base(db)]);
  assert.equal(c.code, 0, c.out);
  r = await attached;
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /attached to the running migration/);
  assert.match(r.out, /Copy: \d+\/\d+ [\d.]+%; Applied: \d+; .*State: /);
  assert.match(
    r.out,
    /revenant: checksum: 30000 rows equal in 3 ranges on 6 columns; original read-locked \d+ ms for the snapshot/,
  );
  assert.match(r.out, /rv_cli_run\.t migrated; old table dropped/);
  assert.deepEqual(await tablesIn(db), ['t']);
  assert.match(await showCreate(db, 't'), /`c` int(\(11\))? NOT NULL DEFAULT '?5'?/);
});
