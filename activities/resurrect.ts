// --resurrect: a new workflow continues a migration that failed or was terminated, from the
// checkpoints in its changelog. Its terms, each checked with a clear error and nothing
// changed: same database, table and ALTER as the checkpoint's; ghost and changelog present;
// the binlog from the checkpoint still on the server (by GTID where there is one).
import { binlogMissing, checkedStoredPlan, describePosition } from '../control/stored-plan';
import { copyCheckpointShape, isBinlogCheckpoint, isMigrationRecord } from '../control/stored-shapes';
import type { MigrationInput, TablePlan } from '../model/types';
import { changelogTableName, ghostTableName, tableNameBase } from '../model/types';
import { normalizeAlter } from '../table/alter-clauses';
import {
  HINT,
  parseStored,
  readHints,
  readJson,
  readLaneCheckpoints,
  type BinlogCheckpoint,
  type CopyCheckpoint,
} from '../control/changelog';
import type { CredentialResolver } from '../mysql/credentials';
import { checkServer } from '../checks/server';
import { checkTableAndAlter } from '../checks/table';
import { refuse } from '../checks/refuse';
import { rows } from '../mysql/query';
import { withConnection } from '../mysql/connection';
import * as sql from '../mysql/statements';
import { placement, resolveServers } from '../mysql/topology';

export interface Resurrected {
  plan: TablePlan;
  estimatedRows: number;
  copy: CopyCheckpoint;
  binlog: BinlogCheckpoint;
}

export async function resurrect(credentials: CredentialResolver, input: MigrationInput): Promise<Resurrected> {
  return withConnection(
    input.server,
    credentials,
    async (conn) => {
      const { database: db, table } = input;
      await checkServer(conn, input);
      const { estimatedRows } = await checkTableAndAlter(conn, input, { resurrect: true });
      const [changelog, ghost] = [changelogTableName(tableNameBase(input)), ghostTableName(tableNameBase(input))];
      const present = new Set(
        (await rows(conn, sql.tablesNamed(db, [changelog, ghost]))).map((r) => String(r.TABLE_NAME)),
      );
      if (!present.has(changelog)) {
        refuse(
          `nothing to resurrect: changelog table ${db}.${changelog} does not exist (the migration completed, was cleaned up, or never began copying); run without --resurrect`,
        );
      }
      if (!present.has(ghost)) {
        refuse(
          `cannot resurrect: ghost table ${db}.${ghost} is gone, though the changelog remains; drop ${changelog} and start anew`,
        );
      }
      const names = { database: db, changelogTable: changelog };
      // Each row is refused here if it is not of the shape revenant writes, before anything runs.
      const record = await readJson(conn, names, HINT.migration, isMigrationRecord);
      const binlog = await readJson(conn, names, HINT.binlog, isBinlogCheckpoint);
      // The copy's checkpoint is checked against the key of the plan, once that is checked.
      const copyText = (await readHints(conn, names, [HINT.copy])).get(HINT.copy);
      if (!record || copyText === undefined || !binlog)
        refuse(
          `cannot resurrect: ${db}.${changelog} holds no complete checkpoint (the earlier migration stopped before it began copying); drop it and start anew`,
        );
      await readLaneCheckpoints(conn, names);
      if (record.database !== db || record.table !== table) {
        refuse(`cannot resurrect: the checkpoint in ${db}.${changelog} is for ${record.database}.${record.table}`);
      }
      if (normalizeAlter(record.alter) !== normalizeAlter(input.alter)) {
        refuse(
          `cannot resurrect: --resurrect needs the exact same ALTER; the checkpoint was taken for "${record.alter}", this command has "${normalizeAlter(input.alter)}"`,
        );
      }
      const missing = await binlogMissing(conn, binlog);
      if (missing)
        refuse(
          `cannot resurrect: the binlog from the checkpoint (${describePosition(binlog)}) is no longer on the server (${missing}); start the migration anew`,
        );
      // Where to write and whose lag to watch, decided anew: after a failover the server given
      // (--host) is the promoted replica, and the plan's old master is gone.
      const servers = await resolveServers(conn, input);
      const plan: TablePlan = await withConnection(servers.applier, credentials, async (applier) => ({
        ...(await checkedStoredPlan(applier, input, record.plan)),
        estimatedRows,
        ...placement(servers, input),
      }));
      const copy = parseStored(names, HINT.copy, copyText, copyCheckpointShape(plan.copyKey ?? plan.key));
      return { plan, estimatedRows, copy, binlog };
    },
    { firstContact: true },
  );
}
