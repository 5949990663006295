// Prepare: create the ghost table like the original and apply the ALTER to it, decide what
// is copied by which key, then create the changelog and record where in the binlog the
// migration starts (before the first row is read). Any refusal drops what it created.
import { Context } from '@temporalio/activity';
import type { BinlogPosition, MigrationInput, TablePlan } from '../model/types';
import { changelogTableName, ghostTableName, oldTableName, tableNameBase } from '../model/types';
import {
  HINT,
  readJson,
  writeJson,
  type BinlogCheckpoint,
  type CopyCheckpoint,
  type MigrationRecord,
} from '../control/changelog';
import { isMigrationRecord } from '../control/stored-shapes';
import type { CredentialResolver } from '../mysql/credentials';
import { alterOf, checkTableAndAlter } from '../checks/table';
import { checkServer, type ServerFacts } from '../checks/server';
import { planColumnsAndKey } from '../table/plan';
import { refuse } from '../checks/refuse';
import { placement, resolveServers, type Servers } from '../mysql/topology';
import { currentBinlogPosition } from '../binlog/position';
import { deferIndexes, sampleTableWrites, writeRateSince } from '../table/indexes';
import { checkedStoredPlan } from '../control/stored-plan';
import { describeMysqlError } from '../mysql/errors';
import { exec, rows, type Conn } from '../mysql/query';
import { withConnection } from '../mysql/connection';
import * as sql from '../mysql/statements';
import { binlogStatus, flavorOf, gtidAt } from '../mysql/flavor';

export interface Prepared {
  plan: TablePlan;
  startPosition: BinlogPosition;
}

/**
 * Where a migration's stream starts: the current position and the GTID state at exactly that
 * offset where the server numbers transactions (MariaDB always; MySQL with gtid_mode=ON),
 * from which a resume streams by GTID. Without GTIDs, file and offset it is.
 */
async function startPosition(conn: Conn, facts: ServerFacts): Promise<BinlogPosition> {
  const f = flavorOf(conn);
  const [status] = await rows(conn, binlogStatus(f));
  if (!status) return refuse('binary logging is off');
  const position = { file: String(status.File), position: Number(status.Position) };
  const gtid = facts.gtids ? await gtidAt(conn, f, status) : '';
  return gtid ? { ...position, gtid } : position;
}

export async function prepare(credentials: CredentialResolver, input: MigrationInput): Promise<Prepared> {
  const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
  return withConnection(input.server, credentials, async (inspected) => {
    const facts = await checkServer(inspected, input);
    const servers = await resolveServers(inspected, input);
    return withConnection(servers.applier, credentials, (conn) =>
      prepareOn(conn, inspected, servers, facts, input, workflowId),
    );
  });
}

