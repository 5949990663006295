// Shared test plumbing: the real database server (MariaDB or MySQL, REVENANT_TEST_SERVER) and
// Temporal server that scripts/test.sh started (their addresses in the environment), more
// instances of the same server for the tests that need their own, an in-process worker per
// test file, a concurrent write load, and checksums that compare tables row for row.
import type { RowDataPacket } from 'mysql2';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { credentialsFromEnvironment } from '../../mysql/credentials';
import { escapeId, qualified } from '../../mysql/statements';
import { createWorker } from '../../worker/worker';
import { DEFAULTS, migrationWorkflowId, type MigrationInput, type MigrationStatus } from '../../model/types';
import { REVENANT_BIN, ROOT } from './paths';
import { statusQuery } from '../../model/messages';

export const MYSQL_PORT = Number(process.env.REVENANT_TEST_MYSQL_PORT ?? 23306);
/** This pass's offset of every fixed port (scripts/test.sh runs the server passes side by side, 100 apart). */
export const PORT_OFFSET = Number(process.env.REVENANT_TEST_PORT_OFFSET ?? 0);
/** Which server the suite runs against: scripts/test.sh runs it once for each. */
export const SERVER_KIND: 'mariadb' | 'mysql' = process.env.REVENANT_TEST_SERVER === 'mysql' ? 'mysql' : 'mariadb';
export const IS_MYSQL = SERVER_KIND === 'mysql';
/** "MariaDB" or "MySQL", for test names. */
export const SERVER_NAME = IS_MYSQL ? 'MySQL' : 'MariaDB';

/**
 * Another private instance of the suite's server (scripts/mariadb.sh or scripts/mysql.sh,
 * which take the same arguments): data, socket and pid in `dir`.
 */
export class ServerInstance {
  /** `kind`: the other server than the suite's, for a test that needs both (a fleet). */
  constructor(
    readonly dir: string,
    readonly port: number,
    readonly serverId: number,
    readonly extra: string[] = [],
    readonly kind: 'mariadb' | 'mysql' = SERVER_KIND,
  ) {}
  private script(): string {
    return join(ROOT, 'scripts', `${this.kind}.sh`);
  }
  async start(): Promise<void> {
    const r = await runCommand('bash', [
      this.script(),
      'start',
      this.dir,
      String(this.port),
      String(this.serverId),
      ...this.extra,
    ]);
    if (r.code !== 0) throw new Error(`could not start ${this.kind} in ${this.dir}: ${r.out}`);
  }
  async stop(): Promise<void> {
    await runCommand('bash', [this.script(), this.kind === 'mysql' ? 'remove' : 'stop', this.dir]);
  }
  /** The server process, for kill -9. */
  pid(): number {
    return Number(readFileSync(join(this.dir, this.kind === 'mysql' ? 'mysqld.pid' : 'mariadb.pid'), 'utf8').trim());
  }
}

/**
 * A derived table of the integers 1..n as column `seq`, on either server (MariaDB's
 * seq_1_to_N tables are its own): a cross join of digits.
 */
export function seq(n: number): string {
  const digits =
    '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
  const k = Math.max(1, String(Math.max(0, n - 1)).length);
  const terms = Array.from({ length: k }, (_, i) => `d${i}.d * ${10 ** i}`).join(' + ');
  const from = Array.from({ length: k }, (_, i) => `${digits} AS d${i}`).join(' CROSS JOIN ');
  return `(SELECT 1 + ${terms} AS seq FROM ${from} WHERE 1 + ${terms} <= ${Math.floor(n)})`;
}

/**
 * The skip reason of a test of what does not depend on the database server (Temporal, the CLI,
 * the worker, the workflow's control): it runs on one pass of the suite only, the first of
 * `preferred` the suite has (the passes run side by side: the long ones are spread over them),
 * else the suite's first. Everything that reads or writes MySQL runs on every pass.
 */
