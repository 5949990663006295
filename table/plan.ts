// The copy's plan once the ghost exists: which columns both tables share (renames followed)
// and which unique key they share, the one rows are copied and found by.
import type { ColumnMapping, MigrationInput, SharedKey } from '../model/types';
import { writtenColumns } from '../model/types';
import { columnRenames, normalizeAlter, recreatedColumns, splitClauses } from '../table/alter-clauses';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { must } from '../model/must';
import { refuse } from '../checks/refuse';

interface ColumnRow {
  COLUMN_NAME: string;
  DATA_TYPE: string;
  IS_NULLABLE: string;
  EXTRA: string;
  GENERATION_EXPRESSION: string | null;
}

/**
 * A generated column: it has an expression (MySQL says '' for none, MariaDB NULL), or EXTRA
 * says VIRTUAL / STORED / PERSISTENT. Not MySQL's DEFAULT_GENERATED, which only means an
 * expression default (DEFAULT CURRENT_TIMESTAMP): such a column holds data and is copied.
 */
export const isGenerated = (c: Pick<ColumnRow, 'EXTRA' | 'GENERATION_EXPRESSION'>) =>
  /\b(VIRTUAL|STORED|PERSISTENT)\b/i.test(c.EXTRA ?? '') || !!c.GENERATION_EXPRESSION;
const isStoredGenerated = (c: Pick<ColumnRow, 'EXTRA' | 'GENERATION_EXPRESSION'>) =>
  isGenerated(c) && /\b(STORED|PERSISTENT)\b/i.test(c.EXTRA ?? '');
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const UNSUITABLE_KEY_TYPES = new Set(['float', 'double', 'real', 'json']);
const ORDINAL_TYPES = new Set(['enum', 'set']);

