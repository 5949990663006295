// Every SQL statement revenant sends is built here, and every identifier in them goes
// through escapeId. Builders return { sql, params } with `?` placeholders that mysql2
// fills in client-side, one statement a round trip (no connection allows more);
// formatStatement shows a statement as the server receives it.
import { format, type SqlValue } from 'mysql2';
import { must } from '../model/must';

export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * A value that only SQL can make (a MySQL binary JSON document, see mysqljson.ts): written as
 * its expression where a value would be a placeholder. `text` is how it reads in messages.
 */
export class SqlExpression {
  constructor(
    readonly sql: string,
    readonly params: unknown[],
    readonly text: string,
  ) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

/** A value's place in a statement: a placeholder, or an SqlExpression's own SQL. */
const placeholder = (v: unknown) => (v instanceof SqlExpression ? v.sql : '?');
/** The parameters those places take, in order. */
const paramsOf = (values: unknown[]) => {
  const params: unknown[] = [];
  for (const v of values) pushParams(v, params);
  return params;
};

function pushParams(v: unknown, params: unknown[]): void {
  if (v instanceof SqlExpression) for (const p of v.params) params.push(p);
  else params.push(v);
}

/**
 * Appends a row's placeholders, `(?, ?, …)`, to `tuples` and the parameters they take to
 * `params`. A loop, not map, join and flatMap: the applier builds one a row applied, and in a
 * CPU profile under a heavy load the callbacks and arrays between held a tenth of its thread's
 * time (ten times faster in isolation; the worker's CPU in the whole moved by less than its
 * spread, docs/benchmark.md).
 */
function appendTuple(values: unknown[], tuples: string[], params: unknown[]): void {
  let tuple = '(';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) tuple += ', ';
    tuple += placeholder(values[i]);
    pushParams(values[i], params);
  }
  tuples.push(`${tuple})`);
}

/** The one identifier-escaping function: backquotes, with embedded backquotes doubled. */
export function escapeId(name: string): string {
  if (name.length === 0) throw new Error('empty SQL identifier');
  return `\`${name.replace(/`/g, '``')}\``;
}

export function qualified(database: string, table: string): string {
  return `${escapeId(database)}.${escapeId(table)}`;
}

export function formatStatement(s: Statement): string {
  return format(s.sql, s.params as SqlValue[]);
}

const ids = (cols: string[]) => cols.map(escapeId).join(', ');

// ---- Row-order comparisons on a (possibly composite) key -----------------------------
// Expanded into OR-of-AND form, (a > x) OR (a = x AND b > y) …, which both MySQL and
// MariaDB turn into index ranges; row constructors are not range-optimised everywhere.

type Cmp = '>' | '>=' | '<' | '<=';

export function keyComparison(cols: string[], op: Cmp, values: unknown[]): Statement {
  if (cols.length !== values.length) throw new Error('key arity mismatch');
  const strict = op === '>' || op === '<' ? op : op === '>=' ? '>' : '<';
  const terms: string[] = [];
  const params: unknown[] = [];
  for (let i = 0; i < cols.length; i++) {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) {
      parts.push(`${escapeId(cols[j])} = ?`);
      params.push(values[j]);
    }
    const last = i === cols.length - 1;
    parts.push(`${escapeId(cols[i])} ${last ? op : strict} ?`);
    params.push(values[i]);
    terms.push(parts.length > 1 ? `(${parts.join(' AND ')})` : parts[0]);
  }
  return { sql: `(${terms.join(' OR ')})`, params };
}

// ---- Inspection ----------------------------------------------------------------------

export const serverVariables = (): Statement => ({
  sql: `SELECT @@global.log_bin AS log_bin, @@global.binlog_format AS binlog_format,
          @@global.binlog_row_image AS binlog_row_image, @@global.version AS version,
          @@global.server_id AS server_id, @@global.hostname AS hostname,
          @@global.port AS port`,
  params: [],
});

export const showGrants = (): Statement => ({ sql: 'SHOW GRANTS FOR CURRENT_USER()', params: [] });

export const tableInfo = (database: string, table: string): Statement => ({
  sql: `SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, AUTO_INCREMENT FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
  params: [database, table],
});

export const schemaNamed = (database: string): Statement => ({
  sql: 'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
  params: [database],
});

export const tablesNamed = (database: string, names: string[]): Statement => ({
  sql: `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?)`,
  params: [database, names],
});

export const columnsOf = (database: string, table: string): Statement => ({
  sql: `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, EXTRA, GENERATION_EXPRESSION, CHARACTER_SET_NAME, COLLATION_NAME
        FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
  params: [database, table],
});

