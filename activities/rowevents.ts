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
import type { ColumnMapping, SharedKey } from '../workflows/types';
import * as sql from './sql';

export interface ApplyTarget {
  database: string;
  ghostTable: string;
  columns: ColumnMapping[];
  key: SharedKey;
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

export function changeToStatements(change: RowChange, t: ApplyTarget): sql.Statement[] {
  const srcCols = t.columns.map((c) => c.source);
  const ghostCols = t.columns.map((c) => c.ghost);
  const keySrc = t.key.columns;
  const keyGhost = keySrc.map((k) => t.columns.find((c) => c.source === k)!.ghost);
  switch (change.kind) {
    case 'insert':
      return change.rows.length ? [sql.replaceRows(t.database, t.ghostTable, ghostCols, change.rows.map((r) => pick(r, srcCols)))] : [];
    case 'delete':
      return change.rows.map((r) => sql.deleteRow(t.database, t.ghostTable, keyGhost, pick(r, keySrc)));
    case 'update': {
      const out: sql.Statement[] = [];
      for (const { before, after } of change.rows) {
        const oldKey = pick(before, keySrc);
        const newKey = pick(after, keySrc);
        if (!oldKey.every((v, i) => valuesEqual(v, newKey[i]))) out.push(sql.deleteRow(t.database, t.ghostTable, keyGhost, oldKey));
        out.push(sql.replaceRows(t.database, t.ghostTable, ghostCols, [pick(after, srcCols)]));
      }
      return out;
    }
  }
}
