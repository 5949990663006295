// The table's and the ALTER's preconditions, checked before anything is created: the ALTER
// read as the server reads it, the table there, keys, foreign keys, triggers, names free.
import type { MigrationInput } from '../model/types';
import { changelogTableName, ghostTableName, oldTableName, tableNameBase } from '../model/types';
import { AlterRefused, parseAlter } from '../table/alter-text';
import { columnRenames, splitClauses } from '../table/alter-clauses';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { refuse, refuseMissingTable } from '../checks/refuse';

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
