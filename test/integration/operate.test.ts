// Operating a running migration: pause, resume, tune, postponed cut-over, abort, search
// attributes. First with the real `temporal` binary only, then with revenant's subcommands.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  createTestTable,
  freshDatabase,
  input,
  MYSQL_PORT,
  runRevenant,
  runTemporal,
  startTemporal,
  tablesIn,
  terminateLeftover,
  WriteLoad,
  workflowStartArgs,
  type TestTemporal,
  ONE_SERVER,
  failureText,
  workflowSetArgs,
  tableArgs,
} from '../support/helpers';
import { migrationWorkflowId, type MigrationStatus } from '../../model/types';
import { sleep } from '../support/wait';
import { statusQuery } from '../../model/messages';

const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-operate');
});
after(async () => {
  await temporal.close();
});

const cli = (...args: string[]) => runTemporal(args);
const revenant = (...args: string[]) => runRevenant(args, 'test-operate');

/** The committed checkpoints, straight from the changelog: the truth about progress. */
async function checkpoints(db: string): Promise<{ chunks: number; rows: number; events: number; position: number }> {
  const c = await admin(db);
  const [r] = await c.query<RowDataPacket[]>(
    "SELECT hint, value FROM _t_ghc WHERE hint IN ('copy-checkpoint', 'binlog-checkpoint')",
  );
  await c.end();
  const v = Object.fromEntries(r.map((x) => [x.hint, JSON.parse(x.value)]));
  return {
    chunks: v['copy-checkpoint'].chunksCopied,
    rows: v['copy-checkpoint'].rowsCopied,
    events: v['binlog-checkpoint'].eventsApplied,
    position: v['binlog-checkpoint'].position,
  };
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(200);
  }
}

/**
 * Pause: once the activities report it (their settings read through the workflow, the reason
 * reported once it has held half a second: about a second here, 2.6 s once in CI with three
 * servers tested at once), neither copy nor apply commits anything, for 5 s, under write load.
 */
async function assertPaused(db: string, status: () => Promise<MigrationStatus>): Promise<void> {
  await until('throttle reason in the status', status, (s) => /paused by operator/.test(s.throttled ?? ''), 10_000);
  await sleep(500);
  const a = await checkpoints(db);
  await sleep(5000);
  const b = await checkpoints(db);
  assert.deepEqual(b, a, 'no chunk copied and no event applied while paused');
  // The status tells where the copy holds (the throttle report carries it), not the last
  // periodic report's count: at most a chunk per copier (2 × 200 rows) can commit after it.
  const s = await status();
  assert.ok(
    s.phase === 'migrating' && b.rows < s.rowsEstimate,
    `paused mid-copy (${s.phase}, ${b.rows} of ${s.rowsEstimate} rows)`,
  );
  assert.ok(b.rows - s.rowsCopied <= 400, `status while paused: ${s.rowsCopied} rows copied; committed: ${b.rows}`);
}

test('the temporal binary alone: start, status, pause, tune, resume, postponed cut-over, search attributes', {
  skip: ONE_SERVER,
  timeout: 300_000,
}, async () => {
  const db = 'rv_op_temporal';
  await freshDatabase(db);
  await createTestTable(db, 't', 100_000);
  const load = new WriteLoad(db, 't', 100_000).start(2);
  const i = input(db, 't', 'ADD COLUMN c INT NOT NULL DEFAULT 0', {
    chunkSize: 200,
    niceRatio: 1,
    postponeCutOver: true,
  });
  const id = migrationWorkflowId(i.server, db, 't');
  // A query can fail just after the start, before the run's first workflow task is done: asked
  // again for up to 10 s, then the CLI's words are the failure.
  const status = async (): Promise<MigrationStatus> => {
    for (let tries = 1; ; tries++) {
      const r = await cli('workflow', 'query', '--workflow-id', id, '--name', 'status', '--output', 'json');
      if (r.code === 0) {
        const parsed = JSON.parse(r.out);
        return (parsed.queryResult ?? parsed.result ?? parsed)[0];
      }
      if (tries >= 50) throw new Error(`temporal workflow query failed: ${r.out}`);
      await sleep(200);
    }
  };
  await terminateLeftover(temporal.client, id);
  try {
    let r = await cli(...workflowStartArgs(temporal.taskQueue, id, i));
    assert.equal(r.code, 0, r.out);
    await until('copy progress', status, (s) => s.phase === 'migrating' && s.rowsCopied > 0);

    // Found by table while it runs.
    await until(
      'search by table',
      () =>
        cli(
          'workflow',
          'list',
          '--query',
          `RevenantDatabase="${db}" AND RevenantTable="t" AND ExecutionStatus="Running"`,
        ),
      (x) => x.out.includes(id),
      20_000,
    );

    r = await cli('workflow', 'signal', '--workflow-id', id, '--name', 'pause');
    assert.equal(r.code, 0, r.out);
    await assertPaused(db, status);

    r = await cli(...workflowSetArgs(id, { 'chunk-size': 50 }));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /chunkSize:50\b/);
    // Invalid values are refused with the reason, and change nothing.
    r = await cli(...workflowSetArgs(id, { 'chunk-size': 0 }));
    assert.notEqual(r.code, 0);
    assert.match(r.out, /chunk-size must be between 10 and 100000, got 0/);
    r = await cli(...workflowSetArgs(id, { 'max-load': 'Threads_running' }));
    assert.notEqual(r.code, 0);
    assert.match(r.out, /max-load: "Threads_running" is not status_variable=number/);
    const s1 = await status();
    assert.equal(s1.settings.chunkSize, 50);
    assert.equal(s1.settings.maxLoad, '');

    r = await cli('workflow', 'signal', '--workflow-id', id, '--name', 'resume');
    assert.equal(r.code, 0, r.out);
    const before = await checkpoints(db);
    await until(
      'chunks copied with the new chunk size',
      status,
      (s) => s.chunkSizeInUse === 50 && !s.throttled,
      15_000,
    );
    await until(
      'progress after resume',
      () => checkpoints(db),
      (c) => c.chunks > before.chunks,
      15_000,
    );

    await cli(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      id,
      '--name',
      'set',
      '--input',
      '{"chunk-size": 2000, "nice-ratio": 0}',
    );
    await until('postponed', status, (s) => s.phase === 'postponed');
    await load.stop();
    r = await cli('workflow', 'signal', '--workflow-id', id, '--name', 'cut-over');
    assert.equal(r.code, 0, r.out);
    r = await cli('workflow', 'result', '--workflow-id', id, '--output', 'json');
    assert.match(r.out, /"phase":\s*"completed"/);
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));
    // Found by phase once complete.
    await until(
      'search by phase',
      () => cli('workflow', 'list', '--query', `RevenantDatabase="${db}" AND RevenantPhase="completed"`),
      (x) => x.out.includes(id),
      20_000,
    );
  } finally {
    await load.stop();
  }
});

