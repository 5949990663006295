// Gentle with production, against a real replica: a second server replicating from a first
// over loopback (MariaDB: log_slave_updates, GTID positions; MySQL: log_replica_updates, GTID
// auto-positioning, REPLICA / SOURCE syntax). Each topology completes under write load on the master;
// a replica whose SQL thread stops throttles the copy within two seconds, named in the status,
// and the copy carries on once replication does.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  replicaCaughtUp as caughtUp,
  REPLICATION,
  ServerInstance,
  createTestTable,
  freshDatabase,
  input,
  startReplicaPair,
  startTemporal,
  tablesIn,
  terminateLeftover,
  WriteLoad,
  type TestTemporal,
  failureText,
} from '../support/helpers';
import { migrationWorkflowId, type MigrationInput, type MigrationStatus } from '../../model/types';
import { sleep } from '../support/wait';
import { cutOverSignal, statusQuery } from '../../model/messages';

const WORK = process.env.REVENANT_TEST_WORK ?? '/tmp/revenant-replica';
const MASTER = Number(process.env.REVENANT_TEST_TOPO_MASTER_PORT ?? 23310);
const REPLICA = Number(process.env.REVENANT_TEST_TOPO_REPLICA_PORT ?? 23311);
const ROWS = 60_000;
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const server = (port: number) => ({ host: '127.0.0.1', port, user: 'revenant' });

const masterServer = new ServerInstance(join(WORK, 'topo-master'), MASTER, 11);
const replicaServer = new ServerInstance(join(WORK, 'topo-replica'), REPLICA, 12, [REPLICATION.logUpdatesFlag]);
let temporal: TestTemporal;

before(async () => {
  await startReplicaPair(masterServer, replicaServer);
  temporal = await startTemporal('replica-topologies');
});

after(async () => {
  await temporal?.close();
  for (const d of [replicaServer, masterServer]) await d.stop().catch(() => {});
});

