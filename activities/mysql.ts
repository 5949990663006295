// Connections to the migrated server. One place decides the session options every
// revenant connection uses, so that values read and written mean the same everywhere.
import mysql from 'mysql2/promise';
import type { Connection, RowDataPacket, ResultSetHeader } from 'mysql2/promise';
import type { ServerRef } from '../workflows/types';
import type { CredentialResolver } from './credentials';
import type { Statement } from './sql';

export type Conn = Connection;

export function connectionOptions(server: ServerRef, credentials: CredentialResolver) {
  const { user, password } = credentials(server);
  return {
    host: server.host,
    port: server.port,
    user,
    password,
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
