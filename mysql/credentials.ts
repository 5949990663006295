// The worker alone knows MySQL passwords. Workflows name a server (host, port, user);
// the worker finds the password in, in order: what its own process was handed (the
// embedded CLI), the environment, or a JSON config file. Nothing here is ever logged.
import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import type { ServerRef } from '../model/types';
import { allowedDirs, isUnder } from '../runtime/worker-policy';

export interface Credentials {
  user: string;
  password: string;
  /** TLS for the MySQL connection (mysql2's ssl options, files already read). */
  ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean; verifyIdentity?: boolean };
  /** Where a named connection really is, when the config says. */
  host?: string;
  port?: number;
  /**
   * caching_sha2_password over plain TCP: the server's RSA public key (PEM) the worker trusts,
   * and whether it may take the key the server offers instead (MySQL's --get-server-public-key).
   */
  serverPublicKey?: string;
  getServerPublicKey?: boolean;
}

export type CredentialResolver = (server: ServerRef) => Credentials;

interface ConfigEntry {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /**
   * Paths of PEM files, whether the server's certificate must verify (default true), and
   * whether it must also name the host connected to (default false; gh-ost's --ssl checks it).
   */
  ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean; verifyIdentity?: boolean };
  /** A PEM file of the server's RSA public key, trusted for caching_sha2_password over plain TCP (MySQL's --server-public-key-path). */
  serverPublicKey?: string;
  /** Take the RSA key the server offers (MySQL's --get-server-public-key): a server impersonated on the way gets the password. */
  getServerPublicKey?: boolean;
}

export interface ConfigFile {
  mysql?: Record<string, ConfigEntry>;
}

function readSsl(ssl: ConfigEntry['ssl'], where: string): Credentials['ssl'] {
  if (!ssl) return undefined;
  const read = (f?: string) => {
    if (!f) return undefined;
    try {
      return readFileSync(f, 'utf8');
    } catch (e) {
      // A missing or unreadable file stays so: the migration fails at once, nothing changed.
      throw ApplicationFailure.nonRetryable(
        `${where}: cannot read TLS file ${f} on this worker: ${(e as Error).message}`,
        'BadInput',
      );
    }
  };
  const rejectUnauthorized = ssl.rejectUnauthorized ?? true;
  return {
    ca: read(ssl.ca),
    cert: read(ssl.cert),
    key: read(ssl.key),
    rejectUnauthorized,
    verifyIdentity: rejectUnauthorized && (ssl.verifyIdentity ?? false),
  };
}

/**
 * What the command line gave the embedded worker: the --password for the servers of the
 * migration's topology, and --master-password for the --assume-master-host server only
 * (`byServer`, keyed "host:port").
 */
export interface LoginOverrides {
  user?: string;
  password?: string;
  byServer?: Record<string, { password?: string }>;
}

/**
 * Environment: REVENANT_MYSQL_USER / REVENANT_MYSQL_PASSWORD (or MYSQL_PWD), and
 * REVENANT_MYSQL_SSL_CA (a CA file: TLS on, server certificate verified).
 * Config file (REVENANT_CONFIG): {"mysql": {"<name>" | "host:port" | "default": {"host", "port",
 * "user", "password", "ssl": {"ca", "cert", "key", "rejectUnauthorized", "verifyIdentity"}}}}; a server named in
 * the workflow (--mysql-connection) is looked up by name first.
 */
