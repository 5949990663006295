// Connections to the migrated server. One place decides the session options every
// revenant connection uses, so that values read and written mean the same everywhere.
import { ApplicationFailure } from '@temporalio/common';
import mysql from 'mysql2/promise';
import type { Connection, RowDataPacket, ResultSetHeader } from 'mysql2/promise';
import type { ServerRef } from '../workflows/types';
import type { CredentialResolver } from './credentials';
import type { Statement } from './sql';
import { initConnection } from './flavor';

export type Conn = Connection;

export function connectionOptions(server: ServerRef, credentials: CredentialResolver) {
  const { user, password, ssl, host, port } = credentials(server);
  return {
    host: host ?? server.host,
    port: port ?? server.port,
    user,
    password,
    ...(ssl ? { ssl } : {}),
    charset: 'utf8mb4',
    // Values round-trip as the server prints them: no Date or float conversions.
    dateStrings: true as const,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    multipleStatements: true,
    connectTimeout: 10_000,
  };
}

export async function connect(server: ServerRef, credentials: CredentialResolver): Promise<Conn> {
  const conn = await mysql.createConnection(connectionOptions(server, credentials));
  // A dropped connection must surface as a rejected query, never as an unhandled 'error'.
  conn.on('error', () => {});
  try {
    await initConnection(conn);
  } catch (e) {
    conn.destroy();
    throw e;
  }
  return conn;
}

export async function rows<T = Record<string, any>>(conn: Conn, s: Statement): Promise<T[]> {
  const [r] = await conn.query<RowDataPacket[]>(s.sql, s.params);
  return r as unknown as T[];
}

export async function exec(conn: Conn, s: Statement): Promise<ResultSetHeader> {
  const [r] = await conn.query<ResultSetHeader>(s.sql, s.params);
  return r;
}

/** Runs fn with a fresh connection and always closes it. */
export async function withConnection<T>(server: ServerRef, credentials: CredentialResolver, fn: (c: Conn) => Promise<T>): Promise<T> {
  const conn = await connect(server, credentials);
  try {
    return await fn(conn);
  } finally {
    conn.destroy();
  }
}

export function mysqlErrorCode(e: unknown): string | undefined {
  return (e as { code?: string })?.code;
}

/** Errors after which the same transaction may simply be run again. */
export const RETRYABLE_LOCK_ERRORS = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/** A MySQL error as the Go driver prints it (what gh-ost users grep for): "Error 1067 (42000): …". */
export function describeMysqlError(e: unknown): string {
  const x = e as { errno?: number; sqlState?: string; sqlMessage?: string; message?: string };
  if (typeof x?.errno === 'number' && x.sqlMessage !== undefined) return `Error ${x.errno} (${x.sqlState ?? 'HY000'}): ${x.sqlMessage}`;
  return x?.message ?? String(e);
}

/**
 * Errors of the connection or the server's state, not of the statement: lost connections,
 * a server shutting down or restarting, lock contention. Retrying them is always right.
 * Everything else the server answered with is the statement's own failure, retried only
 * --default-retries times.
 */
const TRANSIENT_ERRORS = new Set([
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED',
  'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_OPTION_PREVENTS_STATEMENT', 'ER_LOCK_TABLE_FULL',
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
export function retryDelay(e: unknown, attempt: number, opts: { defaultRetries: number; lockBackoffMs: number; what: string }): number {
  const lock = RETRYABLE_LOCK_ERRORS.has(mysqlErrorCode(e) ?? '');
  if (isStatementError(e) && !lock) {
    if (attempt >= opts.defaultRetries) {
      throw ApplicationFailure.nonRetryable(`${describeMysqlError(e)} (${opts.what}, tried ${attempt} times)`, 'StatementFailed');
    }
    return 1000;
  }
  if (!lock || attempt >= 10) throw e;
  return opts.lockBackoffMs * attempt;
}

/** A statement warning as gh-ost prints it: "Warning: Duplicate entry 'x' for key 'k' (1062)". */
export interface Warning {
  Level: string;
  Code: number;
  Message: string;
}

export const describeWarnings = (ws: Warning[]) => ws.map((w) => `${w.Level}: ${w.Message} (${w.Code})`).join('; ');
