// The same migration driven by the real `temporal` binary: start with JSON input (no
// secrets), query its status, wait for its result.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  checksum,
  createTestTable,
  failureOf,
  freshDatabase,
  input,
  showCreate,
  runTemporal,
  SERVER,
  startTemporal,
  tablesIn,
  type TestTemporal,
  ONE_SERVER,
  WriteLoad,
  workflowSetArgs,
  workflowStartArgs,
} from '../support/helpers';

import { sleep } from '../support/wait';
import { migrationWorkflowId, type MigrationStatus } from '../../model/types';
import { cutOverSignal, statusQuery } from '../../model/messages';

const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];

const temporalCli = async (...args: string[]) => {
  let r = await runTemporal(args);
  // The server buffers one consistent query per workflow while a workflow task runs; the worker
  // asks the migration its settings too (worker.ts), so under load a query of the test's can be
  // turned away: asked again, as an operator would.
  for (let n = 0; n < 5 && r.code !== 0 && /consistent query buffer is full/.test(r.out); n++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    r = await runTemporal(args);
  }
  assert.equal(r.code, 0, r.out);
  return { stdout: r.out };
};
/** `temporal workflow start` of a migration, its input as JSON on the command line. */
const startWithCli = (id: string, given: unknown) => temporalCli(...workflowStartArgs(temporal.taskQueue, id, given));
/** The fields a user must give (and allowOnMaster, which gh-ost asks for on a master). */
const minimalInput = (db: string) => ({
  server: { host: SERVER.host, port: SERVER.port, user: SERVER.user },
  database: db,
  table: 't',
  alter: 'ADD COLUMN z INT NULL',
  execute: true,
  allowOnMaster: true,
});
let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-temporal-cli');
});
after(async () => {
  await temporal.close();
});

test('temporal workflow start / query / result run a migration', { skip: ONE_SERVER, timeout: 300_000 }, async () => {
  const db = 'rv_tcli';
  await freshDatabase(db);
  await createTestTable(db, 't', 20_000);
  const i = input(db, 't', 'ADD COLUMN via_cli TINYINT NOT NULL DEFAULT 1', { postponeCutOver: true });
  const id = migrationWorkflowId(i.server, db, 't');
  await startWithCli(id, i);

  let status: MigrationStatus | undefined;
  for (let n = 0; n < 600; n++) {
    const { stdout } = await temporalCli(
      'workflow',
      'query',
      '--workflow-id',
      id,
      '--name',
      'status',
      '--output',
      'json',
    );
    const parsed = JSON.parse(stdout);
    status = (parsed.queryResult ?? parsed.result ?? parsed)[0] as MigrationStatus;
    if (status.phase === 'postponed' || status.phase === 'failed') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(status?.phase, 'postponed', JSON.stringify(status));
  assert.equal(status?.rowsCopied, 20_000);
  await temporalCli('workflow', 'signal', '--workflow-id', id, '--name', 'cut-over');
  const { stdout } = await temporalCli('workflow', 'result', '--workflow-id', id, '--output', 'json');
  assert.match(stdout, /"phase":\s*"completed"/);
  // MariaDB prints tinyint(4) … DEFAULT 1, MySQL 8+ tinyint … DEFAULT '1'.
  assert.match(await showCreate(db, 't'), /`via_cli` tinyint(\(4\))? NOT NULL DEFAULT '?1'?,/);
  assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));
});

test('the Temporal CLI starts a migration with four fields (and execute): the rest take their defaults, under writes', {
  timeout: 300_000,
}, async () => {
  const db = 'rv_tcli_min';
  const rows = 100_000;
  await freshDatabase(db);
  await createTestTable(db, 't', rows);
  const given = minimalInput(db);
  const id = migrationWorkflowId(given.server, db, 't');
  // Writers run from before the start to after the end (no flag holds the cut-over, so the old
  // and new tables rightly differ by what came after it): the data checks are the migration's
  // own checksum, on by default, over every row before the cut-over, and every acknowledged
  // insert present in the migrated table afterwards.
  const load = new WriteLoad(db, 't', rows).start(2);
  let stdout: string;
  try {
    await startWithCli(id, given);
    ({ stdout } = await temporalCli('workflow', 'result', '--workflow-id', id, '--output', 'json'));
  } finally {
    await load.stop();
  }
  const result = JSON.parse(stdout);
  const status = ((result.result ?? result) as { status: MigrationStatus }).status;
  assert.equal(status.phase, 'completed', stdout);
  assert.ok(status.eventsApplied > 0, `writes were applied during the migration: ${status.eventsApplied}`);
  assert.ok((status.checksum?.rowsCompared ?? 0) >= rows * 0.9, `the checksum compared the rows: ${stdout}`);
  assert.deepEqual(await load.missingFrom('t'), [], 'every acknowledged insert is in the migrated table');
  assert.match(await showCreate(db, 't'), /`z` int(\(11\))? DEFAULT NULL/);
  // The history holds the input as given: nothing was added to it.
  const history = await temporal.client.workflow.getHandle(id).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0]?.data;
  assert.ok(payload, 'the started event carries the input');
  assert.deepEqual(Object.keys(JSON.parse(Buffer.from(payload).toString('utf8'))).sort(), Object.keys(given).sort());
});

