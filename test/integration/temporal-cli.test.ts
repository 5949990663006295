// The same migration driven by the real `temporal` binary: start with JSON input (no
// secrets), query its status, wait for its result.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  checksum,
  createTestTable,
  freshDatabase,
  input,
  showCreate,
  runTemporal,
  startTemporal,
  type TestTemporal,
  ONE_SERVER,
} from '../support/helpers';
import { migrationWorkflowId, type MigrationStatus } from '../../workflows/types';

const temporalCli = async (...args: string[]) => {
  const r = await runTemporal(args);
  assert.equal(r.code, 0, r.out);
  return { stdout: r.out };
};
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
  await temporalCli(
    'workflow',
    'start',
    '--type',
    'migrateTable',
    '--task-queue',
    temporal.taskQueue,
    '--workflow-id',
    id,
    '--input',
    JSON.stringify(i),
  );

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
  const cols = ['id', 'uk', 'name', 'amount', 'note', 'created'];
  assert.deepEqual(await checksum(db, 't', cols), await checksum(db, '_t_del', cols));
});
