// The preconditions, one file each, registering themselves here (as Spirit's
// pkg/migration/check does): checkServer (server.ts) and checkTableAndAlter (table.ts) run them
// in their order and stop at the first refusal. A new precondition is a new file that calls registerServerCheck or
// registerTableCheck, and a line in server.ts or table.ts that imports it.
import type { MigrationInput } from '../model/types';
import type { Flavor } from '../mysql/flavor';
import type { Conn } from '../mysql/query';

export type ServerCheckOptions = Pick<
  MigrationInput,
  'assumeRbr' | 'switchToRbr' | 'skipPortValidation' | 'allowSetupMetadataLockInstruments'
>;

export interface ServerCheckContext {
  conn: Conn;
  flavor: Flavor;
  /** The server's variables (mysql/statements.ts serverVariables), as the checks before read them. */
  variables: Record<string, unknown>;
  options: ServerCheckOptions;
}

export interface ServerCheck {
  /** For messages and tests: "binlog-format". */
  name: string;
  /**
   * `reached`: about the server reached, before revenant changes anything on it (the port);
   * `settings`: after the settings revenant may set on request (--switch-to-rbr,
   * --allow-setup-metadata-lock-instruments).
   */
  stage: 'reached' | 'settings';
  /** Lower first, within its stage. */
  order: number;
  /** Refuses (checks/refuse.ts) when the precondition does not hold. */
  run(ctx: ServerCheckContext): Promise<void>;
}

/** A list of checks of one kind: each registered once, read back in their order. */
function registry<T extends { name: string; order: number }>(kind: string) {
  const registered: T[] = [];
  return {
    register(check: T): void {
      if (registered.some((c) => c.name === check.name))
        throw new Error(`internal: ${kind} check ${check.name} registered twice`);
      registered.push(check);
    },
    inOrder: (): T[] => [...registered].sort((a, b) => a.order - b.order),
  };
}

const server = registry<ServerCheck>('server');
export const registerServerCheck = server.register;

/** The checks of a stage, in their order. */
export const serverChecks = (stage: ServerCheck['stage']): ServerCheck[] =>
  server.inOrder().filter((c) => c.stage === stage);

export interface TableCheckContext {
  conn: Conn;
  input: MigrationInput;
  db: string;
  table: string;
  /** A --resurrect: the migration's own tables exist already. */
  resurrect: boolean;
}

export interface TableCheck {
  name: string;
  /** Lower first; after the table is known to be there and a table. */
  order: number;
  run(ctx: TableCheckContext): Promise<void>;
}

const table = registry<TableCheck>('table');
export const registerTableCheck = table.register;

/** The table checks, in their order. */
export const tableChecks = (): TableCheck[] => table.inOrder();
