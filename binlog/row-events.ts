// Row events on the original table become DML on the ghost, from the events' own row
// images (never by re-reading the original, whose row may already have moved on):
//   insert -> REPLACE the after image
//   update -> REPLACE the after image; a key change first DELETEs the before image's key
//   delete -> DELETE … WHERE key = before image
// Why REPLACE and not UPDATE / INSERT IGNORE: events are replayed onto a ghost that may hold
// rows the copy read *later* than the event. Replaying an old image can then collide with
// such a newer row on a secondary unique key (seen under load: row A takes a unique value,
// moves to a new primary key, the copy brings the moved row, then A's old update replays).
// REPLACE removes the newer row for a moment; the later event that gave it that value is
// still to be replayed and puts it back, so the ghost converges to the original. UPDATE
// would fail there for good, and INSERT IGNORE would keep the stale row.
import type { ColumnMapping, SharedKey } from '../model/types';
import * as sql from '../mysql/statements';
import { must } from '../model/must';

/** The ghost's name of the original's column `source` (every key column is copied). */
export function ghostColumnOf(columns: ColumnMapping[], source: string): string {
  return must(
    columns.find((c) => c.source === source),
    `the plan's column for key column ${source}`,
  ).ghost;
}

export interface ApplyTarget {
  database: string;
  ghostTable: string;
  columns: ColumnMapping[];
  key: SharedKey;
  /**
   * A revert window's target (workflows/revert.ts): a table that holds exactly the source's
   * state at some point of its history, never rows read ahead of the events. Changes apply
   * one by one in order, an update as an UPDATE of the columns both tables have, so the
   * target's other columns keep their values (REPLACE would reset them to their defaults).
   */
  inOrder?: boolean;
}

export type Row = Record<string, unknown>;
export type RowChange =
  | { kind: 'insert'; rows: Row[] }
  | { kind: 'update'; rows: { before: Row; after: Row }[] }
  | { kind: 'delete'; rows: Row[] };

function valuesEqual(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b || (a != null && b != null && String(a) === String(b));
}

/** Rows in a binlog image may lack columns only if the image is not FULL: refuse to guess. */
function pick(row: Row, names: string[]): unknown[] {
  return names.map((n) => {
    if (!(n in row)) throw new Error(`binlog row image has no column ${n}: is binlog_row_image FULL?`);
    const v = row[n];
    return v === undefined ? null : v;
  });
}

/** A change to the ghost, before it becomes SQL: consecutive ones of a kind merge into one statement. */
export type GhostDml =
  | { kind: 'replace'; rows: unknown[][] }
  | { kind: 'delete'; keys: unknown[][] }
  | { kind: 'update'; key: unknown[]; row: unknown[] };

/** Rows per merged statement, to keep statements a sane size. */
const MAX_ROWS_PER_STATEMENT = 500;

export function changeToDml(change: RowChange, t: ApplyTarget): GhostDml[] {
  const srcCols = t.columns.map((c) => c.source);
  const keySrc = t.key.columns;
  switch (change.kind) {
    case 'insert':
      return change.rows.length ? [{ kind: 'replace', rows: change.rows.map((r) => pick(r, srcCols)) }] : [];
    case 'delete':
      return change.rows.length ? [{ kind: 'delete', keys: change.rows.map((r) => pick(r, keySrc)) }] : [];
    case 'update': {
      const out: GhostDml[] = [];
      for (const { before, after } of change.rows) {
        const oldKey = pick(before, keySrc);
        if (t.inOrder) {
          out.push({ kind: 'update', key: oldKey, row: pick(after, srcCols) });
          continue;
        }
        const newKey = pick(after, keySrc);
        if (!oldKey.every((v, i) => valuesEqual(v, newKey[i]))) appendDml(out, [{ kind: 'delete', keys: [oldKey] }]);
        appendDml(out, [{ kind: 'replace', rows: [pick(after, srcCols)] }]);
      }
      return out;
    }
  }
}