export function credentialsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  overrides?: LoginOverrides,
): CredentialResolver {
  let file: ConfigFile = {};
  if (env.REVENANT_CONFIG) {
    try {
      file = JSON.parse(readFileSync(env.REVENANT_CONFIG, 'utf8')) as ConfigFile;
    } catch (e) {
      throw new Error(`cannot read REVENANT_CONFIG ${env.REVENANT_CONFIG}: ${(e as Error).message}`);
    }
  }
  // The embedded CLI's worker serves only its own command line (the operator at the
  // terminal): the servers, user and TLS are the command's. Every other worker is the
  // authority over where its passwords go (see serversAllowed).
  const trusted = overrides !== undefined;
  const allowed = serversAllowed(file, env);
  const configuredUser = (entry: ConfigEntry) => entry.user ?? env.REVENANT_MYSQL_USER;
  return (server) => {
    const key = server.name ?? `${server.host}:${server.port}`;
    if (server.name && !file.mysql?.[server.name])
      throw new Error(`no MySQL connection named "${server.name}" in this worker's REVENANT_CONFIG`);
    if (!trusted && !server.name && !allowed.admits(server.host, server.port)) {
      throw ApplicationFailure.nonRetryable(
        `this worker does not connect to ${server.host}:${server.port}: its configuration names no such server ` +
          `(${allowed.describe()}); name it in REVENANT_CONFIG or REVENANT_MYSQL_HOSTS on the worker`,
        'ServerNotAllowed',
      );
    }
    const entry = file.mysql?.[key] ?? file.mysql?.default ?? {};
    const fixedUser = configuredUser(entry);
    if (!trusted && fixedUser !== undefined && server.user !== undefined && server.user !== fixedUser) {
      throw ApplicationFailure.nonRetryable(
        `this worker logs in to ${server.host}:${server.port} as ${fixedUser} only; the migration asked for ${server.user}`,
        'UserNotAllowed',
      );
    }
    const workerTls = entry.ssl ?? (env.REVENANT_MYSQL_SSL_CA ? { ca: env.REVENANT_MYSQL_SSL_CA } : undefined);
    if (!trusted && server.tls && workerTls) {
      // The worker's TLS for this server stands: a migration can neither weaken it nor point it at other files.
      throw ApplicationFailure.nonRetryable(
        `this worker connects to ${server.host}:${server.port} with the TLS settings of its own configuration; ` +
          'the migration may not set --ssl, --ssl-ca, --ssl-cert, --ssl-key or --ssl-allow-insecure for it',
        'TlsNotAllowed',
      );
    }
    if (!trusted && server.tls) {
      // A worker without TLS settings for this server takes the migration's (gh-ost's --ssl
      // flags), but reads its files only where its operator keeps such files: else whoever
      // starts a workflow picks which file of the worker's host is shown to a server as a key.
      const dirs = allowedDirs(env.REVENANT_MYSQL_SSL_DIRS);
      for (const [flag, path] of [
        ['--ssl-ca', server.tls.ca],
        ['--ssl-cert', server.tls.cert],
        ['--ssl-key', server.tls.key],
      ] as const) {
        if (path !== undefined && !isUnder(dirs, path))
          throw ApplicationFailure.nonRetryable(
            `${flag} ${path} is not in a directory this worker reads TLS files from ` +
              `(REVENANT_MYSQL_SSL_DIRS: ${dirs.join(':') || 'none'}); or configure TLS for ${key} in its REVENANT_CONFIG`,
            'TlsNotAllowed',
          );
      }
    }
    const user = server.user ?? overrides?.user ?? entry.user ?? env.REVENANT_MYSQL_USER ?? 'root';
    const password =
      overrides?.byServer?.[`${server.host}:${server.port}`]?.password ??
      overrides?.password ??
      entry.password ??
      env.REVENANT_MYSQL_PASSWORD ??
      env.MYSQL_PWD ??
      '';
    // TLS: the command line's (gh-ost's --ssl flags), else the config's, else the environment's.
    const ssl =
      (server.tls
        ? readSsl({ ...server.tls, rejectUnauthorized: !server.tls.allowInsecure, verifyIdentity: true }, '--ssl')
        : undefined) ??
      readSsl(entry.ssl, `REVENANT_CONFIG mysql.${key}`) ??
      (env.REVENANT_MYSQL_SSL_CA ? readSsl({ ca: env.REVENANT_MYSQL_SSL_CA }, 'REVENANT_MYSQL_SSL_CA') : undefined);
    // Over plain TCP a caching_sha2_password login sends the password encrypted with an RSA
    // key: the one the worker trusts, or (when its operator allows it, and always for the
    // embedded CLI, as gh-ost's driver does) the one the server offers.
    const keyFile = entry.serverPublicKey ?? env.REVENANT_MYSQL_SERVER_PUBLIC_KEY;
    const serverPublicKey = keyFile ? readKey(keyFile, `REVENANT_CONFIG mysql.${key}.serverPublicKey`) : undefined;
    const getServerPublicKey =
      trusted || entry.getServerPublicKey === true || env.REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY === '1';
    return {
      user,
      password,
      ...(ssl ? { ssl } : {}),
      ...(entry.host ? { host: entry.host } : {}),
      ...(entry.port ? { port: entry.port } : {}),
      ...(serverPublicKey ? { serverPublicKey } : {}),
      getServerPublicKey,
    };
  };
}

