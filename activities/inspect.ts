// Inspect, the workflow's first phase: every precondition checked on the server, its
// topology, the table and the ALTER, before anything is created.
import type { MigrationInput } from '../model/types';
import { checkServer } from '../checks/server';
import { checkTableAndAlter } from '../checks/table';
import { withConnection } from '../mysql/connection';
import type { CredentialResolver } from '../mysql/credentials';
import { resolveServers } from '../mysql/topology';

/** Inspection alone (the workflow's first phase): server, grants, topology, table, ALTER. */
export async function inspect(
  credentials: CredentialResolver,
  input: MigrationInput,
): Promise<{ estimatedRows: number; serverVersion: string }> {
  return withConnection(
    input.server,
    credentials,
    async (conn) => {
      const facts = await checkServer(conn, input);
      const servers = await resolveServers(conn, input);
      const { estimatedRows } = await checkTableAndAlter(conn, input);
      if (servers.applier !== input.server) {
        // The master the ghost is written on: reachable and accepting these credentials, now.
        await withConnection(servers.applier, credentials, (master) => checkTableAndAlter(master, input), {
          firstContact: true,
        });
      }
      return { estimatedRows, serverVersion: facts.version };
    },
    { firstContact: true },
  );
}