/**
 * Appends in order, merging into the last entry when it is of the same kind: a run of
 * REPLACEs becomes one multi-row REPLACE (rows apply in order, so the last image of a key
 * wins, as it would one by one), a run of DELETEs one DELETE … IN (…).
 */
export function appendDml(list: GhostDml[], items: GhostDml[]): void {
  for (const item of items) {
    const last = list[list.length - 1];
    if (
      last &&
      last.kind === 'replace' &&
      item.kind === 'replace' &&
      last.rows.length + item.rows.length <= MAX_ROWS_PER_STATEMENT
    ) {
      last.rows.push(...item.rows);
    } else if (
      last &&
      last.kind === 'delete' &&
      item.kind === 'delete' &&
      last.keys.length + item.keys.length <= MAX_ROWS_PER_STATEMENT
    ) {
      last.keys.push(...item.keys);
    } else {
      list.push(
        item.kind === 'replace'
          ? { kind: 'replace', rows: [...item.rows] }
          : item.kind === 'delete'
            ? { kind: 'delete', keys: [...item.keys] }
            : item,
      );
    }
  }
}

/**
 * A batch reduced to each key's last change: a hot row updated a hundred times in a batch is
 * written once. Only where keys compare in JavaScript as on the server (integer key columns;
 * strings may be equal under a collation, 'a' = 'A', and differ here). The rows of a batch
 * are a prefix of the original's history, so the last images of its keys existed together
 * there and collide on no unique key of the original: applied in any order they leave the
 * ghost as the original was. Deletes go first, then replaces, each merged into few statements.
 */
export function lastChangePerKey(list: GhostDml[], t: ApplyTarget): GhostDml[] {
  if (!t.key.integer.every(Boolean) || t.inOrder) return list;
  const keyIndex = t.key.columns.map((k) => t.columns.findIndex((c) => c.source === k));
  const id = (values: unknown[]) => values.map(String).join('\u0000');
  const last = new Map<string, GhostDml>();
  for (const d of list) {
    if (d.kind === 'delete') for (const k of d.keys) last.set(id(k), { kind: 'delete', keys: [k] });
    else if (d.kind === 'replace')
      for (const r of d.rows) last.set(id(keyIndex.map((i) => r[i])), { kind: 'replace', rows: [r] });
    else return list;
  }
  const out: GhostDml[] = [];
  const changes = [...last.values()];
  appendDml(
    out,
    changes.filter((d) => d.kind === 'delete'),
  );
  appendDml(
    out,
    changes.filter((d) => d.kind === 'replace'),
  );
  return out;
}

/** The positions of the columns a statement writes: every one but the ghost's generated ones. */
const writtenIndexes = (t: ApplyTarget) => t.columns.map((c, i) => (c.generated ? -1 : i)).filter((i) => i >= 0);

/** REPLACE of row images (values in t.columns' order) into the ghost, generated columns left to the server. */
export function replaceStatement(
  t: ApplyTarget,
  rows: unknown[][],
  verb: 'REPLACE' | 'INSERT IGNORE' = 'REPLACE',
): sql.Statement {
  const written = writtenIndexes(t);
  const cols = written.map((i) => t.columns[i].ghost);
  const values = written.length === t.columns.length ? rows : rows.map((r) => written.map((i) => r[i]));
  return verb === 'REPLACE'
    ? sql.replaceRows(t.database, t.ghostTable, cols, values)
    : sql.insertIgnoreRows(t.database, t.ghostTable, cols, values);
}

/** UPDATE of one row, found by its key before the change, to its after image (generated columns left to the server). */
function updateStatement(t: ApplyTarget, keyGhost: string[], key: unknown[], row: unknown[]): sql.Statement {
  const written = writtenIndexes(t);
  return sql.updateRow(
    t.database,
    t.ghostTable,
    written.map((i) => t.columns[i].ghost),
    written.map((i) => row[i]),
    keyGhost,
    key,
  );
}

/** Updates per grouped UPDATE statement (see groupedUpdates). */
const MAX_UPDATES_PER_STATEMENT = 200;

