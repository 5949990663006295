// Fleets (workflows/fleet.ts) through the real CLI, on three servers at once: the suite's
// MariaDB, a second MariaDB and a MySQL 9.7. Runs on the MariaDB pass only (it starts the MySQL
// itself). Writers run on every target while it copies; a gh-ost hook on each target
// (on-begin-postponed / on-before-cut-over) stops that target's writer just before its cut-over,
// so that the migrated table must equal the one put aside, row for row.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  admin,
  binlogPosition,
  checksum,
  createTestTable,
  IS_MYSQL,
  onePass,
  MYSQL_PORT,
  renamesInBinlog,
  runRevenant,
  ServerInstance,
  TEMPORAL_ADDRESS,
  WorkerProcess,
  WriteLoad,
} from '../support/helpers';
import { fleetWorkflowId, migrationWorkflowId, type FleetStatus, type MigrationResult } from '../../model/types';
import { sleep } from '../support/wait';
import { fleetStatusQuery, statusQuery } from '../../model/messages';

// It starts servers of both kinds itself: one MariaDB pass runs it.
const skip = IS_MYSQL ? 'needs a MariaDB and a MySQL at once: run on a MariaDB pass' : onePass('mariadb11', 'mariadb');
const WORK = join(process.env.REVENANT_TEST_WORK ?? '/tmp/revenant-fleet', 'fleet');
const MARIADB_B = Number(process.env.REVENANT_TEST_FAILOVER_PORT ?? 23313) + 1;
const MYSQL_C = MARIADB_B + 1;
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const QUEUE = 'fleet';

let serverB: ServerInstance;
let serverC: ServerInstance;
let connection: Connection;
let client: Client;
const workers = [new WorkerProcess(QUEUE), new WorkerProcess(QUEUE)];

before(async () => {
  if (skip) return;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  serverB = new ServerInstance(join(WORK, 'mariadb-b'), MARIADB_B, 21, [], 'mariadb');
  serverC = new ServerInstance(join(WORK, 'mysql-c'), MYSQL_C, 22, [], 'mysql');
  await Promise.all([serverB.start(), serverC.start()]);
  connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  client = new Client({ connection });
  for (const w of workers) await w.start();
});

after(async () => {
  if (skip) return;
  for (const w of workers) w.kill9();
  await connection?.close();
  await Promise.all([serverB?.stop(), serverC?.stop()]);
});

/** Databases `prefix_01…` on a server, each with table t. */
async function makeDatabases(port: number, prefix: string, n: number, rows: number): Promise<string[]> {
  const c = await admin(undefined, port);
  const names = Array.from({ length: n }, (_, i) => `${prefix}_${String(i + 1).padStart(2, '0')}`);
  for (const d of names) await c.query(`DROP DATABASE IF EXISTS \`${d}\`; CREATE DATABASE \`${d}\``);
  await c.end();
  for (const d of names) await createTestTable(d, 't', rows, port);
  return names;
}

/**
 * A writer on each target, stopped by that target's own hook just before its cut-over: the
 * hook asks (a file), the writer stops and answers (a file), the hook returns.
 */
class FleetWriters {
  readonly loads = new Map<string, { load: WriteLoad; port: number; stopped: boolean }>();
  private watching = true;
  private readonly watch: Promise<void>;
  readonly hooks = join(WORK, `hooks-${Math.random().toString(36).slice(2, 8)}`);
  constructor(targets: { port: number; database: string }[], rows: number) {
    mkdirSync(this.hooks, { recursive: true });
    const script = `#!/bin/bash\ntouch "${this.hooks}/stop-$GH_OST_DATABASE_NAME"\nfor i in $(seq 1 600); do [ -f "${this.hooks}/stopped-$GH_OST_DATABASE_NAME" ] && exit 0; sleep 0.05; done\nexit 1\n`;
    for (const h of ['gh-ost-on-begin-postponed', 'gh-ost-on-before-cut-over']) {
      writeFileSync(join(this.hooks, h), script);
      chmodSync(join(this.hooks, h), 0o755);
    }
    for (const t of targets)
      this.loads.set(t.database, {
        load: new WriteLoad(t.database, 't', rows, t.port).start(1, 150),
        port: t.port,
        stopped: false,
      });
    this.watch = (async () => {
      while (this.watching) {
        for (const [db, l] of this.loads) {
          if (!l.stopped && existsSync(join(this.hooks, `stop-${db}`))) {
            l.stopped = true;
            await l.load.stop();
            writeFileSync(join(this.hooks, `stopped-${db}`), '');
          }
        }
        await sleep(50);
      }
    })();
  }
  async stop(): Promise<void> {
    this.watching = false;
    await this.watch;
    await Promise.all([...this.loads.values()].map((l) => l.load.stop()));
  }
  /** Each target: the migrated table equals the one put aside; every acknowledged insert is in it. */
  async verify(): Promise<number> {
    let inserts = 0;
    for (const [db, l] of this.loads) {
      assert.deepEqual(l.load.errors, [], `${db}: writer errors`);
      assert.deepEqual(
        await checksum(db, 't', COLS, l.port),
        await checksum(db, '_t_del', COLS, l.port),
        `${db}: migrated equals original`,
      );
      assert.deepEqual(await l.load.missingFrom('t'), [], `${db}: every acknowledged insert is in the migrated table`);
      inserts += l.load.insertedNames.length;
    }
    return inserts;
  }
}

