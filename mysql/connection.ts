// Connections to the migrated server. One place decides the session options every
// revenant connection uses, so that values read and written mean the same everywhere.
import { ApplicationFailure } from '@temporalio/common';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import mysqlCore from 'mysql2';
import type { Connection } from 'mysql2/promise';
import type { ServerRef } from '../model/types';
import type { CredentialResolver } from './credentials';
import { initConnection } from './flavor';
import { limitStatements, type Conn } from './query';
import { describeMysqlError, mysqlErrorCode } from './errors';

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
  if (timeout) limitStatements(conn, timeout, `${server.host}:${server.port}`);
  try {
    await initConnection(conn);
  } catch (e) {
    conn.destroy();
    throw e;
  }
  return conn;
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
