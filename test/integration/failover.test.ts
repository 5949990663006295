// A failover mid-migration (MySQL 9.7, GTIDs): the master is killed mid-copy under writes, its
// GTID replica is promoted and the writes move to it; `--resurrect` on the new master continues
// from the checkpoint, which reached the replica with the ghost rows it describes (the same
// transactions). Checked first: the checkpoint's GTIDs are all in the new master's
// gtid_executed. The migration completes on the new master: equal, every acknowledged write
// present, nothing copied or applied twice.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  createTestTable,
  freshDatabase,
  input,
  IS_MYSQL,
  replicaCaughtUp,
  REPLICATION,
  ServerInstance,
  startReplicaPair,
  startTemporal,
  waitForPhase,
  waitForStatus,
  WriteLoad,
  type TestTemporal,
} from '../support/helpers';
import type { MigrationResult } from '../../model/types';
import { cutOverSignal } from '../../model/messages';

const WORK = process.env.REVENANT_TEST_WORK ?? '/tmp/revenant-test';
const MASTER = Number(process.env.REVENANT_TEST_FAILOVER_PORT ?? 23413);
const REPLICA = MASTER + 1;
const ROWS = 100_000;
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const skip = IS_MYSQL
  ? false
  : "the failover asked for is MySQL's, by GTID auto-positioning (MariaDB resumes by its own GTIDs in the fault suite)";

const master = new ServerInstance(join(WORK, 'failover-master'), MASTER, 31);
const replica = new ServerInstance(join(WORK, 'failover-replica'), REPLICA, 32, [REPLICATION.logUpdatesFlag]);
let temporal: TestTemporal | undefined;

before(async () => {
  if (skip) return;
  await startReplicaPair(master, replica);
  temporal = await startTemporal('test-failover');
});
after(async () => {
  await temporal?.close();
  for (const s of [replica, master]) await s.stop().catch(() => {});
});

const caughtUp = () => replicaCaughtUp(MASTER, REPLICA);

test('failover: the master killed mid-copy, its GTID replica promoted; --resurrect there completes, every acknowledged write present, zero redo', {
  skip,
  timeout: 600_000,
}, async () => {
  const db = 'rv_failover';
  await freshDatabase(db, MASTER);
  await createTestTable(db, 't', ROWS, MASTER);
  await caughtUp();
  const oldWrites = new WriteLoad(db, 't', ROWS, MASTER).start(2);
  const newWrites = new WriteLoad(db, 't', ROWS, REPLICA, 'promoted-');
  try {
    const i = input(db, 't', 'ADD COLUMN f INT NOT NULL DEFAULT 2', {
      server: { host: '127.0.0.1', port: MASTER, user: 'revenant' },
      allowOnMaster: true,
      chunkSize: 300,
      copyThreads: 1,
      niceRatio: 2,
      postponeCutOver: true,
    });
    const first = await temporal!.start(i);
    await waitForStatus(first, (s) => s.rowsCopied >= 20_000 && s.eventsApplied > 0, 'copy and apply under way');
    // The writers stop and the replica has all they wrote (what semi-sync promises a failover);
    // then the master dies.
    await oldWrites.stop();
    assert.deepEqual(oldWrites.errors, []);
    await caughtUp();
    process.kill(master.pid(), 'SIGKILL');

    // The replica is promoted; the writes move to it. The old run can reach nothing: the
    // operator ends it and resurrects the migration on the new master.
    const r = await admin(undefined, REPLICA);
    await r.query(`${REPLICATION.stop}; RESET REPLICA ALL`);
    await r.end();
    newWrites.start(2);
    await first.terminate('the master failed over');
    const second = await temporal!.start({
      ...i,
      server: { host: '127.0.0.1', port: REPLICA, user: 'revenant' },
      resurrect: true,
    });
    const held = await waitForPhase(second, ['postponed', 'failed']);
    assert.equal(held.phase, 'postponed', held.message);
    assert.ok(
      held.resurrected && held.rowsCopied > 20_000,
      `the copy went on from its checkpoint (${held.rowsCopied} rows)`,
    );
    await newWrites.stop();
    assert.deepEqual(newWrites.errors, []);
    assert.ok(newWrites.insertedNames.length > 0, 'writes reached the new master during the migration');
    await second.signal(cutOverSignal);
    const { status } = (await second.result()) as MigrationResult;
    assert.equal(status.phase, 'completed', status.message);
    assert.equal(status.redoneChunks, 0, 'chunks re-copied');
    assert.equal(status.redoneEvents, 0, 'events re-applied');
    assert.deepEqual(
      await checksum(db, 't', COLS, REPLICA),
      await checksum(db, '_t_del', COLS, REPLICA),
      'migrated equals original on the new master',
    );
    assert.deepEqual(
      await oldWrites.missingFrom('t', REPLICA),
      [],
      'every insert the old master acknowledged is in the migrated table',
    );
    assert.deepEqual(
      await newWrites.missingFrom('t'),
      [],
      'every insert the new master acknowledged is in the migrated table',
    );
  } finally {
    await oldWrites.stop();
    await newWrites.stop();
  }
});