const fleetFile = (name: string, targets: object[]) => {
  const f = join(WORK, `${name}.json`);
  writeFileSync(f, JSON.stringify({ targets }, null, 2));
  return f;
};

/** The parent's history read back: the most children copying at once, and whether the canary ended before any other began. */
async function fromHistory(workflowId: string): Promise<{ maxCopying: number; canaryFirst: boolean; events: number }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  let copying = 0;
  let maxCopying = 0;
  const started: string[] = [];
  const ended: string[] = [];
  let canaryFirst = true;
  for (const e of history.events ?? []) {
    const id =
      e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ??
      e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId ??
      e.childWorkflowExecutionFailedEventAttributes?.workflowExecution?.workflowId;
    if (e.childWorkflowExecutionStartedEventAttributes) {
      copying++;
      if (started.length === 1 && !ended.includes(started[0])) canaryFirst = false;
      started.push(id!);
    } else if (e.childWorkflowExecutionCompletedEventAttributes || e.childWorkflowExecutionFailedEventAttributes) {
      copying--;
      ended.push(id!);
    }
    maxCopying = Math.max(maxCopying, copying);
  }
  return { maxCopying, canaryFirst, events: history.events?.length ?? 0 };
}

test('fleet: 48 targets on two MariaDB servers and a MySQL 9.7 under writes, --max-concurrent 4 --canary 1; a worker killed mid-fleet', {
  skip,
  timeout: 900_000,
}, async () => {
  const rows = 3_000;
  const a = await makeDatabases(MYSQL_PORT, 'fa', 20, rows);
  const b = await makeDatabases(MARIADB_B, 'fb', 20, rows);
  const c = await makeDatabases(MYSQL_C, 'fc', 8, rows);
  const file = fleetFile('shards', [
    { host: '127.0.0.1', port: MYSQL_PORT, databases: 'fa\\_%' },
    { host: '127.0.0.1', port: MARIADB_B, databases: 'fb\\_%' },
    { host: '127.0.0.1', port: MYSQL_C, databases: 'fc\\_%' },
  ]);
  const writers = new FleetWriters(
    [
      ...a.map((d) => ({ port: MYSQL_PORT, database: d })),
      ...b.map((d) => ({ port: MARIADB_B, database: d })),
      ...c.map((d) => ({ port: MYSQL_C, database: d })),
    ],
    rows,
  );
  try {
    const r = await runRevenant(
      [
        'migrate',
        '--fleet',
        file,
        '--table',
        't',
        '--user',
        'revenant',
        '--alter',
        'ADD COLUMN shard_note VARCHAR(20) NULL',
        '--max-concurrent',
        '4',
        '--canary',
        '1',
        '--hooks-path',
        writers.hooks,
        '--allow-on-master',
        '--execute',
        '--detach',
      ],
      QUEUE,
    );
    assert.equal(r.code, 0, r.out);
    const handle = client.workflow.getHandle(fleetWorkflowId('shards'));
    // Mid-fleet, paused: the running targets' copies hold, their activities (copy, applier) stay
    // with the worker that runs them; one such worker now dies, and the other takes them over.
    // (Unpaused, a picked activity of these small tables could end before the kill lands.)
    for (;;) {
      const s = await handle.query(fleetStatusQuery);
      assert.ok(!['failed', 'completed'].includes(s.phase), `fleet ended early: ${s.message}`);
      if (s.counts.done >= 8 && s.counts.copying > 0) break;
      await sleep(100);
    }
    const paused = await runRevenant(['pause', '--fleet', 'shards'], QUEUE);
    assert.equal(paused.code, 0, paused.out);
    const held = await handle.query(fleetStatusQuery);
    assert.equal(held.paused, true);
    let victim: WorkerProcess | undefined;
    for (const deadline = Date.now() + 60_000; !victim; await sleep(200)) {
      assert.ok(Date.now() < deadline, 'no running target held an activity on either worker');
      const s = await handle.query(fleetStatusQuery);
      for (const t of s.targets.filter((x) => x.state === 'copying')) {
        const d = await client.workflow
          .getHandle(t.workflowId)
          .describe()
          .catch(() => undefined);
        const busy = (d?.raw.pendingActivities ?? []).map((a) => String(a.lastWorkerIdentity ?? ''));
        victim ??= workers.find((w) => busy.some((id) => id.startsWith(`${w.pid()}@`)));
      }
    }
    victim.kill9();
    const survivor = workers.find((w) => w !== victim)!;

    // One control: pause (above), set and resume on the fleet reach its running targets; status shows it all.
    const set = await runRevenant(['set', 'chunk-size=700', '--fleet', 'shards'], QUEUE);
    assert.match(set.out, /"chunkSize":700/);
    const refused = await runRevenant(['set', 'chunk-size=-3', '--fleet', 'shards'], QUEUE);
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, /rejected: chunk-size must be/);
    await sleep(1500);
    const running = (await handle.query(fleetStatusQuery)).targets.filter((t) => t.state === 'copying');
    for (const t of running) {
      const m = await client.workflow.getHandle(t.workflowId).query(statusQuery);
      assert.equal(m.settings.paused, true, `${t.database} paused by the fleet`);
      assert.equal(m.settings.chunkSize, 700, `${t.database} took the fleet's chunk size`);
    }
    const status = await runRevenant(['status', '--fleet', 'shards'], QUEUE);
    assert.match(status.out, /^Fleet shards: rolling \(paused\); 48 targets: \d+ done, \d+ copying/m);
    assert.match(status.out, /127\.0\.0\.1:\d+ +fa_01\.t +done/);
    assert.equal(
      (await handle.query(fleetStatusQuery)).counts.copying,
      running.length,
      'nothing new starts while paused',
    );
    const resumed = await runRevenant(['resume', '--fleet', 'shards'], QUEUE);
    assert.equal(resumed.code, 0, resumed.out);
    const result = (await handle.result()) as { status: FleetStatus };
    const s = result.status;
    assert.equal(s.phase, 'completed', s.message);
    assert.equal(s.targets.length, 48);
    assert.equal(s.counts.done, 48);
    const h = await fromHistory(fleetWorkflowId('shards'));
    console.log(
      `fleet of 48: most copying at once ${h.maxCopying} (by the history; ${s.maxCopying} by the fleet), canary first: ${h.canaryFirst}, ` +
        `${h.events} events in the parent's history, ${Math.round(s.elapsedSeconds)} s`,
    );
    assert.ok(h.maxCopying <= 4 && h.maxCopying >= 2, `copying at once: ${h.maxCopying}`);
    assert.ok(h.canaryFirst, 'the canary completed before any other target started');
    await writers.stop();
    const inserts = await writers.verify();
    assert.ok(inserts > 100, `the writers inserted too little (${inserts})`);
    // Zero redo on every target, though a worker died under some.
    let resumes = 0;
    let retried = 0;
    for (const t of s.targets) {
      const h = client.workflow.getHandle(t.workflowId);
      const m = (await h.result()) as MigrationResult;
      assert.equal(m.status.redoneChunks, 0, `${t.database}: chunks re-copied`);
      assert.equal(m.status.redoneEvents, 0, `${t.database}: events re-applied`);
      resumes += m.status.resumes;
      // An activity the dead worker held ends in a later attempt, on the survivor.
      retried += ((await h.fetchHistory()).events ?? []).filter(
        (e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1,
      ).length;
    }
    console.log(
      `${inserts} acknowledged inserts, all present; ${retried} activities finished by a later attempt after the kill (${resumes} from a checkpoint), zero redo`,
    );
    assert.ok(retried >= 1, "the killed worker's activities were taken over by the other");
    assert.ok(survivor.pid() > 0, 'the survivor lives');
    // Temporal Web lists the fleet's workflows by its search attribute.
    const listed = [];
    for await (const w of client.workflow.list({ query: 'RevenantFleet = "shards"' })) listed.push(w.workflowId);
    assert.ok(listed.length >= 49, `listed by RevenantFleet: ${listed.length}`);
  } finally {
    await writers.stop();
    // Two workers again for the tests after this one.
    for (const w of workers) {
      try {
        w.pid();
      } catch {
        await w.start();
      }
    }
  }
});