test('revenant status | pause | resume | set | cut-over | list | abort', {
  skip: ONE_SERVER,
  timeout: 300_000,
}, async () => {
  const db = 'rv_op_revenant';
  await freshDatabase(db);
  await createTestTable(db, 't', 100_000);
  const load = new WriteLoad(db, 't', 100_000).start(2);
  const where = [...tableArgs(db, 't'), '--allow-on-master'];
  const status = async (): Promise<MigrationStatus> =>
    temporal.client.workflow
      .getHandle(migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, db, 't'))
      .query(statusQuery);
  await terminateLeftover(temporal.client, migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, db, 't'));
  try {
    let r = await revenant(
      'migrate',
      ...where,
      '--alter',
      'ADD COLUMN c INT NOT NULL DEFAULT 0',
      '--execute',
      '--chunk-size',
      '200',
      '--nice-ratio',
      '1',
      '--postpone-cut-over',
      '--detach',
    );
    assert.equal(r.code, 0, r.out);
    await until('copy progress', status, (s) => s.rowsCopied > 0);
    r = await revenant('pause', ...where);
    assert.equal(r.code, 0, r.out);
    await assertPaused(db, status);
    r = await revenant('status', ...where);
    assert.match(
      r.out,
      /State: migrating, throttled \((copy|apply): paused by operator(; (copy|apply): paused by operator)?\)/,
    );
    assert.match(r.out, /Settings: paused=true chunk-size=200/);

    r = await revenant('set', 'chunk-size=0', ...where);
    assert.equal(r.code, 2);
    assert.match(r.out, /rejected: .*chunk-size must be between 10 and 100000, got 0/);
    r = await revenant('set', 'chunk-size=80', 'max-load=Threads_running=500', ...where);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /settings in force: paused=true chunk-size=80 .*max-load="Threads_running=500"/);
    r = await revenant('resume', ...where);
    assert.equal(r.code, 0, r.out);
    await until(
      'chunks copied with the new chunk size',
      status,
      (s) => s.chunkSizeInUse === 80 && !s.throttled,
      15_000,
    );

    // The copy may be done by now (its last chunks went at 80 rows): any phase of a running migration.
    r = await revenant('list');
    assert.match(
      r.out,
      new RegExp(`revenant:127\\.0\\.0\\.1:${MYSQL_PORT}:${db}\\.t\\tRUNNING\\t(migrating|indexing|postponed)`),
    );

    await revenant('set', 'chunk-size=2000', 'nice-ratio=0', ...where);
    await until('postponed', status, (s) => s.phase === 'postponed');
    await load.stop();
    r = await revenant('cut-over', ...where);
    assert.equal(r.code, 0, r.out);
    const final = await until('completed', status, (s) => s.phase === 'completed');
    assert.equal(final.phase, 'completed');
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));
  } finally {
    await load.stop();
  }

  // Abort with clean-up: ghost and changelog dropped, the original untouched.
  const db2 = 'rv_op_abort';
  await freshDatabase(db2);
  await createTestTable(db2, 't', 50_000);
  const before2 = await checksum(db2, 't', COLS);
  const where2 = where.map((w) => (w === db ? db2 : w));
  let r = await revenant(
    'migrate',
    ...where2,
    '--alter',
    'ADD COLUMN c INT',
    '--execute',
    '--chunk-size',
    '100',
    '--nice-ratio',
    '2',
    '--detach',
  );
  assert.equal(r.code, 0, r.out);
  const handle = temporal.client.workflow.getHandle(
    migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, db2, 't'),
  );
  await until(
    'copy progress',
    () => handle.query(statusQuery),
    (s) => s.rowsCopied > 0,
  );
  r = await revenant('abort', '--cleanup', ...where2);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /aborting rv_op_abort\.t: ghost and changelog will be dropped/);
  await assert.rejects(handle.result(), (e: unknown) =>
    /aborted by the operator; ghost and changelog dropped, original table untouched/.test(failureText(e)),
  );
  assert.deepEqual(await tablesIn(db2), ['t']);
  assert.deepEqual(await checksum(db2, 't', COLS), before2);
});
