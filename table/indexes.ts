// Deferred secondary indexes. A non-unique index of the ghost is dropped while the ghost is
// still empty, and added back once every row is copied: online, in one sorted build. Filling
// a secondary index in the random order of its values is most of a copy's cost (1M sysbench
// rows: 8.4 s into a ghost with `k_1`, 3.7 s without it and 1.1 s to build it afterwards).
// Unique keys stay (they decide which rows the copy keeps, and the applier finds rows by one),
// and so does every index of a table with foreign keys (an index may back one).
//
// The build is one statement, and a replica replays it alone, after the master is done: its
// lag grows by as long as the build takes. So by default indexes are deferred only where no
// replica reads the binlog; --defer-secondary-indexes forces it, =false never defers.
//
// Nor on MySQL where the table is busy: its build holds the ghost's writes at its end for a
// moment that grows with their rate (mysql/flavor.ts), a second at 5,000 rows a second, and the
// applier falls that far behind just before the cut-over. Above BUSY_TABLE_WRITES_PER_SECOND,
// measured while prepare runs, the ghost keeps its indexes: a slower copy, no stall.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { busyTable, type DeferredIndex, type MigrationInput, type TablePlan } from '../model/types';
import type { CredentialResolver } from '../mysql/credentials';
import { exec, rows, type Conn } from '../mysql/query';
import { mysqlErrorCode } from '../mysql/errors';
import { withConnection } from '../mysql/connection';
import * as sql from '../mysql/statements';
import { applierOf } from '../mysql/topology';
import { flavorOf, indexBuildStallsBusyWriters, rowWrites } from '../mysql/flavor';

/**
 * The least time the rate is measured over: a writer at the bound shows 100 rows. It is time
 * every migration waits in prepare (300 ms made MariaDB's idle migration of a million rows 5 %
 * slower); a rate misjudged near the bound costs a slower copy or a short stall, not data.
 */
const WRITE_RATE_WINDOW_MS = 100;

/** The table's row writes so far, and when they were read. */
export interface WriteSample {
  rows: number;
  at: number;
}

/** The table's row writes so far (MariaDB: the server's, mysql/flavor.ts), and when they were read. */
export async function sampleTableWrites(conn: Conn, database: string, table: string): Promise<WriteSample> {
  const [r] = await rows(conn, rowWrites(flavorOf(conn), database, table));
  return { rows: Number(r?.n ?? 0), at: Date.now() };
}

/** Row writes a second since `since`, read again at least WRITE_RATE_WINDOW_MS after it. */
export async function writeRateSince(conn: Conn, database: string, table: string, since: WriteSample): Promise<number> {
  const wait = since.at + WRITE_RATE_WINDOW_MS - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const now = await sampleTableWrites(conn, database, table);
  // The counts start again when the summary is truncated or the table leaves the cache.
  return Math.max(0, now.rows - since.rows) / ((now.at - since.at) / 1000);
}

const KEY_LINE = /^\s*KEY (`(?:[^`]|``)+`) \(/;

/** The lines of a SHOW CREATE TABLE, trimmed, without their trailing commas. */
const definitionLines = (createTable: string) => createTable.split('\n').map((l) => l.trim().replace(/,$/, ''));

/**
 * A plain index definition as SHOW CREATE TABLE prints it: KEY `name` over named columns
 * (prefix lengths, DESC), with at most a USING, a COMMENT and a visibility. Only these are
 * deferred, and only these are accepted back from a changelog (see resurrect.ts): the
 * definition is DDL, and a changelog row anyone with rights on the schema can write.
 */
const PLAIN_KEY = new RegExp(
  '^KEY (`(?:[^`]|``)+`) \\(`(?:[^`]|``)+`(?:\\(\\d+\\))?(?: DESC)?(?:,`(?:[^`]|``)+`(?:\\(\\d+\\))?(?: DESC)?)*\\)' +
    "(?: USING (?:BTREE|HASH))?(?: COMMENT '(?:[^'\\\\]|'')*')?(?: /\\*!80000 INVISIBLE \\*/| INVISIBLE| IGNORED)?$",
);

