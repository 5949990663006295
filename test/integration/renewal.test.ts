// History bounded however long a migration lasts (workflows/renewal.ts): with the limit
// lowered, one migration under writes continues as new while it copies and again while its
// cut-over is postponed. Across the runs the operator notices nothing: status, pause and
// resume, `set`, the CLI's status and the result follow the newest run; the settings, the
// checksum's outcome and the postponed cut-over carry over; nothing is copied or applied twice;
// and each run's history stays under the limit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  checksum,
  createTestTable,
  freshDatabase,
  input,
  MYSQL_PORT,
  runRevenant,
  startTemporal,
  waitForStatus,
  WriteLoad,
  type TestTemporal,
  ONE_SERVER,
  migrateArgs,
} from '../support/helpers';
import { migrationWorkflowId, type MigrationResult, type MigrationStatus } from '../../model/types';
import { sleep } from '../support/wait';
import { cutOverSignal, pauseSignal, resumeSignal, setUpdate, statusQuery } from '../../model/messages';

const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const LIMIT = 110;
let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-renewal');
});
after(async () => {
  await temporal.close();
});

test('history bounded: the migration continues as new while copying and while postponed; control, status and the result follow it; zero redo', {
  skip: ONE_SERVER,
  timeout: 600_000,
}, async () => {
  const db = 'rv_renewal';
  await freshDatabase(db);
  await createTestTable(db, 't', 60_000);
  const load = new WriteLoad(db, 't', 60_000).start(2);
  try {
    // One copier of small chunks resting twelve times a chunk's time: a copy of half a minute or
    // more, reporting every 2 s (at chunk size 300 and nice ratio 2 an idle machine copied it in 6 s,
    // before the history had filled once; at 100 and 4, in 13 s, before the pause reached it).
    // Once resumed, the rest of the copy goes at full speed.
    const i = input(db, 't', 'ADD COLUMN r INT NOT NULL DEFAULT 4', {
      server: { host: '127.0.0.1', port: MYSQL_PORT, user: 'revenant' },
      chunkSize: 100,
      copyThreads: 1,
      niceRatio: 12,
      postponeCutOver: true,
      checksum: true,
      historyLimit: LIMIT,
    });
    const id = migrationWorkflowId(i.server, db, 't');
    const handle = temporal.client.workflow.getHandle(id);
    await temporal.start(i);

    // Renewed mid-copy: the operator's controls reach the new run.
    const renewed = await waitForStatus(
      handle,
      (s) => (s.renewals ?? 0) >= 1 && s.phase === 'migrating' && s.rowsCopied > 0,
      'a renewal mid-copy',
      240_000,
    );
    assert.ok(renewed.rowsCopied < 60_000, `renewed while copying (${renewed.rowsCopied} rows)`);
    // Paused at once: on an idle machine the rest of the copy takes seconds, and the checks
    // below (the attached CLI, the search attributes) may take as long.
    await handle.signal(pauseSignal);
    // Temporal Web's "current details" of the new run name the table and its ALTER, as the first
    // run's did (a continued run has no static summary of its own).
    const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.ok(
      currentDetails?.includes(`**${db}.t**: \`ADD COLUMN r INT NOT NULL DEFAULT 4\``),
      `the renewed run's details: ${currentDetails}`,
    );
    // The same command again attaches, and follows the migration through the runs to come.
    const attached = runRevenant(
      [...migrateArgs(db, 't', i.alter), '--allow-on-master', '--execute', '--postpone-cut-over'],
      'test-renewal',
    );
    // Temporal Web's search attributes name the newest run.
    // (Visibility lags a moment behind the runs.)
    let listed: string[] = [];
    for (let tries = 0; tries < 50; tries++) {
      listed = [];
      for await (const w of temporal.client.workflow.list({
        query: `RevenantDatabase="${db}" AND RevenantTable="t" AND ExecutionStatus="Running"`,
      }))
        listed.push(w.runId);
      if (listed.length === 1 && listed[0] === (await handle.describe()).runId) break;
      await sleep(200);
    }
    assert.deepEqual(listed, [(await handle.describe()).runId], 'the search attributes find the running run');
    // The copy's own report (the applier's may come first, while the copy's chunk in hand commits).
    const paused = await waitForStatus(
      handle,
      (s) => s.settings.paused && /copy: paused by operator/.test(s.throttled ?? ''),
      'paused',
      240_000,
    );
    await sleep(2000);
    const still = (await handle.query(statusQuery)) as MigrationStatus;
    assert.equal(still.rowsCopied, paused.rowsCopied, 'paused: no rows copied');
    await handle.signal(resumeSignal);
    const answer = await handle.executeUpdate(setUpdate, { args: [{ 'chunk-size': 400, 'nice-ratio': 0 }] });
    assert.equal((answer as any).chunkSize, 400);

    // Renewed again, and once more while the cut-over is postponed: the settings carry over.
    const postponed = await waitForStatus(
      handle,
      (s) => s.phase === 'postponed' && (s.renewals ?? 0) >= 3,
      'a renewal while postponed',
      300_000,
    );
    assert.equal(postponed.settings.chunkSize, 400, "the operator's chunk-size carried over");
    assert.equal(postponed.settings.paused, false);
    assert.ok(
      postponed.checksum && postponed.checksum.rowsCompared >= 60_000,
      'the checksum ran, and its outcome carried over',
    );
    const cli = await runRevenant(
      ['status', '--host', '127.0.0.1', '--port', String(MYSQL_PORT), '--database', db, '--table', 't'],
      'test-renewal',
    );
    assert.equal(cli.code, 0, cli.out);
    assert.match(cli.out, /State: postponed.*Continued as new: \d+x/);

    await load.stop();
    assert.deepEqual(load.errors, []);
    await handle.signal(cutOverSignal);
    const result = (await handle.result()) as MigrationResult;
    const s = result.status;
    assert.equal(s.phase, 'completed', s.message);
    assert.equal(s.redoneChunks, 0, 'chunks re-copied');
    assert.equal(s.redoneEvents, 0, 'events re-applied');
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS), 'migrated equals original');
    assert.deepEqual(await load.missingFrom('t'), [], 'every acknowledged insert is in the migrated table');
    const cliRun = await attached;
    assert.equal(cliRun.code, 0, cliRun.out);
    assert.match(cliRun.out, /attached to the running migration/);
    assert.match(cliRun.out, /Continued as new: \dx/);

    // Each run's history: back from the last run along continuedExecutionRunId.
    const lengths: number[] = [];
    let runId: string | undefined = (await handle.describe()).runId;
    while (runId) {
      const history: { events?: any[] | null } = await temporal.client.workflow.getHandle(id, runId).fetchHistory();
      const events = history.events ?? [];
      lengths.unshift(events.length);
      runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    }
    console.log(`renewal: ${lengths.length} runs, history lengths ${lengths.join(', ')} (limit ${LIMIT})`);
    assert.ok(lengths.length >= 4, `runs: ${lengths.length}`);
    for (const n of lengths) assert.ok(n <= LIMIT, `each run's history stays under the limit: ${lengths.join(', ')}`);
  } finally {
    await load.stop();
  }
});
