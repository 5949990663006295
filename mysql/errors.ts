// What a server's error means to revenant: retried (a lost connection, a lock wait), final (a
// refused login, a statement that fails the same way every time), or data at risk.
import { ApplicationFailure } from '@temporalio/common';

export function mysqlErrorCode(e: unknown): string | undefined {
  return (e as { code?: string })?.code;
}

/**
 * The server's refusals of a statement for want of a privilege: the account stays as it is
 * however often the statement is tried. (A refused login is REFUSED_LOGIN's.)
 */
const PRIVILEGE_DENIED = new Set([
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_PROCACCESS_DENIED_ERROR',
  'ER_KILL_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
]);

/**
 * A statement refused for a missing privilege, as a failure no retry repeats, naming the
 * statement and where the grants revenant needs are listed; undefined for any other error.
 */
export function privilegeFailure(e: unknown): ApplicationFailure | undefined {
  if (!PRIVILEGE_DENIED.has(mysqlErrorCode(e) ?? '')) return undefined;
  return ApplicationFailure.nonRetryable(
    `the migration's account lacks a privilege: ${describeMysqlError(e)}${runningStatement(e, 80)}` +
      '; grant what revenant needs (docs/security.md, "Privileges": gh-ost\'s grants, plus SLAVE MONITOR on MariaDB and SELECT on performance_schema on MySQL)',
    'PrivilegeMissing',
  );
}

/** " (running: <the statement's first characters>)", or nothing when the error names none. */
function runningStatement(e: unknown, length: number): string {
  const statement = String((e as { sql?: string }).sql ?? '')
    .replace(/\s+/g, ' ')
    .slice(0, length);
  return statement ? ` (running: ${statement})` : '';
}

/**
 * Errors a statement meets the same way however often it runs: its text or a value it sets
 * is wrong for this server (gh-ost's users met "Incorrect argument type to variable" retried
 * for minutes). No retry can help: the migration fails at once, in the server's words.
 */
const REFUSED_STATEMENT = new Set([
  'ER_PARSE_ERROR',
  'ER_SYNTAX_ERROR',
  'ER_WRONG_TYPE_FOR_VAR',
  'ER_WRONG_VALUE_FOR_VAR',
  'ER_UNKNOWN_SYSTEM_VARIABLE',
  'ER_INCORRECT_GLOBAL_LOCAL_VAR',
  'ER_WRONG_ARGUMENTS',
  'ER_NOT_SUPPORTED_YET',
  'ER_WRONG_USAGE',
]);

/**
 * A statement the server refuses as written, as a failure no retry repeats (naming the
 * statement); undefined for any other error.
 */
export function refusedStatementFailure(e: unknown): ApplicationFailure | undefined {
  if (!REFUSED_STATEMENT.has(mysqlErrorCode(e) ?? '')) return undefined;
  return ApplicationFailure.nonRetryable(
    `the server refuses a statement as written, and would each time: ${describeMysqlError(e)}${runningStatement(e, 120)}`,
    'StatementRefused',
  );
}

/**
 * The server refused to send its binlog from the position asked (1236, "fatal error reading
 * binlog"): the files are purged, the position is not one of this server's, or the server
 * cannot place it. Whether it is gone for good is for binlogMissing to say.
 */
export const isBinlogReadRefused = (e: unknown): boolean => (e as { errno?: number })?.errno === 1236;

/**
 * Errors after which the same transaction may simply be run again. ER_CHECKREAD (1020, "Record
 * has changed since last read"): MariaDB 11.8's innodb_snapshot_isolation (on by default) refuses
 * a transaction that locks a row changed since its snapshot, as a deadlock would end it; two
 * copiers' checkpoints in the changelog meet so under load.
 */
export const RETRYABLE_LOCK_ERRORS = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CHECKREAD']);

/** A MySQL error as the Go driver prints it (what gh-ost users grep for): "Error 1067 (42000): …". */
export function describeMysqlError(e: unknown): string {
  const x = e as { errno?: number; sqlState?: string; sqlMessage?: string; message?: string };
  if (typeof x?.errno === 'number' && x.sqlMessage !== undefined)
    return `Error ${x.errno} (${x.sqlState ?? 'HY000'}): ${x.sqlMessage}`;
  return x?.message ?? String(e);
}

/**
 * Errors of the connection or the server's state, not of the statement: lost connections,
 * a server shutting down or restarting, lock contention. Retrying them is always right.
 * Everything else the server answered with is the statement's own failure, retried only
 * --default-retries times.
 */
const TRANSIENT_ERRORS = new Set([
  ...RETRYABLE_LOCK_ERRORS,
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_LOCK_TABLE_FULL',
]);

export function isStatementError(e: unknown): boolean {
  const x = e as { errno?: number; code?: string; fatal?: boolean };
  return typeof x?.errno === 'number' && x.errno > 0 && !x.fatal && !TRANSIENT_ERRORS.has(x.code ?? '');
}

/**
 * After a transaction failed and was rolled back: milliseconds to wait before running it
 * again, or the error to give up with. Lock contention: up to 10 tries, `lockBackoffMs` more
 * each time. The statement's own error: --default-retries tries a second apart, then a
 * non-retryable failure with the server's message and `what` was done. Anything else (a lost
 * connection) is rethrown for the activity to retry.
 */
export function retryDelay(
  e: unknown,
  attempt: number,
  opts: { defaultRetries: number; lockBackoffMs: number; what: string },
): number {
  const lock = RETRYABLE_LOCK_ERRORS.has(mysqlErrorCode(e) ?? '');
  const refused = refusedStatementFailure(e);
  if (refused) throw refused;
  if (isStatementError(e) && !lock) {
    if (attempt >= opts.defaultRetries) {
      throw ApplicationFailure.nonRetryable(
        `${describeMysqlError(e)} (${opts.what}, tried ${attempt} times)`,
        'StatementFailed',
      );
    }
    // The tries are spread over at most STATEMENT_RETRY_WINDOW_MS: a statement that fails the
    // same way each time fails the migration within a minute, whatever --default-retries says.
    return Math.min(1000, Math.floor(STATEMENT_RETRY_WINDOW_MS / Math.max(1, opts.defaultRetries)));
  }
  if (!lock || attempt >= 10) throw e;
  return opts.lockBackoffMs * attempt;
}

const STATEMENT_RETRY_WINDOW_MS = 40_000;

/**
 * Errors of a value the ghost's column cannot hold, in a strict session: the ALTER would
 * truncate, convert or drop it. Retrying cannot help; the user decides (--allow-data-loss).
 */
export const DATA_LOSS_ERRORS = new Set([
  'ER_DATA_TOO_LONG',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_BAD_NULL_ERROR',
  'WARN_DATA_TRUNCATED',
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_CANNOT_CONVERT_STRING',
  'ER_INVALID_CHARACTER_STRING',
  'ER_CHECK_CONSTRAINT_VIOLATED',
  'ER_CONSTRAINT_FAILED',
  'WARN_NULL_TO_NOTNULL',
  'ER_WARN_NULL_TO_NOTNULL',
]);
export const isDataLossError = (e: unknown) => DATA_LOSS_ERRORS.has(mysqlErrorCode(e) ?? '');

/** A statement warning as gh-ost prints it: "Warning: Duplicate entry 'x' for key 'k' (1062)". */
export interface Warning {
  Level: string;
  Code: number;
  Message: string;
}

export const describeWarnings = (ws: Warning[]) => ws.map((w) => `${w.Level}: ${w.Message} (${w.Code})`).join('; ');
