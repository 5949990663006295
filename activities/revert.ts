// The revert window's check at its opening (workflows/revert.ts): a row inserted into the table
// during the window is written into the kept table with the columns both have; a column of the
// kept table that is NOT NULL with no default (one the ALTER dropped) can then hold no value,
// and the window's applier would stop at the first insert. Said when the window opens, not at
// the revert.
import type { MigrationInput, TablePlan } from '../workflows/types';
import type { CredentialResolver } from './credentials';
import { rows, withConnection } from './mysql';
import * as sql from './sql';
import { applierOf } from './topology';

export async function keptTableProblems(credentials: CredentialResolver, input: MigrationInput, window: TablePlan): Promise<string | undefined> {
  return withConnection(applierOf(input, window), credentials, async (conn) => {
    const written = new Set(window.columns.map((c) => c.ghost.toLowerCase()));
    const stuck = (await rows(conn, sql.columnsWithoutDefault(window.database, window.ghostTable)))
      .map((r) => String(r.COLUMN_NAME)).filter((c) => !written.has(c.toLowerCase()));
    if (stuck.length === 0) return undefined;
    return `${window.ghostTable} has NOT NULL column(s) without a default that ${window.table} lacks (${stuck.join(', ')}): ` +
      `a row inserted into ${window.table} during the window cannot be written there, and the window will close at the first insert`;
  });
}