function readKey(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw ApplicationFailure.nonRetryable(
      `${where}: cannot read the server's public key ${file} on this worker: ${(e as Error).message}`,
      'BadInput',
    );
  }
}

/** Where a worker may send a login: what its operator wrote, nothing a workflow names. */
export interface ServerAllowList {
  admits(host: string, port: number): boolean;
  /** For the worker's start log and refusals: what is allowed, without any secret. */
  describe(): string;
}

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

/**
 * The servers a worker connects to: REVENANT_CONFIG's entries (keyed "host:port", or naming
 * host and port), and REVENANT_MYSQL_HOSTS ("host:port", "host:*" or "*", comma-separated).
 * A config entry "default" or REVENANT_MYSQL_HOSTS=* admits any server: the operator wrote
 * it, and the worker says so when it starts. With neither a config nor a host list, only
 * this machine's own servers (loopback) are admitted.
 */
export function serversAllowed(file: ConfigFile, env: NodeJS.ProcessEnv): ServerAllowList {
  const exact = new Set<string>();
  const anyPort = new Set<string>();
  let any = false;
  const norm = (h: string) =>
    h
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1');
  const add = (spec: string) => {
    const s = spec.trim();
    if (!s) return;
    if (s === '*') {
      any = true;
      return;
    }
    const m = /^(.+):(\d+|\*)$/.exec(s);
    if (!m) throw new Error(`REVENANT_MYSQL_HOSTS: "${s}" is not host:port, host:* or *`);
    if (m[2] === '*') anyPort.add(norm(m[1]));
    else exact.add(`${norm(m[1])}:${Number(m[2])}`);
  };
  for (const [key, entry] of Object.entries(file.mysql ?? {})) {
    if (key === 'default') any = true;
    else if (/^.+:\d+$/.test(key)) add(key);
    if (entry.host) add(`${entry.host}:${entry.port ?? 3306}`);
  }
  for (const spec of (env.REVENANT_MYSQL_HOSTS ?? '').split(',')) add(spec);
  const loopbackOnly = !env.REVENANT_CONFIG && !env.REVENANT_MYSQL_HOSTS;
  if (loopbackOnly) for (const h of LOOPBACK) anyPort.add(h);
  return {
    admits: (host, port) => any || anyPort.has(norm(host)) || exact.has(`${norm(host)}:${port}`),
    describe: () =>
      any
        ? 'any server (a "default" entry or REVENANT_MYSQL_HOSTS=*)'
        : loopbackOnly
          ? 'servers on this machine only (127.0.0.1, localhost, ::1): no REVENANT_CONFIG or REVENANT_MYSQL_HOSTS'
          : `servers ${[...exact, ...[...anyPort].map((h) => `${h}:*`)].join(', ') || 'none'}`,
  };
}

/** The worker's start log: where its logins may go, read from the same environment. */
export function describeServersAllowed(env: NodeJS.ProcessEnv = process.env): string {
  const file = env.REVENANT_CONFIG ? (JSON.parse(readFileSync(env.REVENANT_CONFIG, 'utf8')) as ConfigFile) : {};
  return serversAllowed(file, env).describe();
}
