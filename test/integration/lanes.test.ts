// The applier's lanes (binlog/apply-lanes.ts): a large batch is applied by several connections
// at once, each the changes of its share of the keys. Writers move the same hot keys back and
// forth as fast as they can (the primary key away and back, delete and insert again, a unique
// value flipped), so every batch holds many changes of each key and its lanes write at once.
// The worker is killed while it holds between its lanes' commits and its own (a failpoint): the
// retry must not apply those lanes' shares again, nor miss anything. At the end the migrated
// table equals the original by checksum, and the checkpoints in the binlog chain.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { auditCheckpoints } from '../support/audit';
import {
  admin,
  binlogPosition,
  checksum,
  freshDatabase,
  input,
  seq,
  tablesIn,
  TEMPORAL_ADDRESS,
  WorkerProcess,
} from '../support/helpers';
import { sleep, waitForValue } from '../support/wait';
import { migrationWorkflowId, type MigrationStatus } from '../../model/types';
import { cutOverSignal, statusQuery } from '../../model/messages';

const QUEUE = 'lanes';
const ROWS = 20_000;
/** The keys the writers move back and forth: few, so that each batch changes each many times. */
const HOT = 400;
const COLS = ['id', 'uk', 'v', 'note'];
const AWAY = 1_000_000;

let connection: Connection;
let client: Client;
/** Holds 3 s after its lanes commit and before the applier's checkpoint does: where it is killed. */
const holding = new WorkerProcess(QUEUE, TEMPORAL_ADDRESS, { REVENANT_FAILPOINTS: 'apply:lanes-committed=3000' });
const plain = new WorkerProcess(QUEUE);

before(async () => {
  connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  client = new Client({ connection });
});
after(async () => {
  holding.kill9();
  plain.kill9();
  await connection?.close();
});

/** Writers on the hot keys; errors of their own collisions (a key moved or taken by another writer) are expected. */
class BackAndForth {
  commits = 0;
  readonly unexpected: string[] = [];
  private stopping = false;
  private readonly loops: Promise<void>[];
  constructor(private readonly db: string) {
    this.loops = [0, 1, 2, 3].map(() => this.loop());
  }
  private async loop(): Promise<void> {
    const c = await admin(this.db);
    for (let n = 0; !this.stopping; n++) {
      const id = 1 + Math.floor(Math.random() * HOT);
      try {
        switch (n % 4) {
          case 0:
            await c.query('UPDATE t SET id = id + ? WHERE id = ?', [AWAY, id]);
            await c.query('UPDATE t SET id = id - ? WHERE id = ?', [AWAY, id + AWAY]);
            break;
          case 1:
            await c.query('START TRANSACTION');
            await c.query('DELETE FROM t WHERE id = ?', [id]);
            await c.query('INSERT INTO t (id, uk, v, note) VALUES (?, ?, ?, ?)', [id, id, n, `again ${n}`]);
            await c.query('COMMIT');
            break;
          case 2:
            await c.query('UPDATE t SET uk = -uk WHERE id = ?', [id]);
            break;
          default:
            await c.query('UPDATE t SET v = v + 1, note = ? WHERE id = ?', [`n${n}`, id]);
        }
        this.commits++;
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        if (!['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_DUP_ENTRY'].includes(code))
          this.unexpected.push((e as Error).message);
        await c.query('ROLLBACK').catch(() => {});
      }
    }
    await c.end();
  }
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }
}

test('lanes apply at once and exactly: kill -9 between their commits and the checkpoint', {
  timeout: 600_000,
}, async () => {
  const db = 'rv_lanes';
  await freshDatabase(db);
  const c = await admin(db);
  await c.query(
    'CREATE TABLE t (id INT NOT NULL, uk INT NULL, v BIGINT NOT NULL, note VARCHAR(40) NULL, PRIMARY KEY (id), UNIQUE KEY uk (uk)) ENGINE=InnoDB',
  );
  await c.query(`INSERT INTO t SELECT seq, seq, 0, CONCAT('row ', seq) FROM ${seq(ROWS)} AS s`);
  const startPos = await binlogPosition();
  const writers = new BackAndForth(db);
  const migration = input(db, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 7', {
    postponeCutOver: true,
    applyThreads: 4,
  });
  await plain.start();
  const handle = await client.workflow.start('migrateTable', {
    taskQueue: QUEUE,
    workflowId: migrationWorkflowId(migration.server, db, 't'),
    args: [migration],
  });
  const status = () => handle.query(statusQuery);
  try {
    await waitForValue('the copy done', async () => ((await status()).phase === 'postponed' ? true : undefined), {
      timeoutMs: 180_000,
    });
    // The worker that holds between the lanes' commits and the checkpoint takes over (once the
    // dead worker's heartbeat times out), and is killed there.
    const logged = (w: WorkerProcess, re: RegExp, what: string, timeoutMs = 60_000) =>
      waitForValue(what, async () => re.exec(w.log) ?? undefined, { timeoutMs });
    let resumedPastLanes = 0;
    const seen: string[] = [];
    plain.kill9();
    for (let kill = 0; kill < 2; kill++) {
      holding.log = '';
      await holding.start();
      await logged(holding, /apply resumed/, 'the holding worker to take the applier over');
      // Killed while it holds there (it says so as it starts to), however loaded the machine.
      await logged(holding, /failpoint apply:lanes-committed: holding/, 'the holding worker to hold after its lanes');
      holding.kill9();
      plain.log = '';
      await plain.start();
      await logged(plain, /apply resumed/, 'the plain worker to take the applier over');
      // The retry found lanes past the checkpoint and left out what they had committed.
      const dropped = await logged(
        plain,
        /apply lanes: (\d+) row change\(s\) that lanes had committed past the checkpoint were not applied again/,
        'the retry to pass the lanes ahead',
        5_000,
      ).catch(() => undefined);
      if (Number(dropped?.[1]) > 0) resumedPastLanes++;
      seen.push(...plain.log.split('\n').filter((l) => l.includes('apply lanes')));
      plain.kill9();
    }
    await plain.start();
    assert.ok(
      resumedPastLanes >= 1,
      `a retry found lanes committed past the checkpoint, and did not apply their changes again: ${seen.join('\n')}`,
    );
    await sleep(2_000);
    await writers.stop();
    assert.deepEqual(writers.unexpected, []);
    assert.ok(writers.commits > 2_000, `the writers committed too little (${writers.commits})`);
    // Every lane applied its share of some batch.
    const lanes = await waitForValue('every lane to commit', async () => {
      const [r] = await c.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM _t_ghc WHERE hint LIKE 'apply-lane-%'");
      return Number(r[0].n) >= 4 ? Number(r[0].n) : undefined;
    });
    assert.ok(lanes >= 4);
    await handle.signal(cutOverSignal);
    const result = (await handle.result()) as { status: MigrationStatus };
    assert.equal(result.status.phase, 'completed');
    assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS), 'migrated equals original');
    assert.equal(result.status.redoneEvents, 0, 'events re-applied after resume');
    const audit = await auditCheckpoints(Number(migration.server.port), db, 't', startPos, await binlogPosition());
    assert.ok(audit.laneCommits > 20, `lane commits in the binlog: ${audit.laneCommits}`);
    assert.deepEqual(audit.batchBreaks, [], 'applied batches chain: no event applied twice, none skipped');
    assert.deepEqual(audit.laneBreaks, [], "each lane's commits move forward: no share applied twice");
    assert.deepEqual(audit.laneOverruns, [], 'a retry applies nothing until it has read past the lanes ahead');
  } finally {
    await writers.stop();
    await c.end();
  }
});