/** The index's name, when `definition` is a plain index definition; else undefined. */
export function plainIndexName(definition: string): string | undefined {
  const m = PLAIN_KEY.exec(definition);
  return m ? m[1].slice(1, -1).replace(/``/g, '`') : undefined;
}

/** The plain non-unique indexes of an InnoDB table without foreign keys, each as the server prints it. */
export function deferrableIndexes(createTable: string): DeferredIndex[] {
  if (!/\)\s*ENGINE=InnoDB\b/i.test(createTable) || /\bFOREIGN KEY\b/i.test(createTable)) return [];
  const out: DeferredIndex[] = [];
  for (const line of definitionLines(createTable)) {
    const name = plainIndexName(line);
    if (name !== undefined) out.push({ name, definition: line });
  }
  return out;
}

async function createTable(conn: Conn, database: string, table: string): Promise<string> {
  const [r] = await rows(conn, sql.showCreateTable(database, table));
  return String(r['Create Table']);
}

/**
 * At prepare, on the empty ghost: drops the indexes to build after the copy, and returns them
 * for the plan. Auto (the default) defers only when this user sees every connection (PROCESS)
 * and none of them reads the binlog, and, on MySQL, only when the table's `writesPerSecond`
 * stay under BUSY_TABLE_WRITES_PER_SECOND.
 */
export async function deferIndexes(
  conn: Conn,
  input: MigrationInput,
  database: string,
  ghost: string,
  writesPerSecond?: number,
): Promise<DeferredIndex[]> {
  if (input.deferSecondaryIndexes === false) return [];
  const found = deferrableIndexes(await createTable(conn, database, ghost));
  if (found.length === 0) return [];
  if (input.deferSecondaryIndexes !== true) {
    const [r] = await rows(conn, sql.binlogReaders());
    if (Number(r.process) === 0 || Number(r.readers) > 0) return [];
    if (busyTable(writesPerSecond) && indexBuildStallsBusyWriters(flavorOf(conn))) {
      Context.current().log.info(
        `${input.table} takes ${Math.round(writesPerSecond ?? 0)} row writes a second: its secondary indexes are filled during the copy, ` +
          `not built after it (MySQL's index build would hold the applier at its end; --defer-secondary-indexes defers them anyway)`,
      );
      return [];
    }
  }
  await exec(
    conn,
    sql.dropIndexes(
      database,
      ghost,
      found.map((i) => i.name),
    ),
  );
  return found;
}

/**
 * After the copy: adds the deferred indexes the ghost lacks, heartbeating through the build,
 * and checks that each is back exactly as it was defined. A retry waits for a build an
 * earlier attempt left running on the server, and finds its indexes in place.
 */
export async function addDeferredIndexes(
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
): Promise<void> {
  const deferred = plan.deferredIndexes ?? [];
  if (deferred.length === 0) return;
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 1000);
  try {
    await withConnection(applierOf(input, plan), credentials, async (conn) => {
      while ((await rows(conn, sql.runningAlters(plan.database, plan.ghostTable))).length > 0) {
        if (ctx.cancellationSignal.aborted) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
      const names = new Set(
        definitionLines(await createTable(conn, plan.database, plan.ghostTable))
          .map((l) => KEY_LINE.exec(l)?.[1].slice(1, -1).replace(/``/g, '`'))
          .filter((n) => n !== undefined),
      );
      const missing = deferred.filter((i) => !names.has(i.name));
      if (missing.length > 0) {
        try {
          await exec(
            conn,
            sql.addIndexes(
              plan.database,
              plan.ghostTable,
              missing.map((i) => i.definition),
            ),
          );
        } catch (e) {
          if (mysqlErrorCode(e) !== 'ER_DUP_KEYNAME') throw e; // else: an earlier attempt's build finished first
        }
      }
      const lines = new Set(definitionLines(await createTable(conn, plan.database, plan.ghostTable)));
      const wrong = deferred.filter((i) => !lines.has(i.definition));
      if (wrong.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `the ghost's secondary indexes did not come back as defined: ${wrong.map((i) => i.definition).join('; ')}`,
          'IndexMismatch',
        );
      }
    });
  } finally {
    clearInterval(beat);
  }
}