/** The ghost and the changelog on the applier; the stream's start on the inspected server. */
async function prepareOn(
  conn: Conn,
  inspected: Conn,
  servers: Servers,
  facts: ServerFacts,
  input: MigrationInput,
  workflowId: string,
): Promise<Prepared> {
  const { database: db, table } = input;
  const base = tableNameBase(input);
  const ghost = ghostTableName(base);
  const changelog = changelogTableName(base);
  // gh-ost's --timestamp-old-table: the migration's start, kept in the plan (a retry or --resurrect reads it there).
  const oldTable = oldTableName(
    base,
    input.timestampOldTable ? new Date().toISOString().replace(/\D/g, '').slice(0, 14) : undefined,
  );
  const names = { database: db, changelogTable: changelog };

  // A retried attempt finds its own work done: same workflow, changelog written.
  const existing = await readJson(conn, names, HINT.migration, isMigrationRecord).catch(() => undefined);
  if (existing && existing.workflowId === workflowId) {
    // The record is a row anyone with rights on the schema can write: its plan is checked
    // against the tables, and the servers are this attempt's own (never the record's).
    const plan = { ...(await checkedStoredPlan(conn, input, existing.plan)), ...placement(servers, input) };
    return { plan, startPosition: existing.startPosition };
  }
  // A retried attempt whose predecessor died between creating the tables and recording the
  // migration (the fleet test killed a worker there): inspect found neither table before this
  // workflow began, and one workflow migrates a table at a time, so they are that attempt's own.
  if (!existing && Context.current().info.attempt > 1) {
    await exec(conn, sql.dropTableIfExists(db, ghost));
    await exec(conn, sql.dropTableIfExists(db, changelog));
  }

  // The table's writes are counted from here to the indexes' deferral (MySQL: see table/indexes.ts).
  const writesAtStart = input.execute ? await sampleTableWrites(conn, db, table) : undefined;
  const { estimatedRows } = await checkTableAndAlter(conn, input);

  if (input.initiallyDropGhostTable) {
    await exec(conn, sql.dropTableIfExists(db, ghost));
    await exec(conn, sql.dropTableIfExists(db, changelog));
  }
  if (input.initiallyDropOldTable) await exec(conn, sql.dropTableIfExists(db, oldTableName(base)));

  if (input.allowZeroInDate) await exec(conn, sql.allowZeroDates());
  try {
    await exec(conn, sql.createTableLike(db, ghost, table));
  } catch (e) {
    refuse(`${describeMysqlError(e)} (creating the ghost table ${db}.${ghost} like ${table})`);
  }
  let plan: TablePlan;
  try {
    const alter = alterOf(input);
    try {
      await exec(conn, sql.alterTable(db, ghost, alter));
    } catch (e) {
      refuse(`${describeMysqlError(e)} (the ALTER failed on the ghost table ${db}.${ghost})`);
    }
    // gh-ost's AUTO_INCREMENT carry-over: ids the original has handed out (even of deleted
    // rows) are not handed out again by the migrated table. An ALTER that sets it wins.
    if (!/\bAUTO_INCREMENT\s*=?\s*\d/i.test(alter)) {
      const [t] = await rows(conn, sql.tableInfo(db, table));
      if (t?.AUTO_INCREMENT) await exec(conn, sql.setAutoIncrement(db, ghost, Number(t.AUTO_INCREMENT)));
    }
    const { columns, key, copyKey } = await planColumnsAndKey(conn, input, ghost);
    const writesPerSecond = writesAtStart ? await writeRateSince(conn, db, table, writesAtStart) : undefined;
    const deferredIndexes = input.execute ? await deferIndexes(conn, input, db, ghost, writesPerSecond) : [];
    plan = {
      database: db,
      table,
      ghostTable: ghost,
      changelogTable: changelog,
      oldTable,
      columns,
      key,
      ...(copyKey ? { copyKey } : {}),
      ...(deferredIndexes.length ? { deferredIndexes } : {}),
      ...(writesPerSecond !== undefined ? { writesPerSecond } : {}),
      estimatedRows,
      serverVersion: facts.version,
      serverUuid: facts.serverUuid,
      ...placement(servers, input),
    };
  } catch (e) {
    await exec(conn, sql.dropTableIfExists(db, ghost));
    throw e;
  }

  if (!input.execute) {
    await exec(conn, sql.dropTableIfExists(db, ghost));
    return { plan, startPosition: await currentBinlogPosition(conn) };
  }

  await exec(conn, sql.createChangelog(db, changelog));
  // Read from a replica, the stream starts once the changelog has replicated to it.
  if (servers.applier !== input.server) await waitForTable(inspected, db, changelog);
  // The stream starts here: every change after this point reaches the ghost through the
  // binlog, every row before it through the copy, which reads its key range only now.
  const start = await startPosition(inspected, facts);
  const record: MigrationRecord = {
    workflowId,
    database: db,
    table,
    alter: alterOf(input),
    plan,
    startPosition: start,
    startedAt: new Date().toISOString(),
  };
  const copy: CopyCheckpoint = { min: null, max: null, lastKey: null, rowsCopied: 0, chunksCopied: 0, done: false };
  const binlog: BinlogCheckpoint = { ...start, eventsApplied: 0 };
  await exec(conn, writeJson(names, HINT.copy, copy));
  await exec(conn, writeJson(names, HINT.binlog, binlog));
  // The migration record last: its presence means the rest of prepare is complete.
  await exec(conn, writeJson(names, HINT.migration, record));
  return { plan, startPosition: start };
}

/**
 * gh-ost's --attempt-instant-ddl: the ALTER on the original with ALGORITHM=INSTANT, which
 * either changes only metadata at once or is refused (then the migration goes the long way).
 * The metadata lock it needs is waited for no longer than a cut-over's.
 */
export async function attemptInstantDdl(
  credentials: CredentialResolver,
  input: MigrationInput,
): Promise<{ applied: boolean; reason?: string }> {
  return withConnection(input.server, credentials, async (conn) => {
    await exec(conn, sql.lockWaitTimeout(input.cutOverLockTimeoutSeconds));
    try {
      await exec(conn, sql.alterTableInstant(input.database, input.table, alterOf(input)));
      return { applied: true };
    } catch (e) {
      return { applied: false, reason: describeMysqlError(e) };
    }
  });
}

async function waitForTable(conn: Conn, db: string, table: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await rows(conn, sql.tablesNamed(db, [table]))).length > 0) return;
    Context.current().heartbeat();
    await new Promise((r) => setTimeout(r, 100));
  }
  refuse(`${db}.${table} did not reach the replica within a minute: is replication running?`);
}
