// Inspection: everything that must hold before anything is created, each refusal a clear,
// specific, non-retryable error. Also plans the copy once the ghost exists: which columns
// both tables share and which unique key they share.
import { ApplicationFailure } from '@temporalio/common';
import type { ColumnMapping, MigrationInput, SharedKey } from '../model/types';
import { changelogTableName, ghostTableName, oldTableName, tableNameBase, writtenColumns } from '../model/types';
import { AlterRefused, parseAlter } from './alter-text';
import { columnRenames, normalizeAlter, recreatedColumns, splitClauses } from './alter';
import { exec, rows, type Conn } from './mysql';
import * as sql from './sql';
import {
  binlogMonitorPrivilegeName,
  replicaMonitorPrivilegeName,
  replicaMonitorPrivileges,
  binlogMonitorPrivileges,
  binlogSettingProblems,
  enableMetadataLockInstrument,
  flavorOf,
  otherPorts,
  gtidModeProblem,
  gtidVariables,
  replicaStatus,
  startReplica,
  stopReplica,
  usesGtids,
  type Flavor,
} from './flavor';
import { must } from './must';

export function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'MigrationRefused');
}

/** A table that is not there: said of the database when that is what is missing. */
export async function refuseMissingTable(conn: Conn, db: string, table: string): Promise<never> {
  if ((await rows(conn, sql.schemaNamed(db))).length === 0) refuse(`database ${db} does not exist (--database)`);
  refuse(`table ${db}.${table} does not exist`);
}

export interface ServerFacts {
  /** "MySQL 9.7.4", "MariaDB 10.11.6" */
  version: string;
  serverUuid: string;
  /** Whether checkpoints carry a GTID position (MariaDB; MySQL with gtid_mode=ON). */
  gtids: boolean;
}

export async function checkServer(
  conn: Conn,
  opts: Pick<
    MigrationInput,
    'assumeRbr' | 'switchToRbr' | 'skipPortValidation' | 'allowSetupMetadataLockInstruments'
  > = {},
): Promise<ServerFacts> {
  const f = flavorOf(conn);
  let [v] = await rows(conn, sql.serverVariables());
  if (!opts.skipPortValidation) {
    // gh-ost's check: the server reached is the one named (not a proxy's or a forwarded port's other end).
    const reached = Number(conn.config.port);
    const other = otherPorts(f);
    const [extra] = other ? await rows(conn, other) : [];
    if (reached !== Number(v.port) && reached !== Number(extra?.port ?? 0)) {
      refuse(
        `unexpected database port reported: the server reached on port ${reached} says its port is ${v.port}; ` +
          'through a proxy or a forwarded port, add --skip-port-validation (or --aliyun-rds, --gcp, --azure)',
      );
    }
  }
  const setUp = opts.allowSetupMetadataLockInstruments ? enableMetadataLockInstrument(f) : undefined;
  if (setUp) await exec(conn, setUp);
  if (String(v.binlog_format).toUpperCase() !== 'ROW' && opts.switchToRbr && (await replicaStatus(conn, f))) {
    // gh-ost's --switch-to-rbr: the replica's SQL thread logs ROW from its restart on.
    await exec(conn, sql.setGlobalRowFormat());
    await exec(conn, stopReplica(f));
    await exec(conn, startReplica(f));
    [v] = await rows(conn, sql.serverVariables());
    if (String(v.binlog_format).toUpperCase() !== 'ROW') v = { ...v, binlog_format: 'ROW' };
  }
  if (Number(v.log_bin) !== 1) {
    refuse(
      'binary logging is off (log_bin=OFF) on the server: revenant reads row changes from the binlog; start it with --log-bin --binlog-format=ROW --binlog-row-image=FULL',
    );
  }
  if (String(v.binlog_format).toUpperCase() !== 'ROW' && !opts.assumeRbr) {
    refuse(
      `binlog_format is ${v.binlog_format}, but revenant needs ROW: SET GLOBAL binlog_format='ROW' (and restart replication threads), or start the server with --binlog-format=ROW`,
    );
  }
  if (String(v.binlog_row_image).toUpperCase() !== 'FULL') {
    refuse(
      `binlog_row_image is ${v.binlog_row_image}, but revenant needs FULL: its binlog events must carry whole rows (SET GLOBAL binlog_row_image='FULL')`,
    );
  }
  const [problem] = await binlogSettingProblems(conn, f);
  if (problem) refuse(problem);
  const [g] = await rows(conn, gtidVariables(f));
  const gtidProblem = gtidModeProblem(f, String(g.mode));
  if (gtidProblem) refuse(gtidProblem);
  await checkGrants(conn, f);
  return { version: f.name, serverUuid: `${v.hostname}:${v.port}:${v.server_id}`, gtids: usesGtids(f, String(g.mode)) };
}