/** Columns a row must be given a value for: NOT NULL, no default, not AUTO_INCREMENT, not generated. */
export const columnsWithoutDefault = (database: string, table: string): Statement => ({
  sql: `SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND IS_NULLABLE = 'NO'
        AND COLUMN_DEFAULT IS NULL AND EXTRA NOT LIKE '%auto_increment%' AND COALESCE(GENERATION_EXPRESSION, '') = '' ORDER BY ORDINAL_POSITION`,
  params: [database, table],
});

export const uniqueKeysOf = (database: string, table: string): Statement => ({
  sql: `SELECT INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
  params: [database, table],
});

export const triggersNamed = (database: string, names: string[]): Statement => ({
  sql: `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME IN (?)`,
  params: [database, names],
});

/** Everything needed to re-create a table's triggers on another table. */
export const triggerDefinitions = (database: string, table: string): Statement => ({
  sql: `SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, ACTION_STATEMENT, DEFINER, SQL_MODE,
          CHARACTER_SET_CLIENT, COLLATION_CONNECTION
        FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? ORDER BY ACTION_ORDER`,
  params: [database, table],
});

export const foreignKeysTouching = (database: string, table: string): Statement => ({
  sql: `SELECT CONSTRAINT_NAME, TABLE_SCHEMA, TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE
        WHERE REFERENCED_TABLE_NAME IS NOT NULL AND
          ((TABLE_SCHEMA = ? AND TABLE_NAME = ?) OR (REFERENCED_TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME = ?))`,
  params: [database, table, database, table],
});

/** The table's own (child-side) foreign keys only: a lookup by table, without the search for tables referencing it. */
export const foreignKeysOf = (database: string, table: string): Statement => ({
  sql: `SELECT CONSTRAINT_NAME, TABLE_SCHEMA, TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL`,
  params: [database, table],
});

export const triggersOn = (database: string, table: string): Statement => ({
  sql: `SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?`,
  params: [database, table],
});

export const exactRowCount = (database: string, table: string): Statement => ({
  sql: `SELECT COUNT(*) AS n FROM ${qualified(database, table)}`,
  params: [],
});

/** gh-ost's --switch-to-rbr, on a replica: ROW format for the SQL thread from its next start. */
export const setGlobalRowFormat = (): Statement => ({ sql: "SET GLOBAL binlog_format = 'ROW'", params: [] });

/**
 * Milliseconds since the master's latest heartbeat, by this server's clock; NULL when the
 * heartbeat has not arrived (the changelog not replicated yet).
 */
export const heartbeatLagMillis = (database: string, changelog: string): Statement => ({
  sql: `SELECT TIMESTAMPDIFF(MICROSECOND, CAST(value AS DATETIME(6)), UTC_TIMESTAMP(6)) / 1000 AS lag_ms
        FROM ${qualified(database, changelog)} WHERE hint = 'heartbeat'`,
  params: [],
});

/** `value`: the master's UTC time, 'YYYY-MM-DD HH:MM:SS.fff' (the writer's clock set to the server's, see drain.ts). */
export const writeHeartbeat = (database: string, changelog: string, value: string): Statement => ({
  sql: `INSERT INTO ${qualified(database, changelog)} (hint, value) VALUES ('heartbeat', ?)
        ON DUPLICATE KEY UPDATE value = VALUES(value)`,
  params: [value],
});

/** The server's clock, in milliseconds since the epoch (UTC whatever the session's time zone). */
export const serverClockMillis = (): Statement => ({ sql: 'SELECT UNIX_TIMESTAMP(NOW(6)) * 1000 AS ms', params: [] });

export const showBinaryLogs = (): Statement => ({ sql: 'SHOW BINARY LOGS', params: [] });

// ---- Ghost and changelog tables --------------------------------------------------------

export const createTableLike = (database: string, table: string, like: string): Statement => ({
  sql: `CREATE TABLE ${qualified(database, table)} LIKE ${qualified(database, like)}`,
  params: [],
});

/** The operator's ALTER clauses, applied to the ghost table only. */
export const alterTable = (database: string, table: string, clauses: string): Statement => ({
  sql: `ALTER TABLE ${qualified(database, table)} ${clauses}`,
  params: [],
});

export const showCreateTable = (database: string, table: string): Statement => ({
  sql: `SHOW CREATE TABLE ${qualified(database, table)}`,
  params: [],
});

/**
 * Connections reading this server's binlog (replicas, and any other reader), and whether this
 * user may see them all (PROCESS): without it the count is of its own connections only.
 */
export const binlogReaders = (): Statement => ({
  sql: `SELECT (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'PROCESS') AS process,
               (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%') AS readers`,
  params: [],
});

/** ALTERs of `table` running in other sessions of this user (an earlier attempt's index build). */
export const runningAlters = (database: string, table: string): Statement => ({
  sql: `SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND = 'Query' AND INFO LIKE ?`,
  // The names are matched literally: their % and _ are not LIKE's wildcards.
  params: [`ALTER TABLE ${qualified(database, table).replace(/[\\%_]/g, '\\$&')} ADD %`],
});

/** Secondary indexes left out of the (empty) ghost while rows are copied into it. */
export const dropIndexes = (database: string, table: string, names: string[]): Statement => ({
  sql: `ALTER TABLE ${qualified(database, table)} ${names.map((n) => `DROP INDEX ${escapeId(n)}`).join(', ')}`,
  params: [],
});

/**
 * Adds them back, online (the applier keeps writing the ghost meanwhile). `definitions` are
 * the ghost's own SHOW CREATE TABLE lines for them ("KEY `k` (`c`)"), recorded at prepare.
 */
export const addIndexes = (database: string, table: string, definitions: string[]): Statement => ({
  sql: `ALTER TABLE ${qualified(database, table)} ${definitions.map((d) => `ADD ${d}`).join(', ')}, ALGORITHM=INPLACE, LOCK=NONE`,
  params: [],
});

export const dropTableIfExists = (database: string, table: string): Statement => ({
  sql: `DROP TABLE IF EXISTS ${qualified(database, table)}`,
  params: [],
});

/** gh-ost's changelog layout: one row per hint, upserted; holds state and checkpoints. */
export const createChangelog = (database: string, table: string): Statement => ({
  sql: `CREATE TABLE ${qualified(database, table)} (
          id BIGINT UNSIGNED AUTO_INCREMENT,
          last_update TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
          hint VARCHAR(64) CHARACTER SET ascii NOT NULL,
          value TEXT CHARACTER SET utf8mb4,
          PRIMARY KEY (id),
          UNIQUE KEY hint_uidx (hint)
        ) ENGINE=InnoDB COMMENT='revenant changelog'`,
  params: [],
});

export const upsertChangelog = (database: string, table: string, hint: string, value: string): Statement => ({
  sql: `INSERT INTO ${qualified(database, table)} (hint, value) VALUES (?, ?)
        ON DUPLICATE KEY UPDATE value = VALUES(value)`,
  params: [hint, value],
});

/** A checkpoint's value, read with a shared lock held to the transaction's end: no other attempt moves it meanwhile. */
export const readChangelogShared = (database: string, table: string, hint: string): Statement => ({
  sql: `SELECT value FROM ${qualified(database, table)} WHERE hint = ? LOCK IN SHARE MODE`,
  params: [hint],
});

export const readChangelog = (database: string, table: string, hints: string[]): Statement => ({
  sql: `SELECT hint, value FROM ${qualified(database, table)} WHERE hint IN (?)`,
  params: [hints],
});

// ---- Row copy ------------------------------------------------------------------------

type CopyKey = { name: string; columns: string[]; ordinal?: boolean[] };

/**
 * A key range: rows after `from` (from it, when inclusive) up to and including `to` (before
 * it, when toInclusive is false). A null end is unbounded on that side.
 */
export interface KeyRange {
  from: unknown[] | null;
  fromInclusive: boolean;
  to: unknown[] | null;
  toInclusive?: boolean;
}

/** The predicate of a key range, for the copy's chunks and the checksum's ranges alike. */
function keyRange(cols: string[], r: KeyRange): Statement {
  const parts: Statement[] = [];
  if (r.from) parts.push(keyComparison(cols, r.fromInclusive ? '>=' : '>', r.from));
  if (r.to) parts.push(keyComparison(cols, r.toInclusive === false ? '<' : '<=', r.to));
  if (parts.length === 0) return { sql: 'TRUE', params: [] };
  return { sql: parts.map((p) => p.sql).join(' AND '), params: parts.flatMap((p) => p.params) };
}

/** Deletes a key range of the ghost (a checksum repair, before the range is copied again). */
export function deleteKeyRange(database: string, table: string, keyColumns: string[], r: KeyRange): Statement {
  const where = keyRange(keyColumns, r);
  return { sql: `DELETE FROM ${qualified(database, table)} WHERE ${where.sql}`, params: where.params };
}

/** Copies a key range of the original into the ghost, as a chunk of the copy does. */
export function copyKeyRange(
  database: string,
  table: string,
  ghost: string,
  key: { name: string; columns: string[] },
  columns: { source: string; ghost: string }[],
  r: KeyRange,
): Statement {
  const range = keyRange(key.columns, r);
  return {
    sql: `INSERT IGNORE INTO ${qualified(database, ghost)} (${ids(columns.map((c) => c.ghost))})
          SELECT ${ids(columns.map((c) => c.source))} FROM ${qualified(database, table)} FORCE INDEX (${escapeId(key.name)})
          WHERE ${range.sql} LOCK IN SHARE MODE`,
    params: range.params,
  };
}

/** Key columns as copy bounds: ENUM/SET by ordinal (their order in the index). */
const keySelect = (key: CopyKey) =>
  key.columns.map((c, i) => (key.ordinal?.[i] ? `${escapeId(c)} + 0 AS ${escapeId(c)}` : escapeId(c))).join(', ');

export const keyExtreme = (database: string, table: string, key: CopyKey, dir: 'ASC' | 'DESC'): Statement => ({
  sql: `SELECT ${keySelect(key)} FROM ${qualified(database, table)} FORCE INDEX (${escapeId(key.name)})
        ORDER BY ${key.columns.map((c) => `${escapeId(c)} ${dir}`).join(', ')} LIMIT 1`,
  params: [],
});

/**
 * The last key of the next chunk: the chunkSize-th row after `from` (exclusive, or inclusive
 * for the first chunk), not past `max`. No row means the chunk runs to `max`.
 */
export function chunkEnd(
  database: string,
  table: string,
  key: CopyKey,
  from: unknown[],
  fromInclusive: boolean,
  max: unknown[],
  chunkSize: number,
): Statement {
  const range = keyRange(key.columns, { from, fromInclusive, to: max });
  return {
    sql: `SELECT ${keySelect(key)} FROM ${qualified(database, table)} FORCE INDEX (${escapeId(key.name)})
          WHERE ${range.sql}
          ORDER BY ${key.columns.map(escapeId).join(', ')} LIMIT 1 OFFSET ${Math.max(0, Math.floor(chunkSize) - 1)}`,
    params: range.params,
  };
}

/** Copies one key range; the shared lock makes it read the latest committed rows. */
export function copyChunk(
  database: string,
  table: string,
  ghost: string,
  key: { name: string; columns: string[] },
  columns: { source: string; ghost: string }[],
  from: unknown[],
  fromInclusive: boolean,
  to: unknown[],
): Statement {
  return copyKeyRange(database, table, ghost, key, columns, { from, fromInclusive, to });
}

/**
 * Rows of a chunk the ghost does not hold by the apply key: after a copy whose INSERT IGNORE
 * met duplicates, none means every skipped row was there already (written by the applier,
 * the duplicate reported on whichever unique index was checked first); any means a row was
 * lost to another row on a unique key.
 */
export function chunkRowsMissingInGhost(
  database: string,
  table: string,
  ghost: string,
  key: CopyKey,
  applyKey: { source: string; ghost: string }[],
  from: unknown[],
  fromInclusive: boolean,
  to: unknown[],
): Statement {
  const range = keyRange(key.columns, { from, fromInclusive, to });
  const same = applyKey
    .map(
      (k) => `${qualified(database, ghost)}.${escapeId(k.ghost)} = ${qualified(database, table)}.${escapeId(k.source)}`,
    )
    .join(' AND ');
  return {
    sql: `SELECT COUNT(*) AS n FROM ${qualified(database, table)} FORCE INDEX (${escapeId(key.name)})
          WHERE ${range.sql} AND NOT EXISTS (SELECT 1 FROM ${qualified(database, ghost)} WHERE ${same})`,
    params: range.params,
  };
}

/** A unique key of the ghost: each column by its ghost name, and its source column where the original has one. */
export type GhostUniqueKey = { ghost: string; source?: string }[];

/**
 * Rows of a chunk of the original that the ghost does not hold by the apply key, and whose
 * place under another unique key of the ghost is taken by a row that is current: the
 * original holds it too (same apply key), with the same values in that key. Those rows the
 * ALTER loses. A row displaced by a stale ghost row (one the applier has yet to move) is not
 * counted: it arrives through the binlog.
 */
export function rowsDisplacedByCurrentRows(
  database: string,
  table: string,
  ghost: string,
  key: CopyKey,
  applyKey: { source: string; ghost: string }[],
  uniqueKeys: GhostUniqueKey[],
  r: KeyRange,
  sample?: number,
): Statement {
  const range = keyRange(key.columns, r);
  const o = 'o';
  const col = (alias: string, c: string) => `${alias}.${escapeId(c)}`;
  const inGhost = applyKey.map((k) => `${col('g0', k.ghost)} = ${col(o, k.source)}`).join(' AND ');
  const sameRow = applyKey.map((k) => `${col('o2', k.source)} = ${col('g', k.ghost)}`).join(' AND ');
  const taken = uniqueKeys.map((u) => {
    const shared = u.filter((c) => c.source !== undefined);
    const same = shared.flatMap((c) => [
      `${col('g', c.ghost)} = ${col(o, must(c.source, 'a shared column'))}`,
      `${col('o2', must(c.source, 'a shared column'))} = ${col('g', c.ghost)}`,
    ]);
    return (
      `EXISTS (SELECT 1 FROM ${qualified(database, ghost)} AS g JOIN ${qualified(database, table)} AS o2 ON ${sameRow}` +
      `${same.length ? ` WHERE ${same.join(' AND ')}` : ''})`
    );
  });
  return {
    sql: `SELECT ${sample ? ids(key.columns) : 'COUNT(*) AS n'} FROM ${qualified(database, table)} AS ${o} FORCE INDEX (${escapeId(key.name)})
          WHERE ${range.sql} AND NOT EXISTS (SELECT 1 FROM ${qualified(database, ghost)} AS g0 WHERE ${inGhost})
            AND (${taken.length ? taken.join(' OR ') : 'FALSE'})${sample ? ` LIMIT ${Math.floor(sample)}` : ''}`,
    params: range.params,
  };
}

/** The n-th row (1-based, in key order) of a chunk of the original: its key and one column, as the copy read it. */
export function chunkRowAt(
  database: string,
  table: string,
  key: CopyKey,
  column: string | null,
  from: unknown[],
  fromInclusive: boolean,
  to: unknown[],
  n: number,
): Statement {
  const range = keyRange(key.columns, { from, fromInclusive, to });
  return {
    sql: `SELECT ${keySelect(key)}${column ? `, ${escapeId(column)} AS value` : ''} FROM ${qualified(database, table)} FORCE INDEX (${escapeId(key.name)})
          WHERE ${range.sql} ORDER BY ${ids(key.columns)} LIMIT 1 OFFSET ${Math.max(0, Math.floor(n) - 1)}`,
    params: range.params,
  };
}

/** One column of the ghost's row with the given apply key. */
export function ghostValue(
  database: string,
  ghost: string,
  keyColumns: string[],
  key: unknown[],
  column: string,
): Statement {
  return {
    sql: `SELECT ${escapeId(column)} AS value FROM ${qualified(database, ghost)} WHERE ${keyColumns.map((c) => `${escapeId(c)} = ?`).join(' AND ')}`,
    params: key,
  };
}

/**
 * Session settings for statements that write the ghost (as gh-ost: UTC, zero dates and zero
 * auto-increment values kept). Strict, unless the user accepted data loss: a value the
 * ghost's column cannot hold is then an error in the applier (never a silent truncation), and
 * a warning the copy checks (its INSERT IGNORE turns errors into warnings).
 */
export const ghostWriterSession = (opts: { allowDataLoss?: boolean } = {}): Statement => {
  const base = "REPLACE(REPLACE(@@session.sql_mode, 'NO_ZERO_DATE', ''), 'NO_ZERO_IN_DATE', '')";
  const mode = opts.allowDataLoss
    ? `CONCAT(REPLACE(REPLACE(${base}, 'STRICT_TRANS_TABLES', ''), 'STRICT_ALL_TABLES', ''), ',NO_AUTO_VALUE_ON_ZERO')`
    : `CONCAT(${base}, ',NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES')`;
  return { sql: `SET SESSION time_zone = '+00:00', sql_mode = ${mode}`, params: [] };
};

// ---- Binlog apply: row images to ghost DML --------------------------------------------

export function replaceRows(database: string, ghost: string, columns: string[], rows: unknown[][]): Statement {
  const tuples: string[] = [];
  const params: unknown[] = [];
  for (const row of rows) appendTuple(row, tuples, params);
  return {
    sql: `REPLACE INTO ${qualified(database, ghost)} (${ids(columns)}) VALUES ${tuples.join(', ')}`,
    params,
  };
}

/** UPDATE of the row whose key columns hold `key`; values may be SqlExpressions. */
export function updateRow(
  database: string,
  table: string,
  columns: string[],
  values: unknown[],
  keyColumns: string[],
  key: unknown[],
): Statement {
  const set = values.map((v, i) => `${escapeId(columns[i])} = ${placeholder(v)}`);
  return {
    sql: `UPDATE ${qualified(database, table)} SET ${set.join(', ')} WHERE ${keyColumns.map((c) => `${escapeId(c)} = ?`).join(' AND ')}`,
    params: [...paramsOf(values), ...key],
  };
}

/**
 * UPDATEs of several rows, each found by its key, in one statement: every column set by a
 * CASE over the keys. Only for rows whose update keeps their key, with integer keys (which
 * compare on the server as in JavaScript), each key once.
 */
export function updateRowsByKey(
  database: string,
  table: string,
  columns: string[],
  keyColumns: string[],
  updates: { key: unknown[]; values: unknown[] }[],
): Statement {
  const match = `(${keyColumns.map((c) => `${escapeId(c)} = ?`).join(' AND ')})`;
  const params: unknown[] = [];
  const set = columns.map((c, i) => {
    const branches = updates.map((u) => {
      params.push(...u.key);
      pushParams(u.values[i], params);
      return `WHEN ${match} THEN ${placeholder(u.values[i])}`;
    });
    return `${escapeId(c)} = CASE ${branches.join(' ')} ELSE ${escapeId(c)} END`;
  });
  for (const u of updates) params.push(...u.key);
  return {
    sql: `UPDATE ${qualified(database, table)} SET ${set.join(', ')} WHERE ${updates.map(() => match).join(' OR ')}`,
    params,
  };
}

export function deleteRows(database: string, ghost: string, keyColumns: string[], keys: unknown[][]): Statement {
  if (keyColumns.length === 1) {
    return {
      sql: `DELETE FROM ${qualified(database, ghost)} WHERE ${escapeId(keyColumns[0])} IN (${keys.map(() => '?').join(', ')})`,
      params: keys.map((k) => k[0]),
    };
  }
  const one = `(${keyColumns.map((c) => `${escapeId(c)} = ?`).join(' AND ')})`;
  return {
    sql: `DELETE FROM ${qualified(database, ghost)} WHERE ${keys.map(() => one).join(' OR ')}`,
    params: keys.flat(),
  };
}

/** gh-ost's --allow-zero-in-date, for the session that creates and alters the ghost. */
export const allowZeroDates = (): Statement => ({
  sql: `SET SESSION sql_mode = REPLACE(REPLACE(@@session.sql_mode, 'NO_ZERO_DATE', ''), 'NO_ZERO_IN_DATE', '')`,
  params: [],
});

export const setAutoIncrement = (database: string, table: string, value: number): Statement => ({
  sql: `ALTER TABLE ${qualified(database, table)} AUTO_INCREMENT = ?`,
  params: [value],
});

/** The operator's ALTER on the original, allowed only as a metadata change. */
export const alterTableInstant = (database: string, table: string, alter: string): Statement => ({
  sql: `ALTER TABLE ${qualified(database, table)} ${alter}, ALGORITHM=INSTANT`,
  params: [],
});

export const analyzeTable = (database: string, table: string): Statement => ({
  sql: `ANALYZE TABLE ${qualified(database, table)}`,
  params: [],
});

/** A trigger's definer, 'user@host' as information_schema prints it, as SQL. */
function definerSql(definer: string): string {
  const at = definer.lastIndexOf('@');
  const user = at < 0 ? definer : definer.slice(0, at);
  const host = at < 0 ? '%' : definer.slice(at + 1);
  return `${literalAnyMode(user)}@${literalAnyMode(host)}`;
}

/**
 * A string literal that reads the same with and without NO_BACKSLASH_ESCAPES (quotes
 * doubled; a backslash, which the two modes read differently, refused). For text sent in a
 * session whose sql_mode is not revenant's own (a trigger's).
 */
export function literalAnyMode(value: string): string {
  if (/[\\\0]/.test(value)) throw new Error(`refusing a backslash or NUL in ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, "''")}'`;
}

/** The session's sql_mode and character set, to restore them after a trigger's. */
export const sessionModeAndCharset = (): Statement => ({
  sql: 'SELECT @@session.sql_mode AS sql_mode, @@session.character_set_client AS charset, @@session.collation_connection AS collation',
  params: [],
});

export const triggerSession = (sqlMode: string, charset: string, collation: string): Statement => ({
  sql: 'SET SESSION sql_mode = ?, character_set_client = ?, collation_connection = ?',
  params: [sqlMode, charset, collation],
});

export function createTrigger(
  database: string,
  table: string,
  name: string,
  t: { ACTION_TIMING: string; EVENT_MANIPULATION: string; ACTION_STATEMENT: string; DEFINER: string },
): Statement {
  const timing = t.ACTION_TIMING.toUpperCase() === 'AFTER' ? 'AFTER' : 'BEFORE';
  const event = ({ INSERT: 'INSERT', UPDATE: 'UPDATE', DELETE: 'DELETE' } as Record<string, string>)[
    t.EVENT_MANIPULATION.toUpperCase()
  ];
  if (!event) throw new Error(`unknown trigger event ${t.EVENT_MANIPULATION}`);
  return {
    sql: `CREATE DEFINER=${definerSql(t.DEFINER)} TRIGGER ${qualified(database, name)} ${timing} ${event} ON ${qualified(database, table)} FOR EACH ROW ${t.ACTION_STATEMENT}`,
    params: [],
  };
}

export const dropTrigger = (database: string, name: string): Statement => ({
  sql: `DROP TRIGGER IF EXISTS ${qualified(database, name)}`,
  params: [],
});

export const showWarnings = (): Statement => ({ sql: 'SHOW WARNINGS', params: [] });

/** Inserts rows, leaving out (with a warning) those that collide with a row on any unique key. */
export function insertIgnoreRows(database: string, ghost: string, columns: string[], rows: unknown[][]): Statement {
  const r = replaceRows(database, ghost, columns, rows);
  return { sql: r.sql.replace(/^REPLACE INTO/, 'INSERT IGNORE INTO'), params: r.params };
}

// ---- Cut-over --------------------------------------------------------------------------

export const lockWaitTimeout = (seconds: number): Statement => ({
  sql: `SET SESSION lock_wait_timeout = ?`,
  params: [Math.max(1, Math.floor(seconds))],
});

/** The sentry: while it exists under the old table's name, no RENAME of the original can succeed. */
export const createSentry = (database: string, table: string): Statement => ({
  sql: `CREATE TABLE ${qualified(database, table)} (id INT NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB COMMENT='revenant cut-over sentry'`,
  params: [],
});

export const tableComment = (database: string, table: string): Statement => ({
  sql: `SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
  params: [database, table],
});

export const lockTableRead = (database: string, table: string): Statement => ({
  sql: `LOCK TABLES ${qualified(database, table)} READ`,
  params: [],
});

export const repeatableRead = (): Statement => ({
  sql: 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ',
  params: [],
});
export const consistentSnapshot = (): Statement => ({ sql: 'START TRANSACTION WITH CONSISTENT SNAPSHOT', params: [] });

// ---- Checksum ---------------------------------------------------------------------------

/**
 * Rows, and the sum of a CRC32 per row, in one key range of one table. Each value is cast to
 * binary (no collation to aggregate, a number as it prints) and followed by ISNULL, so NULL and
 * '' differ (CONCAT_WS skips a NULL). The values are joined by CONCAT with the separator
 * between them, a nullable one inside a CONCAT_WS of its own (CONCAT of a NULL is NULL): the
 * same bytes as one CONCAT_WS of them all, which costs MySQL 9.7 a tenth more (0.385 s against
 * 0.343 s over 500,000 sysbench rows; MariaDB 10.11 the same either way). Run on the original
 * and on the ghost with the same range and their shared columns: equal figures mean equal rows
 * (to a CRC's chance: a differing row changes the exact sum unless others change it back by the
 * same amount). One aggregate of the CRC, not two: the server merges a derived table into the
 * query, so a CRC named once and aggregated twice (BIT_XOR and SUM, as before) was computed
 * twice a row: 0.57 s against 0.37 s over a million sysbench rows on MariaDB 10.11.
 * `notNull[i]`: columns[i] is NOT NULL in both tables, so no value of it is NULL on either side
 * and its ISNULL is left out: the server evaluates two expressions a row fewer for each such
 * column.
 */
export function rangeChecksum(
  database: string,
  table: string,
  index: string | null,
  keyColumns: string[],
  columns: string[],
  r: KeyRange,
  notNull: boolean[] = [],
  /** Each column's value as it is, not cast to binary (checksum.ts, hashedAsTheyAre); missing: cast. */
  asTheyAre: boolean[] = [],
): Statement {
  const where = keyRange(keyColumns, r);
  const value = (c: string, i: number) => (asTheyAre[i] ? escapeId(c) : `CAST(${escapeId(c)} AS BINARY)`);
  const row = columns
    .map((c, i) => (notNull[i] ? value(c, i) : `CONCAT_WS(0x1f, ${value(c, i)}, ISNULL(${escapeId(c)}))`))
    .join(', 0x1f, ');
  return {
    sql: `SELECT COUNT(*) AS n, COALESCE(SUM(CRC32(CONCAT(${row}))), 0) AS s
          FROM ${qualified(database, table)}${index ? ` FORCE INDEX (${escapeId(index)})` : ''}
          WHERE ${where.sql}`,
    params: where.params,
  };
}

export const rowCount = (database: string, table: string): Statement => ({
  sql: `SELECT COUNT(*) AS n FROM ${qualified(database, table)}`,
  params: [],
});

export const lockTablesWrite = (database: string, tables: string[]): Statement => ({
  sql: `LOCK TABLES ${tables.map((t) => `${qualified(database, t)} WRITE`).join(', ')}`,
  params: [],
});

export const unlockTables = (): Statement => ({ sql: 'UNLOCK TABLES', params: [] });

/** The two renames of a swap, as a RENAME TABLE lists them: the table aside as `old`, `ghost` into its place. */
export const swapPairs = (database: string, table: string, old: string, ghost: string): string[] => [
  `${qualified(database, table)} TO ${qualified(database, old)}`,
  `${qualified(database, ghost)} TO ${qualified(database, table)}`,
];

export const swapTables = (database: string, table: string, old: string, ghost: string): Statement => ({
  sql: `RENAME TABLE ${swapPairs(database, table, old, ghost).join(', ')}`,
  params: [],
});

export const renameTable = (database: string, from: string, to: string): Statement => ({
  sql: `RENAME TABLE ${qualified(database, from)} TO ${qualified(database, to)}`,
  params: [],
});

export const connectionId = (): Statement => ({ sql: 'SELECT CONNECTION_ID() AS id', params: [] });

/** Is session `id` waiting on a metadata lock for a RENAME? */
export const renameWaiting = (id: number): Statement => ({
  sql: `SELECT ID, STATE, INFO FROM information_schema.PROCESSLIST
        WHERE ID = ? AND INFO LIKE 'RENAME TABLE%' AND STATE LIKE '%metadata lock%'`,
  params: [id],
});

/** Every other session, for a message that says who holds what. */
export const otherSessions = (): Statement => ({
  sql: `SELECT ID, COMMAND, STATE, LEFT(INFO, 120) AS INFO FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Daemon'`,
  params: [],
});

export const killQuery = (id: number): Statement => ({ sql: `KILL QUERY ?`, params: [id] });
export const killConnection = (id: number): Statement => ({ sql: `KILL CONNECTION ?`, params: [id] });

/** RENAME statements running in other sessions (a dead cut-over attempt's may still wait). */
export const pendingRenames = (): Statement => ({
  sql: `SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE INFO LIKE 'RENAME TABLE%' AND ID <> CONNECTION_ID()`,
  params: [],
});

/**
 * Moves a checkpoint forward only from the value this attempt read or last wrote. 0 rows
 * changed means another attempt moved it: this one is stale and must roll back.
 */
export const compareAndSetChangelog = (
  database: string,
  table: string,
  hint: string,
  expected: string,
  value: string,
): Statement => ({
  sql: `UPDATE ${qualified(database, table)} SET value = ? WHERE hint = ? AND value = ?`,
  params: [value, hint, expected],
});

/**
 * Status counters for --max-load and --critical-load. SHOW GLOBAL STATUS answers alike on
 * MariaDB and MySQL (information_schema.GLOBAL_STATUS is MariaDB's alone since MySQL 8.0).
 */
export const globalStatus = (names: string[]): Statement => ({
  sql: `SHOW GLOBAL STATUS WHERE Variable_name IN (?)`,
  params: [names],
});

/** The operator's --throttle-query, validated as a single SELECT before it gets here. */
export const throttleQuery = (query: string): Statement => ({ sql: query, params: [] });
