// Cleanup after a successful cut-over: the changelog goes; the old table stays as
// _<t>_del (a way back) unless the operator said --ok-to-drop-table.
import type { MigrationInput, TablePlan } from '../workflows/types';
import type { CredentialResolver } from './credentials';
import { exec, rows, withConnection } from './mysql';
import * as sql from './sql';
import { applierOf } from './topology';

/**
 * `kept`: after a revert window (workflows/revert.ts), the table kept beside the table at its
 * end; after a revert that is _<t>_gho, which takes the old table's name here, as after any
 * migration. (A retry finds it renamed already.)
 */
export async function cleanup(credentials: CredentialResolver, input: MigrationInput, plan: TablePlan, kept?: string): Promise<{ droppedOldTable: boolean }> {
  return withConnection(applierOf(input, plan), credentials, async (conn) => {
    await exec(conn, sql.dropTableIfExists(plan.database, plan.changelogTable));
    if (input.okToDropTable) {
      if (kept) await exec(conn, sql.dropTableIfExists(plan.database, kept));
      await exec(conn, sql.dropTableIfExists(plan.database, plan.oldTable));
    } else if (kept && kept !== plan.oldTable && (await rows(conn, sql.tablesNamed(plan.database, [kept]))).length > 0) {
      await exec(conn, sql.renameTable(plan.database, kept, plan.oldTable));
    }
    return { droppedOldTable: input.okToDropTable };
  });
}

/** An operator's abort with clean-up: ghost and changelog go; the original table is untouched. */
export async function dropMigrationTables(credentials: CredentialResolver, input: MigrationInput, plan: TablePlan): Promise<void> {
  await withConnection(applierOf(input, plan), credentials, async (conn) => {
    await exec(conn, sql.dropTableIfExists(plan.database, plan.ghostTable));
    await exec(conn, sql.dropTableIfExists(plan.database, plan.changelogTable));
  });
}