export function onePass(...preferred: ('mariadb' | 'mysql' | 'mariadb11')[]): string | false {
  const pass = process.env.REVENANT_TEST_PASS ?? SERVER_KIND;
  const passes = (process.env.REVENANT_TEST_PASSES ?? pass).split(/\s+/).filter(Boolean);
  const runsOn = preferred.find((p) => passes.includes(p)) ?? passes[0];
  return pass === runsOn ? false : `the same whatever the database server: checked on the ${runsOn} pass`;
}

/** Most server-independent tests run on the MariaDB pass (see onePass). */
export const ONE_SERVER = onePass('mariadb');
/**
 * The long server-independent tests another pass takes, to even the passes' wall times: MariaDB
 * 11.8's (it has the fewest server-only tests), else MySQL's.
 */
export const ONE_SERVER_ELSEWHERE = onePass('mariadb11', 'mysql');

/** Replication statements in the suite's server's own words (MySQL 8.4+ knows only REPLICA / SOURCE). */
export const REPLICATION = IS_MYSQL
  ? {
      status: 'SHOW REPLICA STATUS',
      start: 'START REPLICA',
      stop: 'STOP REPLICA',
      sqlRunning: 'Replica_SQL_Running',
      logUpdatesFlag: '--log-replica-updates',
      // caching_sha2_password over plain TCP: the replica asks for the source's RSA key.
      changeSource: (port: number) =>
        `CHANGE REPLICATION SOURCE TO SOURCE_HOST = '127.0.0.1', SOURCE_PORT = ${port}, SOURCE_USER = 'revenant', ` +
        "SOURCE_PASSWORD = 'revenant', SOURCE_AUTO_POSITION = 1, GET_SOURCE_PUBLIC_KEY = 1",
      executedGtids: 'SELECT @@global.gtid_executed AS pos',
      waitForGtids: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, 120) AS r',
    }
  : {
      status: 'SHOW SLAVE STATUS',
      start: 'START SLAVE',
      stop: 'STOP SLAVE',
      sqlRunning: 'Slave_SQL_Running',
      logUpdatesFlag: '--log-slave-updates',
      changeSource: (port: number) =>
        `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${port}, MASTER_USER = 'revenant', ` +
        "MASTER_PASSWORD = 'revenant', MASTER_USE_GTID = slave_pos",
      executedGtids: 'SELECT @@global.gtid_binlog_pos AS pos',
      waitForGtids: 'SELECT MASTER_GTID_WAIT(?, 120) AS r',
    };

/** A master and its replica, both started, the replica replicating from the master. */
export async function startReplicaPair(master: ServerInstance, replica: ServerInstance): Promise<void> {
  await master.start();
  await replica.start();
  await replicate(replica.port, master.port);
}

/** Points a replica (of the suite's own servers) at its master, if it is not yet, and starts replication. */
async function replicate(replicaPort: number, masterPort: number): Promise<void> {
  const r = await admin(undefined, replicaPort);
  try {
    const [status] = await r.query<RowDataPacket[]>(REPLICATION.status);
    if (status.length === 0) await r.query(REPLICATION.changeSource(masterPort));
    await r.query(REPLICATION.start);
  } finally {
    await r.end();
  }
}

/** Waits until the replica has applied everything the master has written. */
export async function replicaCaughtUp(masterPort: number, replicaPort: number): Promise<void> {
  const m = await admin(undefined, masterPort);
  const [[{ pos }]] = await m.query<RowDataPacket[]>(REPLICATION.executedGtids);
  await m.end();
  const r = await admin(undefined, replicaPort);
  const [[w]] = await r.query<RowDataPacket[]>(REPLICATION.waitForGtids, [pos]);
  await r.end();
  if (Number(w.r) !== 0) throw new Error(`replica on port ${replicaPort} did not catch up with ${pos}`);
}