const TABLE_PRIVILEGES = ['ALTER', 'CREATE', 'DELETE', 'DROP', 'INDEX', 'INSERT', 'LOCK TABLES', 'SELECT', 'UPDATE'];

async function checkGrants(conn: Conn, f: Flavor): Promise<void> {
  const grants = (await rows(conn, sql.showGrants())).map((r) => String(Object.values(r)[0]));
  const global = new Set<string>();
  const anyDb = new Set<string>();
  for (const g of grants) {
    const m = /^GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s/i.exec(g);
    if (!m) continue;
    const privs = m[1].split(',').map((p) => p.trim().toUpperCase());
    const target = privs.includes('ALL PRIVILEGES') ? ['ALL'] : privs;
    for (const p of target) (m[2] === '*.*' ? global : anyDb).add(p);
  }
  if (global.has('ALL')) return;
  const missing: string[] = [];
  if (!global.has('REPLICATION SLAVE') && !global.has('SUPER')) missing.push('REPLICATION SLAVE');
  if (!binlogMonitorPrivileges(f).some((p) => global.has(p))) missing.push(binlogMonitorPrivilegeName(f));
  const monitor = replicaMonitorPrivilegeName(f);
  if (!replicaMonitorPrivileges(f).some((p) => global.has(p)) && !missing.includes(monitor)) missing.push(monitor);
  for (const p of TABLE_PRIVILEGES) if (!global.has(p) && !anyDb.has(p) && !anyDb.has('ALL')) missing.push(p);
  if (missing.length) {
    refuse(`the MySQL user lacks privileges revenant needs: ${missing.join(', ')} (see the README's "Privileges")`);
  }
}

/**
 * The operator's ALTER as revenant applies it (its specification list alone), or a
 * non-retryable refusal naming what rode along with it (see alter-text.ts). Every statement
 * that carries the ALTER takes it from here.
 */
export function alterOf(input: Pick<MigrationInput, 'alter' | 'database' | 'table'>): string {
  try {
    return parseAlter(input.alter, input).text;
  } catch (e) {
    if (e instanceof AlterRefused) refuse(e.message);
    throw e;
  }
}

