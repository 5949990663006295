// Reading the operator's ALTER: split into clauses, and find what changes the meaning of
// columns (renames) or of the table itself (RENAME TO). The server parses the ALTER for
// real when it is applied to the ghost; this only needs to be right about what we act on.
import { parseAlter } from './alter-text';

/**
 * The specification list alone: the `ALTER TABLE name` prefix, comments and trailing
 * semicolons removed (see alter-text.ts, which refuses anything else riding along).
 */
export function normalizeAlter(alter: string): string {
  return parseAlter(alter).text;
}

/** Splits on top-level commas, respecting quotes and parentheses. */
export function splitClauses(alter: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (let i = 0; i < alter.length; i++) {
    const ch = alter[i];
    if (quote) {
      cur += ch;
      if (ch === '\\' && quote !== '`' && i + 1 < alter.length) {
        cur += alter[++i];
      } else if (ch === quote) {
        if (alter[i + 1] === quote) cur += alter[++i];
        else quote = null;
      }
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

const IDENT = '(`(?:[^`]|``)+`|[\\w$]+)';

export function unquoteIdent(id: string): string {
  return id.startsWith('`') ? id.slice(1, -1).replace(/``/g, '`') : id;
}

// The table-rename rule lives with the reader that refuses it.
export { renamesTable } from './alter-text';

/** Column renames, source name -> new name; a change of letter case only is not a rename. */
export function columnRenames(clauses: string[]): Map<string, string> {
  const renames = new Map<string, string>();
  const change = new RegExp(`^CHANGE\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${IDENT}\\s+${IDENT}`, 'i');
  const rename = new RegExp(`^RENAME\\s+COLUMN\\s+(?:IF\\s+EXISTS\\s+)?${IDENT}\\s+TO\\s+${IDENT}`, 'i');
  for (const c of clauses) {
    const m = change.exec(c) ?? rename.exec(c);
    if (!m) continue;
    const from = unquoteIdent(m[1]);
    const to = unquoteIdent(m[2]);
    if (from.toLowerCase() !== to.toLowerCase()) renames.set(from, to);
  }
  return renames;
}

/** Columns the ALTER drops. */
export function droppedColumns(clauses: string[]): string[] {
  const drop = new RegExp(`^DROP\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${IDENT}`, 'i');
  const out: string[] = [];
  for (const c of clauses) {
    if (/^DROP\s+(INDEX|KEY|PRIMARY|FOREIGN|CONSTRAINT|CHECK|PARTITION|SYSTEM)\b/i.test(c)) continue;
    const m = drop.exec(c);
    if (m) out.push(unquoteIdent(m[1]));
  }
  return out;
}

/** Columns the ALTER adds (ADD [COLUMN] name …, one or a parenthesised list). */
export function addedColumns(clauses: string[]): string[] {
  const out: string[] = [];
  for (const c of clauses) {
    if (
      /^ADD\s+(INDEX|KEY|UNIQUE|PRIMARY|FOREIGN|CONSTRAINT|CHECK|FULLTEXT|SPATIAL|PARTITION|PERIOD|SYSTEM)\b/i.test(c)
    )
      continue;
    const list = /^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?\(([\s\S]*)\)\s*$/i.exec(c);
    const defs = list ? splitClauses(list[1]) : [c.replace(/^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?/i, '')];
    if (!/^ADD\b/i.test(c)) continue;
    for (const d of defs) {
      const m = new RegExp(`^${IDENT}`).exec(d.trim());
      if (m) out.push(unquoteIdent(m[1]));
    }
  }
  return out;
}

/**
 * Columns the ALTER drops and adds again under the same name: as gh-ost, a new column, not a
 * shared one. Its values are the new definition's (its default), not the old column's: the
 * old values may not even fit it (`DROP c1, ADD c1 INT NOT NULL DEFAULT 47` over NULLs).
 */
export function recreatedColumns(clauses: string[]): Set<string> {
  const dropped = new Set(droppedColumns(clauses).map((c) => c.toLowerCase()));
  return new Set(
    addedColumns(clauses)
      .map((c) => c.toLowerCase())
      .filter((c) => dropped.has(c)),
  );
}
