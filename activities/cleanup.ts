// Cleanup after a successful cut-over: the changelog goes; the old table stays as
// _<t>_del (a way back) unless the operator said --ok-to-drop-table.
import type { MigrationInput, TablePlan } from '../workflows/types';
import type { CredentialResolver } from './credentials';
import { exec, withConnection } from './mysql';
import * as sql from './sql';
import { applierOf } from './topology';

export async function cleanup(credentials: CredentialResolver, input: MigrationInput, plan: TablePlan): Promise<{ droppedOldTable: boolean }> {
  return withConnection(applierOf(input, plan), credentials, async (conn) => {
    await exec(conn, sql.dropTableIfExists(plan.database, plan.changelogTable));
    if (input.okToDropTable) await exec(conn, sql.dropTableIfExists(plan.database, plan.oldTable));
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