/** Checks on the original table and the ALTER; nothing is created. */
export async function checkTableAndAlter(
  conn: Conn,
  input: MigrationInput,
  opts: { resurrect?: boolean } = {},
): Promise<{ estimatedRows: number }> {
  const { database: db, table } = input;
  const t = await rows(conn, sql.tableInfo(db, table));
  if (t.length === 0) await refuseMissingTable(conn, db, table);
  if (t[0].TABLE_TYPE !== 'BASE TABLE') refuse(`${db}.${table} is a ${t[0].TABLE_TYPE}, not a table`);

  const alter = alterOf(input);
  if (!alter)
    refuse('the ALTER is empty: pass the change with --alter, e.g. --alter "ADD COLUMN c INT NOT NULL DEFAULT 0"');
  // (A table rename was refused by alterOf, with gh-ost's words.)
  const clauses = splitClauses(alter);
  const renames = columnRenames(clauses);
  if (renames.size > 0 && !input.approveRenamedColumns) {
    const list = [...renames].map(([a, b]) => `${a} -> ${b}`).join(', ');
    refuse(
      `the ALTER renames columns (${list}); revenant will copy their data under the new names. Confirm this is right with --approve-renamed-columns`,
    );
  }

  // --skip-foreign-key-checks: the user vouches that no other table references this one, and
  // information_schema (slow with many tables) is not searched; the table's own keys still are.
  const fks = await rows(
    conn,
    input.skipForeignKeyChecks ? sql.foreignKeysOf(db, table) : sql.foreignKeysTouching(db, table),
  );
  const parent = fks.find((fk) => !(fk.TABLE_SCHEMA === db && fk.TABLE_NAME === table));
  if (parent) {
    refuse(
      `Parent-side foreign keys are not supported: ${parent.TABLE_SCHEMA}.${parent.TABLE_NAME} references ${db}.${table} (${parent.CONSTRAINT_NAME}); ` +
        'after the cut-over it would reference the old table',
    );
  }
  const child = fks.find((fk) => fk.TABLE_SCHEMA === db && fk.TABLE_NAME === table);
  if (child && !input.discardForeignKeys) {
    refuse(
      `Child-side foreign keys are not supported. Bailing out: ${db}.${table} references ${child.REFERENCED_TABLE_NAME} (${child.CONSTRAINT_NAME}); ` +
        '--discard-foreign-keys migrates the table without its foreign keys',
    );
  }
  const triggers = await rows(conn, sql.triggersOn(db, table));
  if (triggers.length && !input.triggers) {
    refuse(
      `${db}.${table} has triggers (${triggers.map((r) => r.TRIGGER_NAME).join(', ')}); --include-triggers migrates them with the table`,
    );
  }
  if (triggers.length && input.triggers)
    await checkGhostTriggerNames(
      conn,
      db,
      triggers.map((r) => String(r.TRIGGER_NAME)),
      input.triggers,
    );

  if (!opts.resurrect) {
    const base = tableNameBase(input);
    // The longest name made: the old table's, timestamped (14 digits) or not.
    const longest = oldTableName(base, input.timestampOldTable ? '00000000000000' : undefined);
    if (longest.length > 64) {
      refuse(
        `the old table's name ${longest} would be longer than MySQL's 64 characters: name the migration's tables with --force-table-names${input.timestampOldTable ? ', or drop --timestamp-old-table' : ''}`,
      );
    }
    const [ghost, changelog, old] = [ghostTableName(base), changelogTableName(base), oldTableName(base)];
    const present = new Set(
      (await rows(conn, sql.tablesNamed(db, [ghost, changelog, old]))).map((r) => r.TABLE_NAME as string),
    );
    if (present.has(changelog) && !input.initiallyDropGhostTable) {
      refuse(
        `changelog table ${db}.${changelog} exists: another migration of ${table} is running or was left behind (resume it with --resurrect, or drop it, or pass --initially-drop-ghost-table)`,
      );
    }
    if (present.has(ghost) && !input.initiallyDropGhostTable) {
      refuse(
        `ghost table ${db}.${ghost} exists: another migration of ${table} is running or was left behind (drop it, or pass --initially-drop-ghost-table)`,
      );
    }
    if (present.has(old) && !input.initiallyDropOldTable && !input.timestampOldTable) {
      refuse(
        `table ${db}.${old} exists (left by an earlier migration): drop it, pass --initially-drop-old-table, or --timestamp-old-table`,
      );
    }
  }

  let estimatedRows = Number(t[0].TABLE_ROWS ?? 0);
  // --exact-rowcount counts here only with --concurrent-rowcount=false; else the copy counts as it starts.
  if (input.exactRowcount && input.concurrentRowcount === false)
    estimatedRows = Number((await rows(conn, sql.exactRowCount(db, table)))[0].n);
  return { estimatedRows };
}

/** gh-ost's names for the ghost's copies of the triggers: suffixed, or unsuffixed if they carry the suffix already. */
export function ghostTriggerName(name: string, t: { suffix: string; removeSuffixIfExists: boolean }): string {
  return t.removeSuffixIfExists && name.endsWith(t.suffix) && name.length > t.suffix.length
    ? name.slice(0, -t.suffix.length)
    : name + t.suffix;
}

async function checkGhostTriggerNames(
  conn: Conn,
  db: string,
  names: string[],
  t: { suffix: string; removeSuffixIfExists: boolean },
): Promise<void> {
  const ghostNames = names.map((n) => ghostTriggerName(n, t));
  const long = ghostNames.find((n) => n.length > 64);
  if (long) refuse(`the ghost trigger name ${long} is longer than 64 characters: choose a shorter --trigger-suffix`);
  const taken = await rows(conn, sql.triggersNamed(db, ghostNames));
  if (taken.length) {
    refuse(
      `found gh-ost triggers: ${taken.map((r) => `${r.TRIGGER_NAME} (on ${r.EVENT_OBJECT_TABLE})`).join(', ')} already exist in ${db}, ` +
        'and trigger names are unique per schema: drop them (a previous migration may have left them) or choose another --trigger-suffix',
    );
  }
}

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
