// Inspection: everything that must hold before anything is created, each refusal a clear,
// specific, non-retryable error. Also plans the copy once the ghost exists: which columns
// both tables share and which unique key they share.
import { ApplicationFailure } from '@temporalio/common';
import type { ColumnMapping, MigrationInput, SharedKey } from '../workflows/types';
import { changelogTableName, ghostTableName, oldTableName } from '../workflows/types';
import { columnRenames, normalizeAlter, renamesTable, splitClauses } from './alter';
import { rows, type Conn } from './mysql';
import * as sql from './sql';

export function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'MigrationRefused');
}

export interface ServerFacts {
  version: string;
  serverUuid: string;
  gtidBinlogPos: string;
}

export async function checkServer(conn: Conn): Promise<ServerFacts> {
  const [v] = await rows(conn, sql.serverVariables());
  if (Number(v.log_bin) !== 1) {
    refuse('binary logging is off (log_bin=OFF) on the server: revenant reads row changes from the binlog; start it with --log-bin --binlog-format=ROW --binlog-row-image=FULL');
  }
  if (String(v.binlog_format).toUpperCase() !== 'ROW') {
    refuse(`binlog_format is ${v.binlog_format}, but revenant needs ROW: SET GLOBAL binlog_format='ROW' (and restart replication threads), or start the server with --binlog-format=ROW`);
  }
  if (String(v.binlog_row_image).toUpperCase() !== 'FULL') {
    refuse(`binlog_row_image is ${v.binlog_row_image}, but revenant needs FULL: its binlog events must carry whole rows (SET GLOBAL binlog_row_image='FULL')`);
  }
  await checkGrants(conn);
  return { version: String(v.version), serverUuid: `${v.hostname}:${v.port}:${v.server_id}`, gtidBinlogPos: String(v.gtid_binlog_pos ?? '') };
}

const TABLE_PRIVILEGES = ['ALTER', 'CREATE', 'DELETE', 'DROP', 'INDEX', 'INSERT', 'LOCK TABLES', 'SELECT', 'UPDATE'];

async function checkGrants(conn: Conn): Promise<void> {
  const grants = (await rows(conn, sql.showGrants())).map((r) => String(Object.values(r)[0]));
  const global = new Set<string>();
  const anyDb = new Set<string>();
  for (const g of grants) {
    const m = /^GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s/i.exec(g);
    if (!m) continue;
    const privs = m[1].split(',').map((p) => p.trim().toUpperCase());
    const target = privs.includes('ALL PRIVILEGES') ? ['ALL'] : privs;
    if (m[2] === '*.*') target.forEach((p) => global.add(p));
    else target.forEach((p) => anyDb.add(p));
  }
  if (global.has('ALL')) return;
  const missing: string[] = [];
  if (!global.has('REPLICATION SLAVE') && !global.has('SUPER')) missing.push('REPLICATION SLAVE');
  if (!global.has('REPLICATION CLIENT') && !global.has('BINLOG MONITOR') && !global.has('SUPER')) missing.push('REPLICATION CLIENT (BINLOG MONITOR)');
  for (const p of TABLE_PRIVILEGES) if (!global.has(p) && !anyDb.has(p) && !anyDb.has('ALL')) missing.push(p);
  if (missing.length) refuse(`the MySQL user lacks privileges revenant needs: ${missing.join(', ')}`);
}

/** Checks on the original table and the ALTER; nothing is created. */
export async function checkTableAndAlter(conn: Conn, input: MigrationInput, opts: { resurrect?: boolean } = {}): Promise<{ estimatedRows: number }> {
  const { database: db, table } = input;
  const t = await rows(conn, sql.tableInfo(db, table));
  if (t.length === 0) refuse(`table ${db}.${table} does not exist`);
  if (t[0].TABLE_TYPE !== 'BASE TABLE') refuse(`${db}.${table} is a ${t[0].TABLE_TYPE}, not a table`);

  const alter = normalizeAlter(input.alter);
  if (!alter) refuse('the ALTER is empty: pass the change with --alter, e.g. --alter "ADD COLUMN c INT NOT NULL DEFAULT 0"');
  const clauses = splitClauses(alter);
  if (renamesTable(clauses)) {
    refuse('the ALTER renames the table (RENAME TO): that is not an online migration; run the RENAME TABLE yourself, outside revenant');
  }
  const renames = columnRenames(clauses);
  if (renames.size > 0 && !input.approveRenamedColumns) {
    const list = [...renames].map(([a, b]) => `${a} -> ${b}`).join(', ');
    refuse(`the ALTER renames columns (${list}); revenant will copy their data under the new names. Confirm this is right with --approve-renamed-columns`);
  }

  const fks = await rows(conn, sql.foreignKeysTouching(db, table));
  if (fks.length) {
    const fk = fks[0];
    const dir = fk.TABLE_NAME === table ? `${table} references ${fk.REFERENCED_TABLE_NAME}` : `${fk.TABLE_NAME} references ${table}`;
    refuse(`${db}.${table} has foreign keys (${fk.CONSTRAINT_NAME}: ${dir}); revenant does not migrate tables with foreign keys`);
  }
  const triggers = await rows(conn, sql.triggersOn(db, table));
  if (triggers.length) {
    refuse(`${db}.${table} has triggers (${triggers.map((r) => r.TRIGGER_NAME).join(', ')}); revenant does not migrate tables with triggers`);
  }

  if (!opts.resurrect) {
    const names = [ghostTableName(table), changelogTableName(table), oldTableName(table)];
    const present = new Set((await rows(conn, sql.tablesNamed(db, names))).map((r) => r.TABLE_NAME as string));
    if (present.has(changelogTableName(table)) && !input.initiallyDropGhostTable) {
      refuse(`changelog table ${db}.${changelogTableName(table)} exists: another migration of ${table} is running or was left behind (resume it with --resurrect, or drop it, or pass --initially-drop-ghost-table)`);
    }
    if (present.has(ghostTableName(table)) && !input.initiallyDropGhostTable) {
      refuse(`ghost table ${db}.${ghostTableName(table)} exists: another migration of ${table} is running or was left behind (drop it, or pass --initially-drop-ghost-table)`);
    }
    if (present.has(oldTableName(table)) && !input.initiallyDropOldTable) {
      refuse(`table ${db}.${oldTableName(table)} exists (left by an earlier migration): drop it, or pass --initially-drop-old-table`);
    }
  }

  let estimatedRows = Number(t[0].TABLE_ROWS ?? 0);
  if (input.exactRowcount) estimatedRows = Number((await rows(conn, sql.exactRowCount(db, table)))[0].n);
  return { estimatedRows };
}

