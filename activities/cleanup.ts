// Cleanup after a successful cut-over: the changelog goes; the old table stays as
// _<t>_del (a way back) unless the operator said --ok-to-drop-table.
import { checkpointTableName, tableNameBase, type MigrationInput, type TablePlan } from '../model/types';
import type { CredentialResolver } from '../mysql/credentials';
import { exec, rows, type Conn } from '../mysql/query';
import { withConnection } from '../mysql/connection';
import * as sql from '../mysql/statements';
import { applierOf } from '../mysql/topology';

/**
 * How long one of cleanup's drops or renames waits for a table's metadata lock. A session
 * that keeps a transaction open on the changelog or the old table would otherwise hold the
 * DROP for lock_wait_timeout's default of a year, with nothing logged; bounded, the attempt
 * fails with the server's lock-wait error and the activity is retried (and logged) instead.
 */
const CLEANUP_LOCK_WAIT_SECONDS = 30;

/** A connection for cleanup's DDL, its metadata-lock waits bounded. */
async function withBoundedLockWait<T>(
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
  body: (conn: Conn) => Promise<T>,
): Promise<T> {
  return withConnection(applierOf(input, plan), credentials, async (conn) => {
    await exec(conn, sql.lockWaitTimeout(CLEANUP_LOCK_WAIT_SECONDS));
    return body(conn);
  });
}

/**
 * `kept`: after a revert window (workflows/revert.ts), the table kept beside the table at its
 * end; after a revert that is _<t>_gho, which takes the old table's name here, as after any
 * migration. (A retry finds it renamed already.) `keepCheckpoint`: the changelog stays, as
 * _<t>_ghk, for a later --revert (--checkpoint), or to retry a --revert that failed.
 */
export async function cleanup(
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
  kept?: string,
  keepCheckpoint = false,
): Promise<{ droppedOldTable: boolean }> {
  return withBoundedLockWait(credentials, input, plan, async (conn) => {
    if (keepCheckpoint) await changelogToCheckpoint(conn, input, plan);
    else await exec(conn, sql.dropTableIfExists(plan.database, plan.changelogTable));
    if (input.okToDropTable) {
      if (kept) await exec(conn, sql.dropTableIfExists(plan.database, kept));
      await exec(conn, sql.dropTableIfExists(plan.database, plan.oldTable));
    } else if (
      kept &&
      kept !== plan.oldTable &&
      (await rows(conn, sql.tablesNamed(plan.database, [kept]))).length > 0
    ) {
      await exec(conn, sql.renameTable(plan.database, kept, plan.oldTable));
    }
    return { droppedOldTable: input.okToDropTable };
  });
}

/** An operator's abort with clean-up: ghost and changelog go; the original table is untouched. */
export async function dropMigrationTables(
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
): Promise<void> {
  await withBoundedLockWait(credentials, input, plan, async (conn) => {
    await exec(conn, sql.dropTableIfExists(plan.database, plan.ghostTable));
    await exec(conn, sql.dropTableIfExists(plan.database, plan.changelogTable));
  });
}

/** A --revert that failed: its changelog goes back to being the checkpoint, for the same command to try again. */
export async function keepCheckpoint(
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
): Promise<void> {
  await withBoundedLockWait(credentials, input, plan, (conn) => changelogToCheckpoint(conn, input, plan));
}

/** The changelog renamed _<t>_ghk, in place of an older one. (A retry finds it renamed already.) */
async function changelogToCheckpoint(conn: Conn, input: MigrationInput, plan: TablePlan): Promise<void> {
  if ((await rows(conn, sql.tablesNamed(plan.database, [plan.changelogTable]))).length === 0) return;
  const checkpoint = checkpointTableName(tableNameBase(input));
  await exec(conn, sql.dropTableIfExists(plan.database, checkpoint));
  await exec(conn, sql.renameTable(plan.database, plan.changelogTable, checkpoint));
}