/** Which columns to copy and by which key, once both tables exist. */
export async function planColumnsAndKey(
  conn: Conn,
  input: MigrationInput,
  ghost: string,
): Promise<{ columns: ColumnMapping[]; key: SharedKey; copyKey?: SharedKey }> {
  const { database: db, table } = input;
  const clauses = splitClauses(normalizeAlter(input.alter));
  const renames = columnRenames(clauses);
  const recreated = recreatedColumns(clauses);
  const srcCols = await rows<ColumnRow>(conn, sql.columnsOf(db, table));
  const ghostCols = await rows<ColumnRow>(conn, sql.columnsOf(db, ghost));
  const ghostByLower = new Map(ghostCols.map((c) => [c.COLUMN_NAME.toLowerCase(), c]));

  const columns: ColumnMapping[] = [];
  for (const c of srcCols) {
    const target = ghostByLower.get((renames.get(c.COLUMN_NAME) ?? c.COLUMN_NAME).toLowerCase());
    if (!target || recreated.has(c.COLUMN_NAME.toLowerCase())) continue;
    if (isGenerated(target)) {
      // The ghost computes it. Stored in both tables, its logged value can still find rows.
      if (isStoredGenerated(c) && isStoredGenerated(target))
        columns.push({ source: c.COLUMN_NAME, ghost: target.COLUMN_NAME, generated: true });
      continue;
    }
    columns.push({ source: c.COLUMN_NAME, ghost: target.COLUMN_NAME });
  }
  if (writtenColumns(columns).length === 0) refuse('the original and the altered table share no columns');

  const srcKeys = groupKeys(await rows(conn, sql.uniqueKeysOf(db, table)));
  const ghostKeys = groupKeys(await rows(conn, sql.uniqueKeysOf(db, ghost)));
  if (srcKeys.length === 0)
    refuse(
      `no PRIMARY nor UNIQUE key found in table ${db}.${table}: revenant needs one to copy rows and apply changes by`,
    );
  if (ghostKeys.length === 0)
    refuse(
      `no PRIMARY nor UNIQUE key found in table ${db}.${table} after the ALTER: revenant needs one to apply changes by`,
    );
  const srcByName = new Map(srcCols.map((c) => [c.COLUMN_NAME.toLowerCase(), c]));
  const ghostByName = new Map(ghostCols.map((c) => [c.COLUMN_NAME.toLowerCase(), c]));
  const toGhost = new Map(columns.map((c) => [c.source.toLowerCase(), c.ghost]));
  /** The ghost's definition of the original's column `source` (a key column is always shared). */
  const ghostColumn = (source: string) => {
    const name = must(toGhost.get(source.toLowerCase()), `the ghost's name of column ${source}`);
    return must(ghostByName.get(name.toLowerCase()), `the ghost's column ${name}`);
  };
  const toSource = new Map(columns.map((c) => [c.ghost.toLowerCase(), c.source]));

  const reasons: string[] = [];
  /** Why a key (source column names) cannot identify rows, if it cannot. */
  const unsuitable = (name: string, cols: string[]): string | undefined => {
    for (const col of cols) {
      const d = must(srcByName.get(col.toLowerCase()), `column ${col} of the original`);
      const g = ghostColumn(col);
      if (d.IS_NULLABLE === 'YES' && !input.allowNullableUniqueKey)
        return `${name}: nullable column ${d.COLUMN_NAME} (--allow-nullable-unique-key accepts it if it holds no NULLs)`;
      if (UNSUITABLE_KEY_TYPES.has(d.DATA_TYPE.toLowerCase())) return `${name}: ${d.DATA_TYPE} column ${d.COLUMN_NAME}`;
      if (isGenerated(d) && !isStoredGenerated(d)) return `${name}: virtual generated column ${d.COLUMN_NAME}`;
      if (g.COLUMN_NAME !== d.COLUMN_NAME && g.COLUMN_NAME.toLowerCase() === d.COLUMN_NAME.toLowerCase()) {
        return `${name}: key column ${d.COLUMN_NAME} becomes ${g.COLUMN_NAME} (a change of letter case)`;
      }
    }
    return undefined;
  };
  const sharedKey = (name: string, cols: string[]): SharedKey => {
    const defs = cols.map((c) => must(srcByName.get(c.toLowerCase()), `column ${c} of the original`));
    const converted = defs.find(
      (d) =>
        d.DATA_TYPE.toLowerCase() === 'datetime' && ghostColumn(d.COLUMN_NAME).DATA_TYPE.toLowerCase() === 'timestamp',
    );
    if (converted) {
      refuse(
        `no support at this time for converting a column from DATETIME to TIMESTAMP that is also part of the chosen unique key (${converted.COLUMN_NAME} in ${name}): ` +
          'its values would be reinterpreted in the session time zone',
      );
    }
    const ordinal = defs.map((d) => ORDINAL_TYPES.has(d.DATA_TYPE.toLowerCase()));
    return {
      name,
      columns: defs.map((d) => d.COLUMN_NAME),
      integer: defs.map((d, i) => INTEGER_TYPES.has(d.DATA_TYPE.toLowerCase()) || ordinal[i]),
      ...(ordinal.some(Boolean) ? { ordinal } : {}),
    };
  };

  // A unique key of the original the ALTER keeps: the copy walks it, the applier finds rows by it.
  for (const k of srcKeys) {
    const mapped = k.columns.map((c) => toGhost.get(c.toLowerCase())?.toLowerCase());
    const shared = ghostKeys.find(
      (g) =>
        !k.prefix &&
        !g.prefix &&
        g.columns.length === mapped.length &&
        g.columns.every((c, i) => c.toLowerCase() === mapped[i]),
    );
    if (!shared) continue;
    const why = unsuitable(k.name, k.columns);
    if (why) {
      reasons.push(why);
      continue;
    }
    return { columns, key: sharedKey(k.name, k.columns) };
  }
  // A unique key of the ghost that extends one of the original's (PRIMARY KEY (id) becoming
  // (id, i)): unique in both tables. The applier finds rows by it, the copy walks the original's.
  for (const g of ghostKeys) {
    if (g.prefix) continue;
    const found = g.columns.map((c) => toSource.get(c.toLowerCase()));
    const cols = found.filter((c): c is string => c !== undefined);
    if (cols.length < found.length) continue;
    const base = srcKeys.find(
      (k) =>
        !k.prefix &&
        k.columns.length < cols.length &&
        k.columns.every((c, i) => c.toLowerCase() === cols[i].toLowerCase()),
    );
    if (!base) continue;
    const why = unsuitable(g.name, cols) ?? unsuitable(base.name, base.columns);
    if (why) {
      reasons.push(why);
      continue;
    }
    return { columns, key: sharedKey(g.name, cols), copyKey: sharedKey(base.name, base.columns) };
  }
  const why = reasons.length ? ` (unsuitable shared keys: ${reasons.join('; ')})` : '';
  refuse(
    `no shared unique key can be found after ALTER: no unique key of ${db}.${table} is kept by the ALTER with all columns NOT NULL and no FLOAT/DOUBLE/JSON${why}`,
  );
}

function groupKeys(rs: Record<string, unknown>[]): { name: string; columns: string[]; prefix: boolean }[] {
  const byName = new Map<string, { name: string; columns: string[]; prefix: boolean }>();
  for (const r of rs) {
    const name = String(r.INDEX_NAME);
    const k = byName.get(name) ?? { name, columns: [] as string[], prefix: false };
    k.columns.push(String(r.COLUMN_NAME));
    if (r.SUB_PART != null) k.prefix = true;
    byName.set(name, k);
  }
  return [...byName.values()];
}