async function onReplica<T>(fn: (c: Awaited<ReturnType<typeof admin>>) => Promise<T>): Promise<T> {
  const c = await admin(undefined, REPLICA);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Waits until the replica has applied everything the master has written. */
const replicaCaughtUp = () => caughtUp(MASTER, REPLICA);

async function setUp(db: string): Promise<WriteLoad> {
  await freshDatabase(db, MASTER);
  await createTestTable(db, 't', ROWS, MASTER);
  await replicaCaughtUp();
  return new WriteLoad(db, 't', ROWS, MASTER).start(2);
}

async function waitFor(
  handle: { query: (q: typeof statusQuery) => Promise<MigrationStatus> },
  pred: (s: MigrationStatus) => boolean,
  what: string,
  timeoutMs = 240_000,
): Promise<MigrationStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s: MigrationStatus = await handle.query(statusQuery);
    if (pred(s)) return s;
    if (s.phase === 'failed') throw new Error(`migration failed while waiting for ${what}: ${s.message}`);
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; phase ${s.phase}${s.throttled ? `, throttled (${s.throttled})` : ''}, ${s.rowsCopied} rows copied`,
      );
    await sleep(100);
  }
}

async function start(i: MigrationInput) {
  await terminateLeftover(temporal.client, migrationWorkflowId(i.server, i.database, i.table));
  return temporal.start(i);
}

/**
 * For the tests that stop a replica mid-copy: the copy must still run seconds after the replica
 * starts lagging, for the throttle to be seen holding it. At a nice ratio of three, a dense
 * key's chunks cut by arithmetic copied the 60,000 rows in about four seconds, and MariaDB's
 * copy ended before the throttle was seen.
 */
const SLOW_COPY = { niceRatio: 20 };

function migration(db: string, port: number, extra: Partial<MigrationInput>): MigrationInput {
  return input(db, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 7', {
    // One copier, resting three times a chunk's time (the throttle tests rest longer).
    server: server(port),
    allowOnMaster: false,
    chunkSize: 200,
    copyThreads: 1,
    niceRatio: 3,
    postponeCutOver: true,
    ...extra,
  });
}

/** Stops the load, lets the replica and the applier catch up, cuts over. */
async function finish(handle: any, load: WriteLoad): Promise<MigrationStatus> {
  await waitFor(handle, (s) => s.phase === 'postponed', 'postponed');
  await load.stop();
  assert.deepEqual(load.errors, []);
  await replicaCaughtUp();
  await handle.signal(cutOverSignal);
  const r = await handle.result();
  assert.equal(r.status.phase, 'completed');
  return r.status;
}

async function columnsOf(db: string, port: number): Promise<string[]> {
  const c = await admin(undefined, port);
  const [r] = await c.query<RowDataPacket[]>(
    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION",
    [db],
  );
  await c.end();
  return r.map((x) => String(x.COLUMN_NAME));
}

test('default topology: read the replica, write its master; a stopped SQL thread throttles within 2 s, and the copy resumes', {
  timeout: 600_000,
}, async () => {
  const db = 'rv_topo_replica';
  const load = await setUp(db);
  try {
    // --checksum across servers: the master's original locked, the marker read back from the replica's binlog.
    const handle = await start(migration(db, REPLICA, { ...SLOW_COPY, maxLagMillis: 1000, checksum: true }));
    await waitFor(handle, (s) => s.phase === 'migrating' && s.rowsCopied >= 5_000, 'copy under way');

    await onReplica((c) => c.query(`${REPLICATION.stop} SQL_THREAD`));
    const stopped = Date.now();
    const throttled = await waitFor(
      handle,
      (s) => new RegExp(`lag: replica 127\\.0\\.0\\.1:${REPLICA}`).test(s.throttled ?? ''),
      'throttled on lag',
      10_000,
    );
    const after = Date.now() - stopped;
    console.log(`replica lag: copy throttled ${after} ms after STOP SLAVE SQL_THREAD (max-lag-millis 1000)`);
    assert.ok(after <= 2_500, `copy throttled ${after} ms after the SQL thread stopped`);
    await sleep(1000);
    const a = (await handle.query(statusQuery)) as MigrationStatus;
    await sleep(3000);
    const b = (await handle.query(statusQuery)) as MigrationStatus;
    assert.equal(b.rowsCopied, a.rowsCopied, `no rows copied while the replica lags (${throttled.throttled})`);
    assert.ok(
      b.phase === 'migrating' && b.rowsCopied < b.rowsEstimate,
      `held mid-copy (${b.phase}, ${b.rowsCopied} of ${b.rowsEstimate} rows)`,
    );
    assert.match(
      b.throttled ?? '',
      new RegExp(`lag: replica 127\\.0\\.0\\.1:${REPLICA} is \\d+\\.\\ds behind \\(max-lag-millis 1000\\)`),
    );

    await onReplica((c) => c.query(`${REPLICATION.start} SQL_THREAD`));
    await waitFor(handle, (s) => s.rowsCopied > b.rowsCopied && !s.throttled, 'copy resumes', 60_000);
    const done = await finish(handle, load);
    // A replica reads the master's binlog: an index build there would lag it for as long.
    assert.equal(done.deferredIndexes, undefined, 'no secondary index deferred on a master with a replica');
    assert.ok(
      done.checksum && done.checksum.rowsCompared >= ROWS / 2 && done.checksum.skippedColumns.length === 0,
      `checksum: ${JSON.stringify(done.checksum)}`,
    );

    // Migrated on the master; the replica follows by replication.
    assert.deepEqual(await tablesIn(db, MASTER), ['_t_del', 't']);
    assert.deepEqual(
      await checksum(db, 't', COLS, MASTER),
      await checksum(db, '_t_del', COLS, MASTER),
      'master: migrated equals original',
    );
    assert.deepEqual(await load.missingFrom('t'), []);
    await replicaCaughtUp();
    assert.ok((await columnsOf(db, REPLICA)).includes('extra'), 'the replica got the migrated table by replication');
    assert.deepEqual(
      await checksum(db, 't', COLS, REPLICA),
      await checksum(db, 't', COLS, MASTER),
      'replica equals master',
    );
  } finally {
    await load.stop();
    await onReplica((c) => c.query(REPLICATION.start));
  }
});

test("--allow-on-master with --throttle-control-replicas: the control replica's lag throttles too", {
  timeout: 600_000,
}, async () => {
  const db = 'rv_topo_master';
  const load = await setUp(db);
  try {
    const handle = await start(
      migration(db, MASTER, {
        ...SLOW_COPY,
        allowOnMaster: true,
        throttleControlReplicas: [`127.0.0.1:${REPLICA}`],
        maxLagMillis: 1000,
      }),
    );
    await waitFor(handle, (s) => s.phase === 'migrating' && s.rowsCopied >= 5_000, 'copy under way');
    await onReplica((c) => c.query(`${REPLICATION.stop} SQL_THREAD`));
    const held = await waitFor(
      handle,
      (s) => new RegExp(`lag: replica 127\\.0\\.0\\.1:${REPLICA}`).test(s.throttled ?? ''),
      'throttled on the control replica',
      10_000,
    );
    assert.ok(
      held.phase === 'migrating' && held.rowsCopied < held.rowsEstimate,
      `held mid-copy (${held.phase}, ${held.rowsCopied} of ${held.rowsEstimate} rows)`,
    );
    await onReplica((c) => c.query(`${REPLICATION.start} SQL_THREAD`));
    await finish(handle, load);
    assert.deepEqual(await checksum(db, 't', COLS, MASTER), await checksum(db, '_t_del', COLS, MASTER));
  } finally {
    await load.stop();
    await onReplica((c) => c.query(REPLICATION.start));
  }
});

test("--migrate-on-replica: the replica's table is migrated, the master's untouched, replication runs on", {
  timeout: 600_000,
}, async () => {
  const db = 'rv_topo_migrate';
  const load = await setUp(db);
  try {
    const handle = await start(migration(db, REPLICA, { migrateOnReplica: true }));
    await finish(handle, load);
    assert.deepEqual(await tablesIn(db, MASTER), ['t'], 'nothing of the migration on the master');
    assert.ok(!(await columnsOf(db, MASTER)).includes('extra'), "the master's table is as it was");
    assert.ok((await columnsOf(db, REPLICA)).includes('extra'), "the replica's table is migrated");
    const running = await onReplica(async (c) => (await c.query<RowDataPacket[]>(REPLICATION.status))[0][0]);
    assert.equal(running[REPLICATION.sqlRunning], 'Yes', 'replication was started again after the cut-over');
    await replicaCaughtUp();
    assert.deepEqual(
      await checksum(db, 't', COLS, REPLICA),
      await checksum(db, '_t_del', COLS, REPLICA),
      'replica: migrated equals original',
    );
    assert.deepEqual(
      await checksum(db, 't', COLS, REPLICA),
      await checksum(db, 't', COLS, MASTER),
      'replica equals master on the shared columns',
    );
  } finally {
    await load.stop();
  }
});

test('--test-on-replica: replication stops, the tables swap and swap back; both equal, master untouched', {
  timeout: 600_000,
}, async () => {
  const db = 'rv_topo_test';
  const load = await setUp(db);
  try {
    const handle = await start(migration(db, REPLICA, { testOnReplica: true }));
    const s = await finish(handle, load);
    assert.match(s.message ?? '', new RegExp(`test-on-replica: replication on 127\\.0\\.0\\.1:${REPLICA} is stopped`));
    assert.deepEqual(
      await tablesIn(db, REPLICA),
      ['_t_gho', 't'],
      'the replica keeps the original and the migrated copy',
    );
    assert.ok(!(await columnsOf(db, REPLICA)).includes('extra'), 't on the replica is the original');
    assert.deepEqual(
      await checksum(db, '_t_gho', COLS, REPLICA),
      await checksum(db, 't', COLS, REPLICA),
      'replica: migrated equals original',
    );
    const slave = await onReplica(async (c) => (await c.query<RowDataPacket[]>(REPLICATION.status))[0][0]);
    assert.equal(slave[REPLICATION.sqlRunning], 'No', 'replication stays stopped');
    assert.deepEqual(await tablesIn(db, MASTER), ['t'], 'master untouched');
    assert.ok(!(await columnsOf(db, MASTER)).includes('extra'));
  } finally {
    await load.stop();
    await onReplica((c) => c.query(REPLICATION.start));
  }
});

test('connected to a master without --allow-on-master, revenant refuses before anything is created', {
  timeout: 120_000,
}, async () => {
  const db = 'rv_topo_refuse';
  await freshDatabase(db, MASTER);
  await createTestTable(db, 't', 100, MASTER);
  const handle = await start(migration(db, MASTER, {}));
  await assert.rejects(handle.result(), (e: unknown) => /is not a replica.*--allow-on-master/.test(failureText(e)));
  assert.deepEqual(await tablesIn(db, MASTER), ['t']);
});

test('--assume-master-host with --master-user: the master is written as its own user, with the password kept for it', {
  timeout: 180_000,
}, async () => {
  const db = 'rv_topo_master_user';
  await freshDatabase(db, MASTER);
  await createTestTable(db, 't', 1000, MASTER);
  const m = await admin(undefined, MASTER);
  await m.query(
    "DROP USER IF EXISTS 'rv_master'@'%'; CREATE USER 'rv_master'@'%' IDENTIFIED BY 'm4ster-secret'; GRANT ALL ON *.* TO 'rv_master'@'%'",
  );
  await m.end();
  await replicaCaughtUp();
  // A worker that knows the master's password by its address (a standing worker's way; the
  // CLI's --master-password does the same for its embedded worker), and revenant's elsewhere.
  const config = join(WORK, 'master-user-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      mysql: { [`127.0.0.1:${MASTER}`]: { password: 'm4ster-secret' }, default: { password: 'revenant' } },
    }),
  );
  const own = await startTemporal('replica-master-user', { REVENANT_CONFIG: config });
  try {
    const dryRun = (extra: Partial<MigrationInput>) =>
      own.start(
        migration(db, REPLICA, {
          assumeMasterHost: `127.0.0.1:${MASTER}`,
          execute: false,
          postponeCutOver: false,
          ...extra,
        }),
      );
    // The replica's user on the master, with the master's password: refused, nothing made.
    await assert.rejects((await dryRun({})).result(), (e: unknown) =>
      /cannot log in to 127\.0\.0\.1:\d+ as revenant/.test(failureText(e)),
    );
    assert.deepEqual(await tablesIn(db, MASTER), ['t']);
    // As rv_master: the ghost is made, altered and dropped on the master.
    const r = await (await dryRun({ masterUser: 'rv_master' })).result();
    assert.equal(r.status.phase, 'dry-run-completed', r.status.message);
  } finally {
    await own.close();
  }
});
