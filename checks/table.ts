// The table's and the ALTER's preconditions, checked before anything is created: the table
// there (and a table), then each registered check in order (alter.ts, foreign-keys.ts,
// triggers.ts, table-names.ts); the row estimate at the end.
import type { MigrationInput } from '../model/types';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { refuse, refuseMissingTable } from './refuse';
import { tableChecks } from './registry';
import './alter';
import './foreign-keys';
import './triggers';
import './table-names';

export { alterOf } from './alter';

/** Checks on the original table and the ALTER; nothing is created. */
export async function checkTableAndAlter(
  conn: Conn,
  input: MigrationInput,
  opts: { resurrect?: boolean } = {},
): Promise<{ estimatedRows: number }> {
  const { database: db, table } = input;
  const t = await rows(conn, sql.tableInfo(db, table));
  if (t.length === 0) await refuseMissingTable(conn, db, table);
  if (t[0].TABLE_TYPE !== 'BASE TABLE') refuse(`${db}.${table} is a ${t[0].TABLE_TYPE}, not a table`);
  for (const check of tableChecks()) await check.run({ conn, input, db, table, resurrect: !!opts.resurrect });
  let estimatedRows = Number(t[0].TABLE_ROWS ?? 0);
  // --exact-rowcount counts here only with --concurrent-rowcount=false; else the copy counts as it starts.
  if (input.exactRowcount && input.concurrentRowcount === false)
    estimatedRows = Number((await rows(conn, sql.exactRowCount(db, table)))[0].n);
  return { estimatedRows };
}
