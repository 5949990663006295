// The worker alone knows MySQL passwords. Workflows name a server (host, port, user);
// the worker finds the password in, in order: what its own process was handed (the
// embedded CLI), the environment, or a JSON config file. Nothing here is ever logged.
import { readFileSync } from 'node:fs';
import type { ServerRef } from '../workflows/types';

export interface Credentials {
  user: string;
  password: string;
}

export type CredentialResolver = (server: ServerRef) => Credentials;

interface ConfigFile {
  mysql?: Record<string, { user?: string; password?: string }>;
}

/**
 * Environment: REVENANT_MYSQL_USER / REVENANT_MYSQL_PASSWORD (or MYSQL_PWD).
 * Config file (REVENANT_CONFIG): {"mysql": {"host:port": {"user": …, "password": …}, "default": {…}}}.
 */
export function credentialsFromEnvironment(env: NodeJS.ProcessEnv = process.env, overrides?: Partial<Credentials>): CredentialResolver {
  let file: ConfigFile = {};
  if (env.REVENANT_CONFIG) {
    try {
      file = JSON.parse(readFileSync(env.REVENANT_CONFIG, 'utf8')) as ConfigFile;
    } catch (e) {
      throw new Error(`cannot read REVENANT_CONFIG ${env.REVENANT_CONFIG}: ${(e as Error).message}`);
    }
  }
  return (server) => {
    const entry = file.mysql?.[`${server.host}:${server.port}`] ?? file.mysql?.default ?? {};
    const user = server.user ?? overrides?.user ?? entry.user ?? env.REVENANT_MYSQL_USER ?? 'root';
    const password = overrides?.password ?? entry.password ?? env.REVENANT_MYSQL_PASSWORD ?? env.MYSQL_PWD ?? '';
    return { user, password };
  };
}