test('malformed inputs fail the workflow within seconds, naming the field, with nothing created', {
  timeout: 120_000,
}, async () => {
  const db = 'rv_tcli_bad';
  await freshDatabase(db);
  await createTestTable(db, 't', 100);
  const base = minimalInput(db);
  const { table: _omitted, ...noTable } = base;
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['missing table', noTable, /input field table is required/],
    ['chunkSize "x"', { ...base, chunkSize: 'x' }, /input field chunkSize: "x" is not an integer from 10 to 100000/],
    ['chunkSize 0', { ...base, chunkSize: 0 }, /input field chunkSize: 0 is not an integer from 10 to 100000/],
    ['an unknown field', { ...base, chunk_size: 500 }, /input field chunk_size is unknown/],
    [
      'cutOverLockTimeoutSeconds -1',
      { ...base, cutOverLockTimeoutSeconds: -1 },
      /input field cutOverLockTimeoutSeconds: -1 is not an integer from 1 to 60/,
    ],
    ['execute "yes"', { ...base, execute: 'yes' }, /input field execute: "yes" is not true or false/],
    ['port 70000', { ...base, server: { ...base.server, port: 70000 } }, /input field server\.port: 70000/],
    ['no host', { ...base, server: { port: SERVER.port } }, /input field server\.host is required/],
    [
      'an unknown server field',
      { ...base, server: { ...base.server, password: 'x' } },
      /input field server\.password is unknown/,
    ],
    [
      'dmlBatchSize 2.5',
      { ...base, dmlBatchSize: 2.5 },
      /input field dmlBatchSize: 2\.5 is not an integer from 1 to 100/,
    ],
    ['niceRatio 1000', { ...base, niceRatio: 1000 }, /input field niceRatio: 1000 is not a number from 0 to 100/],
    [
      'throttleControlReplicas as a string',
      { ...base, throttleControlReplicas: 'db2:3306' },
      /input field throttleControlReplicas: "db2:3306" is not a list of strings/,
    ],
  ];
  for (const [name, given, expected] of cases) {
    const id = `rv-bad-input-${name.replace(/\W+/g, '-')}`;
    const started = Date.now();
    const handle = await temporal.client.workflow.start('migrateTable', {
      taskQueue: temporal.taskQueue,
      workflowId: id,
      args: [given],
    });
    const failure = await failureOf(handle);
    assert.match(failure, expected, name);
    assert.ok(Date.now() - started < 5_000, `${name}: refused in ${Date.now() - started} ms`);
    assert.deepEqual(await tablesIn(db), ['t'], `${name}: nothing created`);
  }
});