interface ColumnRow {
  COLUMN_NAME: string;
  DATA_TYPE: string;
  IS_NULLABLE: string;
  EXTRA: string;
  GENERATION_EXPRESSION: string | null;
}

const isGenerated = (c: ColumnRow) => /GENERATED|VIRTUAL|PERSISTENT|STORED/i.test(c.EXTRA ?? '') || !!c.GENERATION_EXPRESSION;
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const UNSUITABLE_KEY_TYPES = new Set(['float', 'double', 'real', 'json']);

/** Which columns to copy and by which key, once both tables exist. */
export async function planColumnsAndKey(conn: Conn, input: MigrationInput, ghost: string): Promise<{ columns: ColumnMapping[]; key: SharedKey }> {
  const { database: db, table } = input;
  const renames = columnRenames(splitClauses(normalizeAlter(input.alter)));
  const srcCols = await rows<ColumnRow>(conn, sql.columnsOf(db, table));
  const ghostCols = await rows<ColumnRow>(conn, sql.columnsOf(db, ghost));
  const ghostByLower = new Map(ghostCols.map((c) => [c.COLUMN_NAME.toLowerCase(), c]));

  const columns: ColumnMapping[] = [];
  for (const c of srcCols) {
    const target = ghostByLower.get((renames.get(c.COLUMN_NAME) ?? c.COLUMN_NAME).toLowerCase());
    if (!target || isGenerated(target)) continue;
    columns.push({ source: c.COLUMN_NAME, ghost: target.COLUMN_NAME });
  }
  if (columns.length === 0) refuse('the original and the altered table share no columns');

  const srcKeys = groupKeys(await rows(conn, sql.uniqueKeysOf(db, table)));
  const ghostKeys = groupKeys(await rows(conn, sql.uniqueKeysOf(db, ghost)));
  const srcByName = new Map(srcCols.map((c) => [c.COLUMN_NAME.toLowerCase(), c]));
  const toGhost = new Map(columns.map((c) => [c.source.toLowerCase(), c.ghost.toLowerCase()]));

  const reasons: string[] = [];
  for (const k of srcKeys) {
    const mapped = k.columns.map((c) => toGhost.get(c.toLowerCase()));
    const shared = ghostKeys.find((g) => !k.prefix && !g.prefix && g.columns.length === mapped.length &&
      g.columns.every((c, i) => c.toLowerCase() === mapped[i]));
    if (!shared) continue;
    const defs = k.columns.map((c) => srcByName.get(c.toLowerCase())!);
    const nullable = defs.filter((d) => d.IS_NULLABLE === 'YES');
    if (nullable.length) { reasons.push(`${k.name}: nullable column ${nullable[0].COLUMN_NAME}`); continue; }
    const bad = defs.find((d) => UNSUITABLE_KEY_TYPES.has(d.DATA_TYPE.toLowerCase()));
    if (bad) { reasons.push(`${k.name}: ${bad.DATA_TYPE} column ${bad.COLUMN_NAME}`); continue; }
    const generated = defs.find(isGenerated);
    if (generated) { reasons.push(`${k.name}: generated column ${generated.COLUMN_NAME}`); continue; }
    return {
      columns,
      key: { name: k.name, columns: defs.map((d) => d.COLUMN_NAME), integer: defs.map((d) => INTEGER_TYPES.has(d.DATA_TYPE.toLowerCase())) },
    };
  }
  const why = reasons.length ? ` (unsuitable shared keys: ${reasons.join('; ')})` : '';
  if (srcKeys.length === 0) refuse(`${db}.${table} has no PRIMARY or UNIQUE key: revenant needs one to copy rows and apply changes by`);
  refuse(`no unique key is shared by ${db}.${table} and the altered table with all columns NOT NULL and no FLOAT/DOUBLE/JSON${why}; the ALTER must keep one such key`);
}

function groupKeys(rs: Record<string, any>[]): { name: string; columns: string[]; prefix: boolean }[] {
  const byName = new Map<string, { name: string; columns: string[]; prefix: boolean }>();
  for (const r of rs) {
    const k = byName.get(r.INDEX_NAME) ?? { name: String(r.INDEX_NAME), columns: [] as string[], prefix: false };
    k.columns.push(r.COLUMN_NAME);
    if (r.SUB_PART != null) k.prefix = true;
    byName.set(r.INDEX_NAME, k);
  }
  return [...byName.values()];
}