/** The server's binlog file and offset now, whichever server it is (a test may start the other kind). */
export async function binlogPosition(port = MYSQL_PORT): Promise<{ file: string; position: number }> {
  const c = await admin(undefined, port);
  const [[version]] = await c.query<RowDataPacket[]>('SELECT VERSION() AS v');
  const mysql = !/mariadb/i.test(String(version.v));
  const [[r]] = await c.query<RowDataPacket[]>(mysql ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
  await c.end();
  return { file: r.File, position: Number(r.Position) };
}

/** The RENAME TABLE statements a server logged since `from` that `mine` picks, in order. */
export async function renamesInBinlog(
  from: { file: string; position: number },
  mine: (statement: string) => boolean,
  port = MYSQL_PORT,
): Promise<string[]> {
  const c = await admin(undefined, port);
  const [logs] = await c.query<RowDataPacket[]>('SHOW BINARY LOGS');
  const found: string[] = [];
  for (const f of logs.map((l) => String(l.Log_name)).filter((n) => n >= from.file)) {
    const [events] = await c.query<RowDataPacket[]>(
      `SHOW BINLOG EVENTS IN ${c.escape(f)}${f === from.file ? ` FROM ${Number(from.position)}` : ''}`,
    );
    for (const e of events) {
      const info = String(e.Info);
      if (/RENAME TABLE/i.test(info) && mine(info)) found.push(info);
    }
  }
  await c.end();
  return found;
}

export const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:27233';
export const SERVER = { host: '127.0.0.1', port: MYSQL_PORT, user: 'revenant' };

/** Runs a command; its exit code and everything it printed. */
export function runCommand(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

/** `revenant …` as a user runs it, against the test Temporal server and a test task queue. */
export const runRevenant = (args: string[], taskQueue: string) =>
  runCommand('node', [REVENANT_BIN, ...args], {
    ...process.env,
    TEMPORAL_ADDRESS,
    REVENANT_TASK_QUEUE: taskQueue,
  });

/** The flags that name one database on the test server, as the test account. */
export const databaseArgs = (database: string): string[] => [
  '--host',
  '127.0.0.1',
  '--port',
  String(MYSQL_PORT),
  '--user',
  'revenant',
  '--database',
  database,
];

/** The flags that name one table on the test server, as the test account. */
export const tableArgs = (database: string, table: string): string[] => [...databaseArgs(database), '--table', table];

/** `revenant migrate` of one table on the test server; more flags follow it. */
export const migrateArgs = (database: string, table: string, alter: string): string[] => [
  'migrate',
  ...tableArgs(database, table),
  '--alter',
  alter,
];

/** The real `temporal` binary against the test server. */
export const runTemporal = (args: string[]) => runCommand('temporal', [...args, '--address', TEMPORAL_ADDRESS]);

/** `temporal workflow update execute --name set` of a change (JSON on the command line), for runTemporal. */
export const workflowSetArgs = (workflowId: string, change: Record<string, unknown>): string[] => [
  'workflow',
  'update',
  'execute',
  '--workflow-id',
  workflowId,
  '--name',
  'set',
  '--input',
  JSON.stringify(change),
];

/** `temporal workflow start`'s arguments for a migration, its input as JSON on the command line. */
export const workflowStartArgs = (taskQueue: string, workflowId: string, given: unknown): string[] => [
  'workflow',
  'start',
  '--type',
  'migrateTable',
  '--task-queue',
  taskQueue,
  '--workflow-id',
  workflowId,
  '--input',
  JSON.stringify(given),
];

export async function admin(database?: string, port = MYSQL_PORT) {
  const c = await mysql.createConnection({
    host: '127.0.0.1',
    port,
    user: 'revenant',
    password: 'revenant',
    database,
    multipleStatements: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  c.on('error', () => {});
  return c;
}

export async function freshDatabase(name: string, port = MYSQL_PORT): Promise<void> {
  const c = await admin(undefined, port);
  await c.query(`DROP DATABASE IF EXISTS ${escapeId(name)}; CREATE DATABASE ${escapeId(name)}`);
  await c.end();
}

export async function tablesIn(database: string, port = MYSQL_PORT): Promise<string[]> {
  const c = await admin(undefined, port);
  const [r] = await c.query<RowDataPacket[]>(
    'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
    [database],
  );
  await c.end();
  return r.map((x) => String(x.TABLE_NAME)).sort();
}

export function input(
  database: string,
  table: string,
  alter: string,
  extra: Partial<MigrationInput> = {},
): MigrationInput {
  return {
    server: SERVER,
    database,
    table,
    alter,
    execute: true,
    allowOnMaster: true,
    // Off unless a test asks (the workflow's own default, as the CLI's, is on).
    checksum: false,
    chunkSize: DEFAULTS.chunkSize,
    dmlBatchSize: DEFAULTS.dmlBatchSize,
    approveRenamedColumns: false,
    okToDropTable: false,
    initiallyDropGhostTable: false,
    initiallyDropOldTable: false,
    exactRowcount: false,
    postponeCutOver: false,
    cutOverLockTimeoutSeconds: DEFAULTS.cutOverLockTimeoutSeconds,
    ...extra,
  };
}

export interface TestTemporal {
  client: Client;
  taskQueue: string;
  start(i: MigrationInput): Promise<ReturnType<Client['workflow']['getHandle']>>;
  close(): Promise<void>;
}

/** A client and an in-process worker on a task queue of this test file's own. */
export async function startTemporal(
  taskQueue: string,
  env: NodeJS.ProcessEnv = { REVENANT_MYSQL_PASSWORD: 'revenant' },
): Promise<TestTemporal> {
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  // The test servers are on this machine: their RSA keys may be taken as offered (a test that
  // checks the refusal says REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY=0); TLS files are read from
  // where scripts/test.sh says they live.
  const credentials = credentialsFromEnvironment({
    REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY: '1',
    REVENANT_MYSQL_SSL_DIRS: process.env.REVENANT_MYSQL_SSL_DIRS,
    ...env,
  });
  const { worker, close } = await createWorker({
    address: TEMPORAL_ADDRESS,
    taskQueue,
    credentials,
    shutdownGraceSeconds: 1,
  });
  const running = worker.run();
  return {
    client,
    taskQueue,
    async start(i) {
      return client.workflow.start('migrateTable', {
        taskQueue,
        workflowId: migrationWorkflowId(i.server, i.database, i.table),
        args: [i],
      });
    },
    async close() {
      worker.shutdown();
      await running.catch(() => {});
      await close();
      await connection.close();
    },
  };
}

/** Ends a run left over from an earlier, failed test (reruns on a dev server; CI starts fresh). */
export async function terminateLeftover(client: Client, workflowId: string): Promise<void> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    if (d.status.name === 'RUNNING')
      await client.workflow.getHandle(workflowId).terminate('left over from an earlier test run');
  } catch {
    /* none */
  }
}

/**
 * Polls the migration's status until `pred` holds. A migration that fails first fails the wait
 * (unless `pred` accepts it); a query nobody answers (a renewing migration between two runs, a
 * worker restarting) is asked again until the deadline.
 */
export async function waitForStatus(
  handle: { query: (q: typeof statusQuery) => Promise<MigrationStatus> },
  pred: (s: MigrationStatus) => boolean,
  what: string,
  timeoutMs = 300_000,
): Promise<MigrationStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let s: MigrationStatus | undefined;
    try {
      s = await handle.query(statusQuery);
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (s && pred(s)) return s;
    if (s?.phase === 'failed') throw new Error(`migration failed while waiting for ${what}: ${s.message}`);
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; ${s ? `now ${s.phase}${s.renewals ? `, ${s.renewals} renewals` : ''}` : 'no status'}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const waitForPhase = (
  handle: { query: (q: typeof statusQuery) => Promise<MigrationStatus> },
  phases: string[],
  timeoutMs = 300_000,
): Promise<MigrationStatus> =>
  waitForStatus(handle, (s) => phases.includes(s.phase), `phase ${phases.join('|')}`, timeoutMs);

/** Test table: BIGINT PK, a second unique key, strings, decimals, dates, a nullable column. */
export async function createTestTable(database: string, table: string, rows: number, port = MYSQL_PORT): Promise<void> {
  const c = await admin(database, port);
  await c.query(`CREATE TABLE ${escapeId(table)} (
      id BIGINT NOT NULL AUTO_INCREMENT,
      uk INT NOT NULL,
      name VARCHAR(64) NOT NULL,
      amount DECIMAL(12,2) NOT NULL,
      note VARCHAR(255) NULL,
      created DATETIME(6) NOT NULL,
      PRIMARY KEY (id), UNIQUE KEY uk_idx (uk), KEY name_idx (name)) ENGINE=InnoDB`);
  await c.query(`INSERT INTO ${escapeId(table)} (id, uk, name, amount, note, created)
      SELECT seq, seq * 3, CONCAT('name-', seq), seq / 7, IF(seq % 5 = 0, NULL, CONCAT('note ', seq)), '2024-01-01 00:00:00' + INTERVAL seq SECOND
      FROM ${seq(rows)} AS s`);
  await c.end();
}

/**
 * Concurrent writers: inserts, updates (values and primary key) and deletes, each on its own
 * connection, until stop(). A lost connection (a server killed under it) is re-opened.
 * Keeps a ledger of the inserts the server acknowledged: they must all be in the migrated
 * table (no other writer touches them).
 */
/**
 * How long a test's writer rests after each statement. Flat out, writers take whatever CPU they
 * get: the passes share two cores, and writers that outrun the applier on a starved machine
 * grow its lag without bound (a revert's cut-over then waits past its test's deadline). At this
 * pace, a writer still changes a few hundred rows a second, beside every chunk and every batch.
 * A test that needs writers contending flat out (writes queued behind the cut-over) says 0.
 */
export const WRITE_PAUSE_MS = 5;

export class WriteLoad {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  acknowledged = 0;
  readonly insertedNames: string[] = [];
  errors: string[] = [];

  /** `tag`: a second load on the same table (after a failover, say) writes names and unique keys of its own. */
  constructor(
    private readonly database: string,
    private readonly table: string,
    private readonly maxId: number,
    private readonly port = MYSQL_PORT,
    private readonly tag = '',
  ) {}

  private pauseMillis = 0;

  /** `pauseMillis`: each writer rests that long after each statement (0: as fast as the server goes). */
  start(connections = 4, pauseMillis = WRITE_PAUSE_MS): this {
    this.pauseMillis = pauseMillis;
    for (let i = 0; i < connections; i++) this.loops.push(this.loop(i, connections));
    return this;
  }

  private async connect() {
    for (;;) {
      try {
        return await admin(this.database, this.port);
      } catch {
        if (this.stopping) return null;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async loop(index: number, of: number): Promise<void> {
    let c = await this.connect();
    const t = escapeId(this.table);
    let n = 0;
    const rnd = (max: number) => 1 + Math.floor(Math.random() * max);
    while (!this.stopping && c) {
      n++;
      const uk = 10_000_000 + (this.tag ? 100_000_000 : 0) + n * of + index;
      const op = n % 5;
      try {
        if (op === 0) {
          const name = `live-${this.tag}${index}-${n}`;
          await c.query(`INSERT INTO ${t} (uk, name, amount, note, created) VALUES (?, ?, ?, ?, NOW(6))`, [
            uk,
            name,
            n / 3,
            n % 2 ? null : 'ins',
          ]);
          this.insertedNames.push(name);
        } else if (op === 1)
          await c.query(`UPDATE ${t} SET amount = amount + 1, name = CONCAT('u', name), note = ? WHERE id = ?`, [
            `upd ${n}`,
            rnd(this.maxId),
          ]);
        else if (op === 2) await c.query(`DELETE FROM ${t} WHERE id = ?`, [rnd(this.maxId)]);
        else if (op === 3) await c.query(`UPDATE ${t} SET id = id + 50000000 WHERE id = ?`, [rnd(this.maxId)]);
        else
          await c.query(
            `BEGIN; UPDATE ${t} SET uk = ? WHERE id = ?; INSERT INTO ${t} (uk, name, amount, created) VALUES (?, 'txn', 1, NOW(6)); COMMIT`,
            [uk + 500_000_000, rnd(this.maxId), uk + 900_000_000],
          );
        this.acknowledged++;
        if (this.pauseMillis) await new Promise((r) => setTimeout(r, this.pauseMillis));
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        if (['ER_DUP_ENTRY', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CHECKREAD'].includes(code)) {
          await c.query('ROLLBACK').catch(() => {});
        } else if (
          /PROTOCOL_CONNECTION_LOST|ECONNREFUSED|ECONNRESET|ER_SERVER_SHUTDOWN|EPIPE|closed state|ER_CONNECTION_KILLED/.test(
            `${code} ${(e as Error).message}`,
          )
        ) {
          c.destroy();
          c = await this.connect();
        } else {
          this.errors.push((e as Error).message);
          await c.query('ROLLBACK').catch(() => {});
        }
      }
    }
    await c?.end().catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  /** Acknowledged inserts missing from `table` (by their unique names), on the load's server or another (a promoted replica). */
  async missingFrom(table: string, port = this.port): Promise<string[]> {
    const c = await admin(this.database, port);
    const [r] = await c.query<RowDataPacket[]>(`SELECT name FROM ${escapeId(table)} WHERE name LIKE 'live-%'`);
    await c.end();
    const present = new Set(r.map((x) => String(x.name)));
    return this.insertedNames.filter((n) => !present.has(n));
  }
}

export interface Checksum {
  rows: number;
  xor: string;
  sum: string;
}

/** Row-for-row checksum over the given columns (in order): CRC32 of each row's hex values. */
export async function checksum(
  database: string,
  table: string,
  columns: string[],
  port = MYSQL_PORT,
): Promise<Checksum> {
  const c = await admin(undefined, port);
  const row = `CRC32(CONCAT_WS('|', ${columns.map((x) => `IFNULL(HEX(${escapeId(x)}), 'NULL')`).join(', ')}))`;
  const [r] = await c.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n, BIT_XOR(${row}) AS x, SUM(${row}) AS s FROM ${qualified(database, table)}`,
  );
  await c.end();
  return { rows: Number(r[0].n), xor: String(r[0].x), sum: String(r[0].s) };
}

/**
 * Keys whose rows differ between two tables on the given columns (missing from either, or
 * with other values), at most `limit`: what a failed checksum comparison should name.
 */
export async function differingKeys(
  database: string,
  a: string,
  b: string,
  key: string,
  columns: string[],
  port = MYSQL_PORT,
  limit = 20,
): Promise<string[]> {
  const c = await admin(undefined, port);
  const k = escapeId(key);
  const hash = (alias: string) =>
    `CRC32(CONCAT_WS('|', ${columns.map((x) => `IFNULL(HEX(${alias}.${escapeId(x)}), 'NULL')`).join(', ')}))`;
  const one = (x: string, y: string) =>
    `SELECT x.${k} AS k FROM ${qualified(database, x)} x LEFT JOIN ${qualified(database, y)} y ON y.${k} = x.${k} ` +
    `WHERE y.${k} IS NULL OR ${hash('x')} <> ${hash('y')}`;
  const [r] = await c.query<RowDataPacket[]>(`${one(a, b)} UNION ${one(b, a)} ORDER BY k LIMIT ${Number(limit)}`);
  await c.end();
  return r.map((x) => String(x.k));
}

export async function showCreate(database: string, table: string, port = MYSQL_PORT): Promise<string> {
  const c = await admin(undefined, port);
  const [r] = await c.query<RowDataPacket[]>(`SHOW CREATE TABLE ${qualified(database, table)}`);
  await c.end();
  return r[0]['Create Table'];
}

/** What a thrown failure carries: its message, its cause, and Temporal's flags. */
export interface Thrown {
  message?: string;
  cause?: Thrown;
  nonRetryable?: boolean;
}

/** A thrown failure's message and its causes', for matching. */
export function failureText(e: unknown): string {
  const parts: string[] = [];
  for (let x = e as Thrown | undefined; x; x = x.cause) parts.push(x.message ?? '');
  return parts.join(' | ');
}

/** Failure text of a failed workflow, cause included. */
export async function failureOf(handle: { result(): Promise<unknown> }): Promise<string> {
  try {
    await handle.result();
  } catch (e) {
    return failureText(e);
  }
  throw new Error('expected the migration to fail, but it completed');
}

/** `revenant worker` as its own process (to be killed with SIGKILL), optionally serving metrics. */
export class WorkerProcess {
  private child?: ChildProcess;
  log = '';
  /** `root`: the build to run (another release's, for the upgrade test); this one by default. */
  constructor(
    private readonly taskQueue: string,
    private readonly address = TEMPORAL_ADDRESS,
    private readonly env: NodeJS.ProcessEnv = {},
    private readonly root = ROOT,
  ) {}

  async start(): Promise<void> {
    const child = spawn('node', [join(this.root, 'bin', 'revenant.js'), 'worker'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: this.address,
        REVENANT_TASK_QUEUE: this.taskQueue,
        REVENANT_MYSQL_PASSWORD: 'revenant',
        ...this.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    // A test that fails before it kills its worker must not leave it serving the task queue.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        this.log += d;
        if (this.log.includes('revenant worker started')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`worker exited (${code}): ${this.log}`)));
    });
  }

  pid(): number {
    if (!this.child?.pid) throw new Error('the worker is not running');
    return this.child.pid;
  }

  kill9(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }

  async restart(): Promise<void> {
    this.kill9();
    await this.start();
  }
}

/** A Prometheus endpoint's samples named `name` whose labels include `labels`, summed. */
export async function scrapeMetric(
  address: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const text = await fetch(`http://${address}/metrics`).then((r) => r.text());
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

/** A run of the copy or the applier as the history has it once it ended: its last attempt, and whether it handed back. */
export interface LongRun {
  activity: string;
  attempt: number;
  handedBack: boolean;
}

/** The copy's and the applier's runs that have ended, in the order they were scheduled. */
export async function longRuns(handle: { fetchHistory: () => Promise<any> }): Promise<LongRun[]> {
  const events: any[] = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  const attempts = new Map<string, number>();
  const runs: LongRun[] = [];
  for (const e of events) {
    const id = String(e.eventId);
    const a = e.activityTaskScheduledEventAttributes;
    if (a && ['copyRows', 'drainBinlog'].includes(a.activityType?.name)) scheduled.set(id, a.activityType.name);
    const started = e.activityTaskStartedEventAttributes;
    if (started) attempts.set(String(started.scheduledEventId), Number(started.attempt));
    const done = e.activityTaskCompletedEventAttributes;
    const activity = done && scheduled.get(String(done.scheduledEventId));
    if (activity) {
      const [payload] = done.result?.payloads ?? [];
      const result = payload ? (defaultPayloadConverter.fromPayload(payload) as { handedBack?: boolean }) : {};
      const attempt = attempts.get(String(done.scheduledEventId)) ?? 0;
      runs.push({ activity, attempt, handedBack: result?.handedBack === true });
    }
  }
  return runs;
}
