// The revert window's activities (workflows/revert.ts) and gh-ost's --revert --old-table.
import { Context } from '@temporalio/activity';
import type { BinlogPosition, MigrationInput, TablePlan } from '../model/types';
import { changelogTableName, checkpointTableName, ghostTableName, tableNameBase } from '../model/types';
import { windowPlan } from '../model/revert-window';
import { normalizeAlter } from '../table/alter-clauses';
import { HINT, readJson } from '../control/changelog';
import { isBinlogCheckpoint, isMigrationRecord } from '../control/stored-shapes';
import type { CredentialResolver } from '../mysql/credentials';
import { alterOf } from '../checks/table';
import { checkServer } from '../checks/server';
import { refuse, refuseMissingTable } from '../checks/refuse';
import { exec, rows } from '../mysql/query';
import { withConnection } from '../mysql/connection';
import { compareBinlogPositions, currentBinlogPosition } from '../binlog/position';
import { sleep } from '../runtime/sleep';
import { binlogMissing, checkedStoredPlan, describePosition } from '../control/stored-plan';
import * as sql from '../mysql/statements';
import { applierOf, placement, resolveServers } from '../mysql/topology';
import { must } from '../model/must';

/**
 * At a window's opening: a row inserted into the table during the window is written into the
 * kept table with the columns both have; a column of the kept table that is NOT NULL with no
 * default (one the ALTER dropped) can then hold no value, and the window's applier would stop
 * at the first insert. Said when the window opens, not at the revert.
 */
export async function keptTableProblems(
  credentials: CredentialResolver,
  input: MigrationInput,
  window: TablePlan,
): Promise<string | undefined> {
  return withConnection(applierOf(input, window), credentials, async (conn) => {
    const written = new Set(window.columns.map((c) => c.ghost.toLowerCase()));
    const stuck = (await rows(conn, sql.columnsWithoutDefault(window.database, window.ghostTable)))
      .map((r) => String(r.COLUMN_NAME))
      .filter((c) => !written.has(c.toLowerCase()));
    if (stuck.length === 0) return undefined;
    return (
      `${window.ghostTable} has NOT NULL column(s) without a default that ${window.table} lacks (${stuck.join(', ')}): ` +
      `a row inserted into ${window.table} during the window cannot be written there, and the window will close at the first insert`
    );
  });
}

/**
 * At a window's end (finalize, or its time up), before its applier stops: the kept table is
 * brought up to the binlog as it stands now, so that it holds every change made to the table
 * until the end, however far behind the applier ran. Waits, the applier running beside it, for
 * the window's checkpoint to pass the server's position of this moment.
 */
export async function catchUpKeptTable(
  credentials: CredentialResolver,
  input: MigrationInput,
  window: TablePlan,
): Promise<BinlogPosition> {
  const ctx = Context.current();
  const target = await withConnection(input.server, credentials, (c) => currentBinlogPosition(c));
  return withConnection(applierOf(input, window), credentials, async (conn) => {
    for (;;) {
      const cp = await readJson(conn, window, HINT.binlog, isBinlogCheckpoint);
      if (cp && cp.window === window.window && compareBinlogPositions(cp, target) >= 0) return target;
      ctx.heartbeat(`bringing ${window.ghostTable} up to ${describePosition(target)}`);
      await sleep(100);
    }
  });
}

export interface RevertStart {
  /** The finished migration's plan, and the window (cut-overs so far) its checkpoint belongs to. */
  plan: TablePlan;
  window: number;
}

/**
 * gh-ost's --revert --old-table, for a migration that finished without a window (or whose
 * window closed) and kept its checkpoint (--checkpoint, as _<t>_ghk): checks the terms, each
 * refused by name with nothing changed, then (with --execute) takes the checkpoint back as
 * the changelog. The revert itself is a revert window's (workflows/revert.ts): its applier
 * finds the cut-over in the binlog after the checkpoint, brings the old table up to date
 * from there, and the revert cuts over. A revert that failed left the changelog as _<t>_ghc:
 * the same command takes it up again.
 */
