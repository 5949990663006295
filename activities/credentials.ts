// The worker alone knows MySQL passwords. Workflows name a server (host, port, user);
// the worker finds the password in, in order: what its own process was handed (the
// embedded CLI), the environment, or a JSON config file. Nothing here is ever logged.
import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import type { ServerRef } from '../workflows/types';

export interface Credentials {
  user: string;
  password: string;
  /** TLS for the MySQL connection (mysql2's ssl options, files already read). */
  ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean; verifyIdentity?: boolean };
  /** Where a named connection really is, when the config says. */
  host?: string;
  port?: number;
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
}

interface ConfigFile {
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
      throw ApplicationFailure.nonRetryable(`${where}: cannot read TLS file ${f} on this worker: ${(e as Error).message}`, 'BadInput');
    }
  };
  const rejectUnauthorized = ssl.rejectUnauthorized ?? true;
  return { ca: read(ssl.ca), cert: read(ssl.cert), key: read(ssl.key), rejectUnauthorized, verifyIdentity: rejectUnauthorized && (ssl.verifyIdentity ?? false) };
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
export function credentialsFromEnvironment(env: NodeJS.ProcessEnv = process.env, overrides?: LoginOverrides): CredentialResolver {
  let file: ConfigFile = {};
  if (env.REVENANT_CONFIG) {
    try {
      file = JSON.parse(readFileSync(env.REVENANT_CONFIG, 'utf8')) as ConfigFile;
    } catch (e) {
      throw new Error(`cannot read REVENANT_CONFIG ${env.REVENANT_CONFIG}: ${(e as Error).message}`);
    }
  }
  return (server) => {
    const key = server.name ?? `${server.host}:${server.port}`;
    if (server.name && !file.mysql?.[server.name]) throw new Error(`no MySQL connection named "${server.name}" in this worker's REVENANT_CONFIG`);
    const entry = file.mysql?.[key] ?? file.mysql?.default ?? {};
    const user = server.user ?? overrides?.user ?? entry.user ?? env.REVENANT_MYSQL_USER ?? 'root';
    const password = overrides?.byServer?.[`${server.host}:${server.port}`]?.password ?? overrides?.password ??
      entry.password ?? env.REVENANT_MYSQL_PASSWORD ?? env.MYSQL_PWD ?? '';
    // TLS: the command line's (gh-ost's --ssl flags), else the config's, else the environment's.
    const ssl = (server.tls ? readSsl({ ...server.tls, rejectUnauthorized: !server.tls.allowInsecure, verifyIdentity: true }, '--ssl') : undefined) ??
      readSsl(entry.ssl, `REVENANT_CONFIG mysql.${key}`) ??
      (env.REVENANT_MYSQL_SSL_CA ? readSsl({ ca: env.REVENANT_MYSQL_SSL_CA }, 'REVENANT_MYSQL_SSL_CA') : undefined);
    return { user, password, ...(ssl ? { ssl } : {}), ...(entry.host ? { host: entry.host } : {}), ...(entry.port ? { port: entry.port } : {}) };
  };
}
