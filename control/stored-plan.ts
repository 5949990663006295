// What a new run takes back from the changelog (a checkpoint, a plan): nothing there is
// trusted as written, since anyone with write rights on the schema can change that table.
import type { BinlogPosition, MigrationInput, TablePlan } from '../model/types';
import { changelogTableName, ghostTableName, oldTableName, tableNameBase } from '../model/types';
import { planColumnsAndKey } from '../table/plan';
import { refuse } from '../checks/refuse';
import { plainIndexName } from '../table/indexes';
import { canonicalJson } from '../table/canonical-json';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { flavorOf, gtidCheckpointProblem } from '../mysql/flavor';

const badPlan =
  (input: MigrationInput) =>
  (what: string): never =>
    refuse(
      `cannot continue from ${input.database}.${changelogTableName(tableNameBase(input))}: its recorded plan ${what}; drop the ghost and changelog and start anew`,
    );

/** The table names of a plan read back from the changelog: those that follow from the input, or refused. */
export function checkedStoredNames(
  input: MigrationInput,
  stored: unknown,
): Pick<TablePlan, 'database' | 'table' | 'ghostTable' | 'changelogTable' | 'oldTable'> {
  const bad = badPlan(input);
  if (!stored || typeof stored !== 'object') bad('is not a plan');
  const p = stored as Partial<TablePlan>;
  const base = tableNameBase(input);
  if (p.database !== input.database || p.table !== input.table) bad(`is of ${String(p.database)}.${String(p.table)}`);
  if (p.ghostTable !== ghostTableName(base) || p.changelogTable !== changelogTableName(base))
    bad(`names other tables (${String(p.ghostTable)}, ${String(p.changelogTable)})`);
  const oldTable = String(p.oldTable);
  const timestamped = oldTable.startsWith(`_${base}_`) && /^\d{14}_del$/.test(oldTable.slice(base.length + 2));
  if (oldTable !== oldTableName(base) && !timestamped) bad(`names the old table ${oldTable}`);
  return {
    database: input.database,
    table: input.table,
    ghostTable: ghostTableName(base),
    changelogTable: changelogTableName(base),
    oldTable,
  };
}

/**
 * A plan read back from the changelog, which anyone with write rights on the schema can
 * change: only what revenant can work out again is taken, and it must agree. The table
 * names follow from the input; columns and keys are planned again from the two tables; a
 * deferred index must be a plain index definition (its DDL runs on the ghost). Hosts are
 * never taken from it (the caller places the migration anew).
 */
export async function checkedStoredPlan(
  conn: Conn,
  input: MigrationInput,
  stored: unknown,
  tables: { original: string; migrated: string } = {
    original: input.table,
    migrated: ghostTableName(tableNameBase(input)),
  },
): Promise<Omit<TablePlan, 'applier' | 'lagReplicas' | 'topology'>> {
  const names = checkedStoredNames(input, stored);
  const bad = badPlan(input);
  const p = stored as Partial<TablePlan>;
  // Planned again from the two tables as they are: before the cut-over the original and its
  // ghost; after it (a revert) the table put aside and the migrated table.
  const planned = await planColumnsAndKey(conn, { ...input, table: tables.original }, tables.migrated);
  // Compared as data, not as text: the key order of a stored document is the server's (MySQL
  // sorts a JSON document's keys when a JSON function rewrites it).
  const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
  if (!same(p.columns, planned.columns) || !same(p.key, planned.key) || !same(p.copyKey, planned.copyKey)) {
    bad('does not match the ghost table: its columns or keys differ from what they plan to now');
  }
  const deferred = p.deferredIndexes ?? [];
  if (!Array.isArray(deferred)) bad('has a malformed list of deferred indexes');
  for (const i of deferred) {
    if (typeof i?.definition !== 'string' || plainIndexName(i.definition) !== i.name)
      bad(`holds an index definition that is not a plain index: ${JSON.stringify(i?.definition ?? i).slice(0, 200)}`);
  }
  return {
    ...names,
    columns: planned.columns,
    key: planned.key,
    ...(planned.copyKey ? { copyKey: planned.copyKey } : {}),
    ...(deferred.length ? { deferredIndexes: deferred.map((i) => ({ name: i.name, definition: i.definition })) } : {}),
    ...(typeof p.window === 'number' && Number.isInteger(p.window) && p.window >= 0 ? { window: p.window } : {}),
    ...(typeof p.writesPerSecond === 'number' && Number.isFinite(p.writesPerSecond) && p.writesPerSecond >= 0
      ? { writesPerSecond: p.writesPerSecond }
      : {}),
    estimatedRows: Number(p.estimatedRows) || 0,
    serverVersion: String(p.serverVersion ?? ''),
    serverUuid: String(p.serverUuid ?? ''),
  };
}

export function describePosition(p: BinlogPosition): string {
  return `${p.file}:${p.position}${p.gtid ? `, GTID ${p.gtid}` : ''}`;
}

/** Why the binlog after `cp` cannot be read any more, or null when it can. */
export async function binlogMissing(conn: Conn, cp: BinlogPosition): Promise<string | null> {
  const files = (await rows(conn, sql.showBinaryLogs())).map((r) => String(r.Log_name));
  if (files.length === 0) return 'the server has no binary logs';
  if (!cp.gtid) return files.includes(cp.file) ? null : `oldest binlog is ${files[0]}; ${cp.file} was purged`;
  return gtidCheckpointProblem(conn, flavorOf(conn), cp.gtid, files[0]);
}