export async function prepareRevert(credentials: CredentialResolver, input: MigrationInput): Promise<RevertStart> {
  const { database: db, table } = input;
  const oldTable = must(input.revert, 'the revert request').oldTable;
  return withConnection(
    input.server,
    credentials,
    async (conn) => {
      await checkServer(conn, input);
      const base = tableNameBase(input);
      const [kept, changelog, ghost] = [checkpointTableName(base), changelogTableName(base), ghostTableName(base)];
      const present = new Set(
        (await rows(conn, sql.tablesNamed(db, [table, oldTable, kept, changelog, ghost]))).map((r) =>
          String(r.TABLE_NAME),
        ),
      );
      if (!present.has(table)) await refuseMissingTable(conn, db, table);
      if (!present.has(oldTable))
        refuse(`cannot revert: --old-table ${db}.${oldTable} does not exist (dropped by --ok-to-drop-table?)`);
      if (present.has(kept) && present.has(changelog)) {
        refuse(
          `cannot revert: ${db}.${changelog} exists beside ${kept}: another migration of ${table} is under way or was left behind`,
        );
      }
      const from = present.has(kept) ? kept : present.has(changelog) ? changelog : undefined;
      if (!from) {
        refuse(
          `cannot revert: there is no ${db}.${kept}: the migration ran without --checkpoint (or its checkpoint was dropped), ` +
            `so where its cut-over is in the binlog is not known`,
        );
      }
      const names = { database: db, changelogTable: from };
      const record = await readJson(conn, names, HINT.migration, isMigrationRecord);
      const binlog = await readJson(conn, names, HINT.binlog, isBinlogCheckpoint);
      if (!record || !binlog) refuse(`cannot revert: ${db}.${from} holds no checkpoint of a finished migration`);
      if (record.database !== db || record.table !== table)
        refuse(`cannot revert: the checkpoint in ${db}.${from} is of ${record.database}.${record.table}`);
      if (from === changelog && binlog.window === undefined) {
        refuse(
          `cannot revert: ${db}.${changelog} is the changelog of a migration of ${table} that has not cut over; finish it, or abort it first`,
        );
      }
      if (input.alter.trim() && normalizeAlter(input.alter) !== normalizeAlter(record.alter)) {
        refuse(
          `cannot revert: the checkpoint is of the migration "${record.alter}", this command has "${normalizeAlter(input.alter)}" (or leave --alter out)`,
        );
      }
      // The checkpoint table is a table anyone with rights on the schema can write: its plan is
      // checked against the two tables (the original put aside, the migrated one in place).
      const alter = alterOf({ ...input, alter: record.alter });
      const checked = await checkedStoredPlan(conn, { ...input, alter }, record.plan, {
        original: oldTable,
        migrated: table,
      });
      const window = binlog.window ?? 1;
      if (window % 2 === 0)
        refuse(
          `cannot revert: the migration was reverted in its revert window already: ${table} has its original structure`,
        );
      const putAside = windowPlan(record.plan, window).ghostTable;
      if (putAside !== oldTable)
        refuse(
          `cannot revert: the migration put the original table aside as ${putAside}, not ${oldTable} (--old-table)`,
        );
      if (present.has(ghost)) {
        refuse(
          `cannot revert: ${db}.${ghost} exists, and the revert's cut-over puts the migrated table aside under that name: drop or rename it first`,
        );
      }
      const missing = await binlogMissing(conn, binlog);
      if (missing) {
        refuse(
          `cannot revert: the binlog from the migration's cut-over (${describePosition(binlog)}) is no longer on the server (${missing}); ` +
            `${oldTable} can no longer be brought up to date`,
        );
      }
      if (input.execute && from === kept) await exec(conn, sql.renameTable(db, kept, changelog));
      return { plan: { ...checked, ...placement(await resolveServers(conn, input), input) }, window };
    },
    { firstContact: true },
  );
}
