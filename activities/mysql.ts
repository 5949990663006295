// Connections to the migrated server. One place decides the session options every
// revenant connection uses, so that values read and written mean the same everywhere.
import { ApplicationFailure } from '@temporalio/common';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import mysqlCore from 'mysql2';
import type { Connection, RowDataPacket, ResultSetHeader } from 'mysql2/promise';
import type { ServerRef } from '../model/types';
import type { CredentialResolver } from './credentials';
import type { Statement } from './sql';
import { initConnection } from './flavor';

export type Conn = Connection;

/** mysql2's own caching_sha2_password plugin, wrapped below. */
const cachingSha2 = (
  mysqlCore as unknown as {
    authPlugins: {
      caching_sha2_password: (options: {
        serverPublicKey?: string;
      }) => (meta: unknown) => (data: Buffer) => Buffer | null;
    };
  }
).authPlugins.caching_sha2_password;
/** What the plugin sends to ask the server for its RSA key. */
const REQUEST_SERVER_KEY = Buffer.from([2]);
export const SERVER_KEY_UNTRUSTED = 'RV_SERVER_KEY_UNTRUSTED';

/**
 * caching_sha2_password that sends the password only to a key the worker trusts: over plain
 * TCP, a full authentication encrypts it with an RSA key, and a key the server offers is
 * whatever a server impersonating it offers. Unless the worker may take the offered key, that
 * request is refused and the login fails, naming the remedies.
 */
function trustedCachingSha2(where: string, serverPublicKey: string | undefined, getServerPublicKey: boolean) {
  return (meta: unknown) => {
    const inner = cachingSha2({ ...(serverPublicKey ? { serverPublicKey } : {}) })(meta);
    return (data: Buffer) => {
      const answer = inner(data);
      if (answer && !getServerPublicKey && REQUEST_SERVER_KEY.equals(answer)) {
        throw Object.assign(
          new Error(
            `${where} asks for the password over plain TCP (caching_sha2_password full authentication), and this worker ` +
              "trusts no RSA key for it: connect over TLS, give the worker the server's public key (serverPublicKey in REVENANT_CONFIG, or " +
              'REVENANT_MYSQL_SERVER_PUBLIC_KEY), or let it take the key the server offers (getServerPublicKey, REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY=1)',
          ),
          { code: SERVER_KEY_UNTRUSTED, fatal: true },
        );
      }
      return answer;
    };
  };
}

export function connectionOptions(server: ServerRef, credentials: CredentialResolver) {
  const {
    user,
    password,
    ssl,
    host: realHost,
    port: realPort,
    serverPublicKey,
    getServerPublicKey,
  } = credentials(server);
  const host = realHost ?? server.host;
  const port = realPort ?? server.port;
  return {
    host,
    port,
    ...(ssl?.verifyIdentity && isIP(host) ? { stream: () => socketNamedFor(host, port) } : {}),
    user,
    password,
    ...(ssl ? { ssl } : {}),
    charset: 'utf8mb4',
    // Values round-trip as the server prints them: no Date or float conversions.
    dateStrings: true as const,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    // One statement a query, always: nothing a value or an ALTER holds can start another.
    multipleStatements: false,
    connectTimeout: timeoutMillis(server) ?? 10_000,
    authPlugins: {
      caching_sha2_password: trustedCachingSha2(
        `${host}:${port}`,
        serverPublicKey,
        getServerPublicKey ?? false,
      ) as never,
    },
  };
}

/** --mysql-timeout in milliseconds, when the server has one. */
const timeoutMillis = (server: ServerRef): number | undefined =>
  server.timeoutSeconds ? Math.round(server.timeoutSeconds * 1000) : undefined;

/**
 * A TCP connection to an IP address whose TLS certificate must name that address (gh-ost's
 * --ssl checks it). mysql2 gives TLS no server name for an IP, and Node then checks the
 * certificate against the socket's _host, which it sets for host names only, else against
 * "localhost": the socket is told its address.
 */
function socketNamedFor(host: string, port: number): Socket {
  const socket = netConnect(port, host);
  (socket as Socket & { _host?: string })._host = host;
  return socket;
}

/** --mysql-timeout of each connection that has one: how long a statement may go unanswered. */
const statementTimeouts = new WeakMap<Conn, { ms: number; where: string }>();

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

/**
 * Login failures no retry can mend: the server refused these credentials (or this account, or
 * a connection without TLS). Retrying them would only count failed logins on the server, and
 * MySQL blocks a host after max_connect_errors of them.
 */
