// Statements on a connection: every one goes through rows() or exec() here, under the
// connection's --mysql-timeout, with its values sent apart from its text.
import type { Connection, RowDataPacket, ResultSetHeader } from 'mysql2/promise';
import type { Statement } from './statements';
import { mysqlErrorCode } from './errors';

export type Conn = Connection;

/** --mysql-timeout of each connection that has one: how long a statement may go unanswered. */
const statementTimeouts = new WeakMap<Conn, { ms: number; where: string }>();

/** Gives a connection its --mysql-timeout: how long each of its statements may go unanswered. */
export function limitStatements(conn: Conn, ms: number, where: string): void {
  statementTimeouts.set(conn, { ms, where });
}

/**
 * Runs a statement under the connection's --mysql-timeout. mysql2 gives up waiting but keeps
 * the connection, whose late answer would then be read as the next statement's: the
 * connection is destroyed, and the error is a lost connection's (retried like one).
 */
async function timed<T>(conn: Conn, run: (timeout?: number) => Promise<T>): Promise<T> {
  const limit = statementTimeouts.get(conn);
  if (!limit) return run();
  try {
    return await run(limit.ms);
  } catch (e) {
    if (mysqlErrorCode(e) !== 'PROTOCOL_SEQUENCE_TIMEOUT') throw e;
    conn.destroy();
    throw Object.assign(
      new Error(
        `${limit.where} did not answer within ${limit.ms / 1000} s (--mysql-timeout); the connection was closed`,
      ),
      { code: 'PROTOCOL_SEQUENCE_TIMEOUT' },
    );
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a row is the server's answer; each caller reads the columns its statement names.
export async function rows<T = Record<string, any>>(conn: Conn, s: Statement): Promise<T[]> {
  const [r] = await timed(conn, (timeout) => conn.query<RowDataPacket[]>({ sql: s.sql, timeout }, s.params));
  return r as unknown as T[];
}

export async function exec(conn: Conn, s: Statement): Promise<ResultSetHeader> {
  const [r] = await timed(conn, (timeout) => conn.query<ResultSetHeader>({ sql: s.sql, timeout }, s.params));
  return r;
}