/**
 * `grouped`: a run of consecutive updates that keep their row's key, on distinct integer keys,
 * becomes one UPDATE (a revert window's applier sends one statement a round trip, and a row a
 * statement was too slow for a busy table). Their order within the run does not matter but
 * for a secondary unique key that two rows trade: the statement then fails with a duplicate
 * key, and the caller applies the batch again ungrouped.
 */
export function dmlToStatements(list: GhostDml[], t: ApplyTarget, grouped = false): sql.Statement[] {
  const keyGhost = t.key.columns.map((k) => ghostColumnOf(t.columns, k));
  const out: sql.Statement[] = [];
  const keyIndex = t.key.columns.map((k) => t.columns.findIndex((c) => c.source === k));
  const canGroup = grouped && t.key.integer.every(Boolean);
  let run: { key: unknown[]; row: unknown[] }[] = [];
  const seen = new Set<string>();
  const flushRun = () => {
    if (run.length === 1) out.push(updateStatement(t, keyGhost, run[0].key, run[0].row));
    else if (run.length > 1) out.push(groupedUpdate(t, keyGhost, run));
    run = [];
    seen.clear();
  };
  for (const d of list) {
    if (d.kind === 'update' && canGroup) {
      const id = d.key.map(String).join('\u0000');
      const keeps = keyIndex.every((k, i) => String(d.row[k]) === String(d.key[i]));
      if (keeps && !seen.has(id) && run.length < MAX_UPDATES_PER_STATEMENT) {
        run.push(d);
        seen.add(id);
        continue;
      }
      flushRun();
      if (keeps) {
        run.push(d);
        seen.add(id);
        continue;
      }
    }
    flushRun();
    if (d.kind === 'replace') out.push(replaceStatement(t, d.rows));
    else if (d.kind === 'delete') out.push(sql.deleteRows(t.database, t.ghostTable, keyGhost, d.keys));
    else out.push(updateStatement(t, keyGhost, d.key, d.row));
  }
  flushRun();
  return out;
}

function groupedUpdate(t: ApplyTarget, keyGhost: string[], run: { key: unknown[]; row: unknown[] }[]): sql.Statement {
  const written = writtenIndexes(t);
  return sql.updateRowsByKey(
    t.database,
    t.ghostTable,
    written.map((i) => t.columns[i].ghost),
    keyGhost,
    run.map((u) => ({ key: u.key, values: written.map((i) => u.row[i]) })),
  );
}

/**
 * --panic-on-warnings: each row change is a unit of its own, an upsert applied as DELETE by
 * the shared key then INSERT IGNORE, so that a collision on another unique key shows as a
 * warning instead of REPLACE deleting the other row without a word. (A collision that a
 * later event would have resolved, see above, stops the migration too: that is the price
 * of the flag, as in gh-ost.)
 */
export function dmlToCheckedUnits(
  list: GhostDml[],
  t: ApplyTarget,
): { statements: sql.Statement[]; upsert: boolean }[] {
  const keyGhost = t.key.columns.map((k) => ghostColumnOf(t.columns, k));
  const keyIndex = t.key.columns.map((k) => t.columns.findIndex((c) => c.source === k));
  const units: { statements: sql.Statement[]; upsert: boolean }[] = [];
  for (const d of list) {
    if (d.kind === 'delete') {
      for (const k of d.keys)
        units.push({ statements: [sql.deleteRows(t.database, t.ghostTable, keyGhost, [k])], upsert: false });
    } else if (d.kind === 'update') {
      units.push({ statements: [updateStatement(t, keyGhost, d.key, d.row)], upsert: false });
    } else {
      for (const r of d.rows) {
        units.push({
          upsert: true,
          statements: [
            sql.deleteRows(t.database, t.ghostTable, keyGhost, [keyIndex.map((i) => r[i])]),
            replaceStatement(t, [r], 'INSERT IGNORE'),
          ],
        });
      }
    }
  }
  return units;
}

export function changeToStatements(change: RowChange, t: ApplyTarget): sql.Statement[] {
  return dmlToStatements(changeToDml(change, t), t);
}
