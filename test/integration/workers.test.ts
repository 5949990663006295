// Production shape: two `revenant worker` processes on one task queue, each serving
// Prometheus metrics. The one running the copy is killed mid-copy; the other takes the copy
// over from its checkpoint and the migration completes with equal checksums. The metrics
// endpoints are scraped while it runs: rows copied, events applied, apply lag, SDK metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import {
  checksum,
  createTestTable,
  freshDatabase,
  input,
  scrapeMetric,
  TEMPORAL_ADDRESS,
  terminateLeftover,
  WorkerProcess,
  WriteLoad,
  ONE_SERVER,
  PORT_OFFSET,
} from '../support/helpers';
import { migrationWorkflowId, type MigrationStatus } from '../../model/types';
import { sleep } from '../support/wait';
import { cutOverSignal, statusQuery } from '../../model/messages';

const DB = 'rev_workers';
const ROWS = 200_000;
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const QUEUE = 'revenant-two-workers';
const METRICS = [`127.0.0.1:${29464 + PORT_OFFSET}`, `127.0.0.1:${29465 + PORT_OFFSET}`];

test('two workers: the copy moves to the survivor when its worker is killed; metrics show it', {
  skip: ONE_SERVER,
  timeout: 600_000,
}, async () => {
  await freshDatabase(DB);
  await createTestTable(DB, 't', ROWS);
  const workers = METRICS.map(
    (m) => new WorkerProcess(QUEUE, TEMPORAL_ADDRESS, { REVENANT_METRICS_ADDRESS: m, REVENANT_LOG_FORMAT: 'json' }),
  );
  await Promise.all(workers.map((w) => w.start()));
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const load = new WriteLoad(DB, 't', ROWS).start(2);
  const tags = { database: DB, table: 't' };
  const rowsCopied = (i: number) => scrapeMetric(METRICS[i], 'revenant_rows_copied', tags).catch(() => undefined);
  try {
    const i = input(DB, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 7', {
      chunkSize: 500,
      niceRatio: 1,
      postponeCutOver: true,
    });
    await terminateLeftover(client, migrationWorkflowId(i.server, DB, 't'));
    const handle = await client.workflow.start('migrateTable', {
      taskQueue: QUEUE,
      workflowId: migrationWorkflowId(i.server, DB, 't'),
      args: [i],
    });

    // Find the worker that copies: its endpoint counts the rows as they commit (the status
    // hears of them with the worker's next gathered progress report, seconds later).
    let active = -1;
    let copied = 0;
    while (active < 0 || copied < ROWS * 0.2) {
      await sleep(300);
      const s: MigrationStatus = await handle.query(statusQuery);
      for (const w of [0, 1]) {
        const n = (await rowsCopied(w)) ?? 0;
        if (n > 0) [active, copied] = [w, n];
      }
      assert.notEqual(s.phase, 'failed', s.message);
      assert.notEqual(s.phase, 'postponed', 'the copy ended before a worker could be killed');
    }
    // While it runs, the endpoints carry revenant's metrics and the SDK's.
    const lag = await Promise.all(
      METRICS.map((m) => scrapeMetric(m, 'revenant_apply_lag_seconds', tags).catch(() => undefined)),
    );
    const applied = await Promise.all(
      METRICS.map((m) => scrapeMetric(m, 'revenant_events_applied', tags).catch(() => undefined)),
    );
    assert.ok(
      lag.some((x) => x !== undefined),
      'apply lag is exposed',
    );
    assert.ok(
      applied.some((x) => (x ?? 0) > 0),
      'events applied are exposed',
    );
    assert.ok(
      (await scrapeMetric(METRICS[active], 'temporal_activity_execution_latency_count')) !== undefined ||
        (await scrapeMetric(METRICS[active], 'temporal_worker_task_slots_available')) !== undefined,
      'SDK metrics are exposed',
    );
    const copiedBeforeKill = (await rowsCopied(active))!;
    assert.ok(copiedBeforeKill < ROWS * 0.9, `the copy was nearly done before the kill: ${copiedBeforeKill} rows`);

    workers[active].kill9();
    const survivor = 1 - active;
    const done = await (async () => {
      for (;;) {
        const x: MigrationStatus = await handle.query(statusQuery);
        if (x.phase === 'postponed' || x.phase === 'failed') return x;
        await sleep(500);
      }
    })();
    assert.equal(done.phase, 'postponed', done.message);
    const survivorCopied = (await rowsCopied(survivor)) ?? 0;
    console.log(`workers: ${copiedBeforeKill} rows copied before the kill, ${survivorCopied} by the survivor`);
    assert.ok(survivorCopied > 0, `the survivor copied the rest (${copiedBeforeKill} copied before the kill)`);
    assert.ok(
      copiedBeforeKill + survivorCopied <= ROWS + 1000,
      `rows copied twice? ${copiedBeforeKill} + ${survivorCopied} for ${ROWS}`,
    );

    await load.stop();
    assert.deepEqual(load.errors, []);
    await handle.signal(cutOverSignal);
    const r = await handle.result();
    assert.equal(r.status.phase, 'completed');
    assert.ok(r.status.resumes >= 1, 'the copy resumed on the survivor');
    assert.equal(r.status.redoneChunks, 0);
    assert.equal(r.status.redoneEvents, 0);
    assert.ok(
      ((await scrapeMetric(METRICS[survivor], 'revenant_cutover_attempts', tags)) ?? 0) >= 1,
      'cut-over attempts are counted',
    );
    assert.deepEqual(await checksum(DB, 't', COLS), await checksum(DB, '_t_del', COLS), 'migrated equals original');
    assert.deepEqual(await load.missingFrom('t'), []);
    assert.match(
      workers[survivor].log,
      /^\{"time":"[^"]+","level":"INFO","msg":"revenant worker started"/m,
      'structured JSON logs',
    );
  } finally {
    await load.stop();
    for (const w of workers) w.kill9();
    await connection.close();
  }
});
