// A fleet's targets (workflows/fleet.ts): the databases of each server that match the fleet
// file and hold the table, read on the servers themselves (the worker has the logins; the CLI
// may not), and, for a fleet resurrected, which of them left a checkpoint to continue from.
import { ApplicationFailure } from '@temporalio/activity';
import {
  changelogTableName,
  tableNameBase,
  type FleetServerSpec,
  type FleetTarget,
  type MigrationInput,
  type ServerRef,
  type TableAlter,
} from '../model/types';
import type { CredentialResolver } from '../mysql/credentials';
import { rows } from '../mysql/query';
import { withConnection } from '../mysql/connection';

const refuse = (message: string): never => {
  throw ApplicationFailure.nonRetryable(message, 'BadInput');
};

/** A server of the fleet file, with the command line's login and TLS (a connection name is the worker's instead). */
const serverOf = (spec: FleetServerSpec, login: Pick<ServerRef, 'user' | 'tls' | 'timeoutSeconds'>): ServerRef => ({
  ...login,
  host: spec.host,
  port: spec.port,
  ...(spec.user ? { user: spec.user } : {}),
  ...(spec.connection ? { name: spec.connection } : {}),
});

export async function listFleetTargets(
  credentials: CredentialResolver,
  servers: FleetServerSpec[],
  table: string,
  login: Pick<ServerRef, 'user' | 'tls' | 'timeoutSeconds'>,
  tables?: TableAlter[],
): Promise<FleetTarget[]> {
  if (tables?.length) return tablesOfOneDatabase(credentials, servers, login, tables);
  const targets: FleetTarget[] = [];
  const seen = new Set<string>();
  for (const spec of servers) {
    const server = serverOf(spec, login);
    const name = spec.table ?? table;
    await withConnection(
      server,
      credentials,
      async (conn) => {
        const explicit = Array.isArray(spec.databases);
        const databases = explicit
          ? (spec.databases as string[])
          : (
              await rows(conn, {
                sql: 'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY SCHEMA_NAME',
                params: [spec.databases],
              })
            ).map((r) => String(r.SCHEMA_NAME));
        if (databases.length === 0) return;
        const holding = new Set(
          (
            await rows(conn, {
              sql: "SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = ? AND TABLE_SCHEMA IN (?) AND TABLE_TYPE = 'BASE TABLE'",
              params: [name, databases],
            })
          ).map((r) => String(r.TABLE_SCHEMA)),
        );
        // Named explicitly, a database without the table is a mistake in the file; matched by a pattern, it is not a target.
        const missing = explicit ? databases.filter((d) => !holding.has(d)) : [];
        if (missing.length) refuse(`fleet: ${spec.host}:${spec.port} has no table ${name} in ${missing.join(', ')}`);
        for (const database of databases.filter((d) => holding.has(d))) {
          const key = `${spec.host}:${spec.port}/${database}.${name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          targets.push({ server, database, table: name });
        }
      },
      { firstContact: true },
    );
  }
  return targets;
}

/** A multi-table migration's targets: each table of the one database, refused by name when it is not there. */
async function tablesOfOneDatabase(
  credentials: CredentialResolver,
  servers: FleetServerSpec[],
  login: Pick<ServerRef, 'user' | 'tls' | 'timeoutSeconds'>,
  tables: TableAlter[],
): Promise<FleetTarget[]> {
  const spec = servers[0];
  const database = Array.isArray(spec.databases) ? spec.databases[0] : spec.databases;
  const server = serverOf(spec, login);
  return withConnection(
    server,
    credentials,
    async (conn) => {
      const present = new Set(
        (
          await rows(conn, {
            sql: "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?) AND TABLE_TYPE = 'BASE TABLE'",
            params: [database, tables.map((t) => t.table)],
          })
        ).map((r) => String(r.TABLE_NAME)),
      );
      const missing = tables.filter((t) => !present.has(t.table)).map((t) => t.table);
      if (missing.length) refuse(`${spec.host}:${spec.port} has no table ${missing.join(', ')} in ${database}`);
      return tables.map((t) => ({ server, database, table: t.table, alter: t.alter }));
    },
    { firstContact: true },
  );
}

/** Of these targets, the indexes of those whose changelog is there: a migration to resurrect, not to begin. */
export async function fleetCheckpoints(
  credentials: CredentialResolver,
  targets: FleetTarget[],
  template: Pick<MigrationInput, 'forceTableNames'>,
): Promise<number[]> {
  const found: number[] = [];
  const byServer = new Map<string, number[]>();
  targets.forEach((t, i) => {
    const key = `${t.server.host}:${t.server.port}`;
    byServer.set(key, [...(byServer.get(key) ?? []), i]);
  });
  for (const indexes of byServer.values()) {
    await withConnection(targets[indexes[0]].server, credentials, async (conn) => {
      const present = new Set(
        (
          await rows(conn, {
            sql: "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) AND TABLE_NAME LIKE '%\\_ghc'",
            params: [[...new Set(indexes.map((i) => targets[i].database))]],
          })
        ).map((r) => String(r.t)),
      );
      for (const i of indexes) {
        const t = targets[i];
        if (
          present.has(
            `${t.database}.${changelogTableName(tableNameBase({ table: t.table, forceTableNames: template.forceTableNames }))}`,
          )
        )
          found.push(i);
      }
    });
  }
  return found;
}