test('set, signals and the fleet: what does not fit is refused (or dropped) through the Temporal CLI, and the migration goes on', {
  timeout: 180_000,
}, async () => {
  const db = 'rv_tcli_payloads';
  await freshDatabase(db);
  await createTestTable(db, 't', 2_000);
  const given = { ...minimalInput(db), postponeCutOver: true };
  const id = migrationWorkflowId(given.server, db, 't');
  await startWithCli(id, given);
  const handle = temporal.client.workflow.getHandle(id);
  const status = () => handle.query(statusQuery);
  for (let i = 0; (await status()).phase !== 'postponed'; i++) {
    assert.ok(i < 600, `not postponed: ${(await status()).phase}`);
    await sleep(100);
  }
  const before = await status();

  // set, as a user types it: each bad value refused by the update's validator, in the words a
  // start uses (model/migration-input.ts), nothing applied.
  const badSets: [Record<string, unknown>, RegExp][] = [
    [{ 'chunk-size': 'x' }, /chunk-size must be a whole number, got "x"/],
    [{ 'chunk-size': 0 }, /chunk-size must be between 10 and 100000, got 0/],
    [{ 'copy-threads': 17 }, /copy-threads must be between 1 and 16, got 17/],
    [{ 'nice-ratio': -1 }, /nice-ratio must be between 0 and 100, got -1/],
    [{ 'dml-batch-size': 2.5 }, /dml-batch-size must be a whole number, got 2\.5/],
    [{ 'throttle-query': 'DELETE FROM t' }, /throttle-query must be a single SELECT statement/],
    [{ 'max-load': 'Threads_running' }, /max-load: "Threads_running" is not status_variable=number/],
    [{ speed: 9 }, /unknown setting speed/],
    [{}, /no setting to change/],
  ];
  for (const [change, expected] of badSets) {
    const r = await runTemporal(workflowSetArgs(id, change));
    assert.notEqual(r.code, 0, `${JSON.stringify(change)} was taken: ${r.out}`);
    assert.match(r.out, expected, JSON.stringify(change));
  }
  assert.equal((await status()).settings.version, before.settings.version, 'no refused value was applied');

  // Progress signals of other shapes, as any Temporal client may send them: dropped, and the
  // workflow's tasks go on (a set and the cut-over below need them).
  const badReports = [
    ['progress', 'null'],
    ['progress', '{"kind":"copy"}'],
    ['progress', '{"kind":"copy","copy":{"rowsCopied":-5,"chunksCopied":1,"done":false}}'],
    ['progress-reports', '"not a list"'],
    ['progress-reports', '[{"kind":"apply","apply":{"eventsApplied":"many"}}, 7, null]'],
    ['progress-reports', '[{"kind":"resume","phase":"cut-over","attempt":1,"checkpoint":"x","redone":0}]'],
    ['progress-reports', '[{"kind":"throttle","phase":"copy","reason":{"sql":"DROP TABLE t"}}]'],
  ];
  for (const [name, payload] of badReports) {
    await temporalCli('workflow', 'signal', '--workflow-id', id, '--name', name, '--input', payload);
  }
  const set = await temporalCli(...workflowSetArgs(id, { 'chunk-size': 300 }));
  assert.match(set.stdout, /chunkSize"?:\s*300\b/);
  const after = await status();
  assert.equal(after.rowsCopied, before.rowsCopied, 'no report of the wrong shape reached the status');
  assert.equal(after.resumes, before.resumes);
  assert.equal(after.throttled, before.throttled);
  await handle.signal(cutOverSignal);
  const result = (await handle.result()) as { status: MigrationStatus };
  assert.equal(result.status.phase, 'completed', result.status.message);
  assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));

  // A fleet started with an input that does not fit: refused within seconds, naming the field,
  // before a single target is resolved.
  const fleet = {
    name: 'rv-bad-fleet',
    servers: [{ host: SERVER.host, port: SERVER.port, databases: [db] }],
    table: 't',
    template: { alter: 'ADD COLUMN y INT NULL', execute: true, allowOnMaster: true },
  };
  const badFleets: [string, Record<string, unknown>, RegExp][] = [
    ['no servers', { ...fleet, servers: [] }, /input field servers: \[\] is not a non-empty list of objects/],
    [
      'a server without databases',
      { ...fleet, servers: [{ host: SERVER.host }] },
      /input field servers\[0\]\.databases is required/,
    ],
    [
      'onFailure "retry"',
      { ...fleet, onFailure: 'retry' },
      /input field onFailure: "retry" is not one of stop, continue/,
    ],
    ['maxConcurrent 0', { ...fleet, maxConcurrent: 0 }, /input field maxConcurrent: 0 is not an integer from 1 to 100/],
    [
      'template chunkSize "x"',
      { ...fleet, template: { ...fleet.template, chunkSize: 'x' } },
      /input field template\.chunkSize: "x" is not an integer from 10 to 100000/,
    ],
    ['a template without alter', { ...fleet, template: { execute: true } }, /input field template\.alter is required/],
    ['a password in login', { ...fleet, login: { password: 'x' } }, /input field login\.password is unknown/],
  ];
  for (const [name, input, expected] of badFleets) {
    const started = Date.now();
    const fleetHandle = await temporal.client.workflow.start('migrateFleet', {
      taskQueue: temporal.taskQueue,
      workflowId: `rv-bad-fleet-${name.replace(/\W+/g, '-')}`,
      args: [input],
    });
    assert.match(await failureOf(fleetHandle), expected, name);
    assert.ok(Date.now() - started < 5_000, `${name}: refused in ${Date.now() - started} ms`);
  }
  assert.deepEqual(await tablesIn(db), ['_t_del', 't'], 'no fleet created anything');
});