test('fleet: a target that fails stops new starts (--on-failure stop); fixed, --resurrect completes the rest and skips what is done', {
  skip,
  timeout: 600_000,
}, async () => {
  const dbs = await makeDatabases(MYSQL_PORT, 'fs', 6, 500);
  const c = await admin(dbs[1]);
  await c.query('CREATE TRIGGER t_ins BEFORE INSERT ON t FOR EACH ROW SET NEW.note = NEW.note');
  await c.end();
  const file = fleetFile('stopper', [{ host: '127.0.0.1', port: MYSQL_PORT, databases: dbs }]);
  const args = [
    'migrate',
    '--fleet',
    file,
    '--table',
    't',
    '--user',
    'revenant',
    '--alter',
    'ADD COLUMN flag TINYINT NOT NULL DEFAULT 1',
    '--max-concurrent',
    '2',
    '--allow-on-master',
    '--execute',
  ];
  const first = await runRevenant(args, QUEUE);
  assert.equal(first.code, 1, first.out);
  assert.match(first.out, /ERROR 1 target\(s\) failed: fs_02 on 127\.0\.0\.1:\d+ \(.*trigger/);
  const s = await client.workflow.getHandle(fleetWorkflowId('stopper')).query(fleetStatusQuery);
  assert.deepEqual(
    s.targets.map((t) => t.state),
    ['done', 'failed', 'pending', 'pending', 'pending', 'pending'],
    'nothing new started after the failure',
  );
  for (const d of dbs.slice(2)) {
    await assert.rejects(
      client.workflow.getHandle(migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, d, 't')).describe(),
      `${d} never started`,
    );
  }
  const fix = await admin(dbs[1]);
  await fix.query('DROP TRIGGER t_ins');
  await fix.end();
  const again = await runRevenant([...args, '--resurrect'], QUEUE);
  assert.equal(again.code, 0, again.out);
  const done = (await client.workflow.getHandle(fleetWorkflowId('stopper')).result()) as { status: FleetStatus };
  assert.deepEqual(
    done.status.targets.map((t) => t.state),
    ['skipped', 'done', 'done', 'done', 'done', 'done'],
  );
  for (const d of dbs) {
    const x = await admin(d);
    const [cols] = await x.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't' AND COLUMN_NAME = 'flag'",
      [d],
    );
    await x.end();
    assert.equal(Number(cols[0].n), 1, `${d} migrated once`);
  }
});

