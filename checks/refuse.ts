// A refusal: a precondition that does not hold, said once, non-retryable (nothing is created
// before every check has passed, so nothing is left behind).
import { ApplicationFailure } from '@temporalio/common';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';

export function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'MigrationRefused');
}

/** A table that is not there: said of the database when that is what is missing. */
export async function refuseMissingTable(conn: Conn, db: string, table: string): Promise<never> {
  if ((await rows(conn, sql.schemaNamed(db))).length === 0) refuse(`database ${db} does not exist (--database)`);
  refuse(`table ${db}.${table} does not exist`);
}
