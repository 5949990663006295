// An upgrade in the middle of a migration: a migration is begun by workers of the previous
// release (its source in test/previous-release.tar.gz, built here in a folder of its own),
// those workers are killed mid-copy, and workers of the current code finish it. The new code
// must replay the old run's history (patch markers guard every change since) and take the
// checkpoints up: it completes, equal, nothing copied or applied twice. Workflow code does not
// depend on the database server: run once, on the MariaDB pass.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import {
  checksum,
  createTestTable,
  freshDatabase,
  MYSQL_PORT,
  ONE_SERVER,
  runCommand,
  startTemporal,
  TEMPORAL_ADDRESS,
  waitForPhase,
  waitForStatus,
  WorkerProcess,
  WriteLoad,
  type TestTemporal,
  migrateArgs,
} from '../support/helpers';
import { migrationWorkflowId, type MigrationResult } from '../../model/types';
import { FIXTURES, ROOT } from '../support/paths';
import { cutOverSignal } from '../../model/messages';

const WORK = process.env.REVENANT_TEST_WORK ?? '/tmp/revenant-test';
const PREVIOUS = join(WORK, 'previous-release');
const COMMIT = readFileSync(join(FIXTURES, 'previous-release.commit'), 'utf8').trim();
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const QUEUE = 'test-upgrade';
const skip = ONE_SERVER;

let current: TestTemporal | undefined;
let connection: Connection | undefined;
before(async () => {
  if (skip) return;
  // The previous release, built as its own package.json builds it, with this checkout's modules.
  rmSync(PREVIOUS, { recursive: true, force: true });
  mkdirSync(PREVIOUS, { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(PREVIOUS, 'node_modules'));
  const built = await runCommand('bash', [
    '-c',
    `tar -xzf ${join(FIXTURES, 'previous-release.tar.gz')} -C ${PREVIOUS} && cd ${PREVIOUS} && npm run --silent build`,
  ]);
  assert.equal(built.code, 0, `building ${COMMIT}: ${built.out}`);
});
after(async () => {
  await current?.close();
  await connection?.close();
});

test(`an upgrade mid-copy: begun by workers of ${COMMIT.slice(0, 7)}, killed, finished by the current code; equal, zero redo`, {
  skip,
  timeout: 600_000,
}, async () => {
  const db = 'rv_upgrade';
  await freshDatabase(db);
  await createTestTable(db, 't', 60_000);
  const load = new WriteLoad(db, 't', 60_000).start(2);
  const old = new WorkerProcess(QUEUE, TEMPORAL_ADDRESS, {}, PREVIOUS);
  try {
    await old.start();
    // Started by the previous release's own CLI: its input, as it wrote it.
    const started = await runCommand(
      'node',
      [
        join(PREVIOUS, 'bin', 'revenant.js'),
        ...migrateArgs(db, 't', 'ADD COLUMN u INT NOT NULL DEFAULT 9'),
        '--allow-on-master',
        '--execute',
        '--chunk-size',
        '300',
        '--copy-threads',
        '1',
        '--nice-ratio',
        '2',
        '--postpone-cut-over',
        '--detach',
      ],
      { ...process.env, TEMPORAL_ADDRESS, REVENANT_TASK_QUEUE: QUEUE },
    );
    assert.equal(started.code, 0, started.out);
    // Only the old workers poll the queue until they die.
    connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    const handle = new Client({ connection }).workflow.getHandle(
      migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, db, 't'),
    );
    await waitForStatus(handle, (s) => s.rowsCopied >= 10_000, 'the copy under the old workers');
    // The deploy: the old workers die; the current code's take over.
    old.kill9();
    current = await startTemporal(QUEUE);
    const postponed = await waitForPhase(handle, ['postponed', 'failed']);
    assert.equal(postponed.phase, 'postponed', postponed.message);
    await load.stop();
    assert.deepEqual(load.errors, []);
    await handle.signal(cutOverSignal);
    const { status } = (await handle.result()) as MigrationResult;
    assert.equal(status.phase, 'completed', status.message);
    assert.ok(status.resumes >= 1, 'the copy resumed on the current workers');
    assert.equal(status.redoneChunks, 0, 'chunks re-copied');
    assert.equal(status.redoneEvents, 0, 'events re-applied');
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS), 'migrated equals original');
    assert.deepEqual(await load.missingFrom('t'), [], 'every acknowledged insert is in the migrated table');
    // The run was begun by the old code (no marker of this release's) and finished by the new.
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(!history.includes('renew-history'), "begun without this release's markers");
  } finally {
    old.kill9();
    await load.stop();
  }
});