test('fleet: --cut-over together on 8 targets on two servers: all hold, then all cut over within seconds of each other', {
  skip,
  timeout: 600_000,
}, async () => {
  const rows = 5_000;
  const a = await makeDatabases(MYSQL_PORT, 'ft', 4, rows);
  const c = await makeDatabases(MYSQL_C, 'fu', 4, rows);
  const file = fleetFile('together', [
    { host: '127.0.0.1', port: MYSQL_PORT, databases: 'ft\\_%' },
    { host: '127.0.0.1', port: MYSQL_C, databases: 'fu\\_%' },
  ]);
  const from = { a: await binlogPosition(MYSQL_PORT), c: await binlogPosition(MYSQL_C) };
  const writers = new FleetWriters(
    [...a.map((d) => ({ port: MYSQL_PORT, database: d })), ...c.map((d) => ({ port: MYSQL_C, database: d }))],
    rows,
  );
  try {
    const r = await runRevenant(
      [
        'migrate',
        '--fleet',
        file,
        '--table',
        't',
        '--user',
        'revenant',
        '--alter',
        'ADD COLUMN together_at INT NULL',
        '--max-concurrent',
        '4',
        '--cut-over',
        'together',
        '--hooks-path',
        writers.hooks,
        '--allow-on-master',
        '--execute',
      ],
      QUEUE,
    );
    assert.equal(r.code, 0, r.out);
    const s = ((await client.workflow.getHandle(fleetWorkflowId('together')).result()) as { status: FleetStatus })
      .status;
    const at = s.targets.map((t) => t.renamedAt!);
    assert.ok(
      at.every((x) => typeof x === 'number'),
      'every target reports when it renamed',
    );
    const spread = Math.max(...at) - Math.min(...at);
    console.log(
      `cut-over together: 8 RENAMEs within ${spread} ms of each other (first ${new Date(Math.min(...at)).toISOString()})`,
    );
    assert.ok(spread < 2_000, `spread ${spread} ms`);
    // Each server's four targets in one RENAME, one statement in its binlog; the two servers' spread reported.
    for (const [port, dbs, f] of [
      [MYSQL_PORT, a, from.a],
      [MYSQL_C, c, from.c],
    ] as const) {
      const logged = await renamesInBinlog(f, (q) => dbs.some((d) => q.includes(`\`${d}\`.`)), port);
      assert.equal(logged.length, 1, `one RENAME on ${port}: ${logged.join(' | ')}`);
      for (const d of dbs)
        assert.ok(logged[0].includes(`\`${d}\`.\`_t_gho\` TO \`${d}\`.\`t\``), `${d} in ${logged[0]}`);
    }
    assert.equal(s.renames?.length, 2);
    assert.equal(typeof s.renameSpreadMs, 'number');
    console.log(`one RENAME a server; between the two servers' RENAMEs: ${s.renameSpreadMs} ms`);
    // Holding targets do not copy: four copy at once, then the other four, and all eight hold together.
    assert.ok(s.maxCopying <= 4, `copying at once: ${s.maxCopying}`);
    await writers.stop();
    await writers.verify();
  } finally {
    await writers.stop();
  }
});