const REFUSED_LOGIN = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_NOT_SUPPORTED_AUTH_MODE',
  'ER_ACCOUNT_HAS_BEEN_LOCKED',
  'ER_MUST_CHANGE_PASSWORD_LOGIN',
  'ER_SECURE_TRANSPORT_REQUIRED',
  'ER_HOST_NOT_PRIVILEGED',
  'ER_HOST_IS_BLOCKED',
]);
/**
 * TLS failures: the server's certificate does not verify (unknown CA, another host's name,
 * expired), or the server has no TLS. They fail the same way on every try.
 */
const TLS_REFUSED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HANDSHAKE_NO_SSL_SUPPORT',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);
/** Network failures that, on first contact, mean the address is wrong rather than the server down for a moment. */
const UNREACHABLE = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

export interface ConnectOptions {
  /**
   * First contact, before anything is created: an address that does not answer is the
   * user's mistake (a wrong host or port), refused at once. Later, the same failure is a
   * server restarting or a network blip, and is retried.
   */
  firstContact?: boolean;
}

/** Why a connection could not be made, as a non-retryable failure where retrying cannot help; else the error itself. */
export function connectFailure(server: ServerRef, user: string, e: unknown, opts: ConnectOptions = {}): unknown {
  const code = mysqlErrorCode(e) ?? '';
  const where = `${server.host}:${server.port}`;
  if (code === SERVER_KEY_UNTRUSTED) return ApplicationFailure.nonRetryable((e as Error).message, 'ServerKeyUntrusted');
  if (REFUSED_LOGIN.has(code)) {
    return ApplicationFailure.nonRetryable(
      `cannot log in to ${where} as ${user}: ${describeMysqlError(e)}; ` +
        "check --user and --password (or the worker's REVENANT_CONFIG / REVENANT_MYSQL_PASSWORD), and the account's host and TLS requirements",
      'LoginRefused',
    );
  }
  // mysql2 reports every failed TLS handshake as HANDSHAKE_SSL_ERROR: the certificate's are those that name it.
  if (TLS_REFUSED.has(code) || (code === 'HANDSHAKE_SSL_ERROR' && /certificate|altnames/i.test((e as Error).message))) {
    return ApplicationFailure.nonRetryable(
      `cannot connect to ${where} over TLS: ${(e as Error).message} (${code}); ` +
        "check --ssl-ca (the CA that signed the server's certificate) and that the certificate names this host, or pass --ssl-allow-insecure",
      'TlsRefused',
    );
  }
  if (opts.firstContact && UNREACHABLE.has(code)) {
    const why =
      code.startsWith('E') && /^(ENOTFOUND|EAI_)/.test(code)
        ? `the host name ${server.host} does not resolve`
        : code === 'ECONNREFUSED'
          ? `nothing listens on port ${server.port} (connection refused)`
          : `no answer (${code})`;
    return ApplicationFailure.nonRetryable(
      `cannot connect to ${where}: ${why}; check --host and --port`,
      'ServerUnreachable',
    );
  }
  return e;
}

export async function connect(
  server: ServerRef,
  credentials: CredentialResolver,
  opts: ConnectOptions = {},
): Promise<Conn> {
  const options = connectionOptions(server, credentials);
  let conn: Connection;
  try {
    conn = await mysql.createConnection(options);
  } catch (e) {
    throw connectFailure(server, options.user, e, opts);
  }
  // A dropped connection must surface as a rejected query, never as an unhandled 'error'.
  conn.on('error', () => {});
  const timeout = timeoutMillis(server);
  if (timeout) statementTimeouts.set(conn, { ms: timeout, where: `${server.host}:${server.port}` });
  try {
    await initConnection(conn);
  } catch (e) {
    conn.destroy();
    throw e;
  }
  return conn;
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

/** Runs fn with a fresh connection and always closes it. */
export async function withConnection<T>(
  server: ServerRef,
  credentials: CredentialResolver,
  fn: (c: Conn) => Promise<T>,
  opts: ConnectOptions = {},
): Promise<T> {
  const conn = await connect(server, credentials, opts);
  try {
    return await fn(conn);
  } finally {
    conn.destroy();
  }
}

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
      '; grant what revenant needs (the README\'s "Privileges": gh-ost\'s grants, plus SLAVE MONITOR on MariaDB and SELECT on performance_schema on MySQL)',
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

/** Errors after which the same transaction may simply be run again. */
export const RETRYABLE_LOCK_ERRORS = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

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
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
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
