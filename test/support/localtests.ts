// gh-ost's own test suite (its localtests), run against revenant. Each case folder holds a
// create.sql (table, rows, and usually an EVENT writing every second), the gh-ost flags of
// the case, and how to judge it (see ../shared/peer/gh-ost-localtests/README.md). The runner
// gives each case a database of its own so that several run at once, drives revenant through
// its CLI as a user would, and judges the case as gh-ost does: with the writes stopped and the
// applier caught up, the original and the migrated table hold the same rows, or the migration
// fails with the expected text and the original is untouched.
import type { RowDataPacket } from 'mysql2';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { escapeId } from '../../mysql/statements';
import { migrationWorkflowId, oldTableName, type MigrationStatus } from '../../model/types';
import { admin, MYSQL_PORT, SERVER, TEMPORAL_ADDRESS } from './helpers';
import { REVENANT_BIN, ROOT } from './paths';
import { sleep, waitFor } from './wait';
import { setUpdate, statusQuery } from '../../model/messages';

/** The peer suite's data: beside the project root (../shared), where the workplace keeps it, or REVENANT_LOCALTESTS. */
export const LOCALTESTS_DIR = [
  process.env.REVENANT_LOCALTESTS,
  join(ROOT, '..', 'shared', 'peer', 'gh-ost-localtests'),
  '/work/shared/peer/gh-ost-localtests',
].find((d): d is string => !!d && existsSync(d));

export interface LocalCase {
  name: string;
  create: string;
  before?: string;
  after?: string;
  destroy?: string;
  extraArgs: string[];
  /** undefined: must succeed; '' : must fail; text: must fail with each of its lines in the output. */
  expectFailure?: string;
  expectTableStructure?: string;
  origColumns: string;
  ghostColumns: string;
  orderBy: string;
  sqlMode?: string;
  ignoreVersions?: string;
  gtidMode?: string;
  customProcedure: boolean;
}

export interface Verdict {
  name: string;
  result: 'pass' | 'fail' | 'n/a';
  reason: string;
  seconds: number;
}

/** Splits a mysql-client script into statements, following `delimiter` lines. */
export function splitSqlScript(text: string): string[] {
  const out: string[] = [];
  let delimiter = ';';
  let cur = '';
  let quote: string | null = null;
  let i = 0;
  const atLineStart = () => cur.trim() === '';
  while (i < text.length) {
    if (!quote && atLineStart()) {
      const line = /^[ \t]*delimiter[ \t]+(\S+)[ \t]*(?:\r?\n|$)/i.exec(text.slice(i));
      if (line && (i === 0 || text[i - 1] === '\n' || /^\s*$/.test(cur))) {
        delimiter = line[1];
        cur = '';
        i += line[0].length;
        continue;
      }
    }
    const ch = text[i];
    if (quote) {
      cur += ch;
      if (ch === '\\' && quote !== '`') {
        cur += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (ch === quote) quote = null;
      i++;
      continue;
    }
    if ((ch === '-' && text.startsWith('-- ', i)) || (ch === '-' && text.startsWith('--\n', i)) || ch === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    if (text.startsWith(delimiter, i)) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      i += delimiter.length;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    cur += ch;
    i++;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Splits a shell command line into words (quotes and backslashes as sh reads them). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let cur: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      if (cur !== null) words.push(cur);
      cur = null;
      continue;
    }
    cur ??= '';
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${text}`);
      cur += text.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && /["\\$`]/.test(text[i + 1] ?? '')) i++;
        cur += text[i++];
      }
      if (i >= text.length) throw new Error(`unterminated " in: ${text}`);
    } else if (ch === '\\') cur += text[++i] ?? '';
    else cur += ch;
  }
  if (cur !== null) words.push(cur);
  return words;
}

export function loadCases(dir: string): LocalCase[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const file = (f: string) =>
        existsSync(join(dir, name, f)) ? readFileSync(join(dir, name, f), 'utf8') : undefined;
      const trimmed = (f: string) => file(f)?.trim();
      return {
        name,
        create: file('create.sql') ?? '',
        before: file('before.sql'),
        after: file('after.sql'),
        destroy: file('destroy.sql'),
        extraArgs: shellWords(file('extra_args') ?? ''),
        expectFailure: trimmed('expect_failure'),
        expectTableStructure: trimmed('expect_table_structure'),
        origColumns: trimmed('orig_columns') || '*',
        ghostColumns: trimmed('ghost_columns') || '*',
        orderBy: trimmed('order_by') ? `ORDER BY ${trimmed('order_by')}` : '',
        sqlMode: file('sql_mode') === undefined ? undefined : file('sql_mode')!.trim(),
        ignoreVersions: trimmed('ignore_versions'),
        gtidMode: trimmed('gtid_mode'),
        customProcedure: existsSync(join(dir, name, 'CUSTOM_PROCEDURE')),
      };
    });
}

/** Cases that change global server settings run alone. */
export const runsAlone = (c: LocalCase) => c.sqlMode !== undefined || c.before !== undefined || c.after !== undefined;

export const databaseFor = (c: LocalCase) => `lt_${c.name.replace(/[^A-Za-z0-9]/g, '_')}`.slice(0, 64);

export interface ServerVersion {
  version: string;
  comment: string;
}

export function notApplicable(c: LocalCase, server: ServerVersion): string | undefined {
  if (c.ignoreVersions) {
    const re = new RegExp(c.ignoreVersions, 'i');
    if (re.test(server.version) || re.test(server.comment)) {
      return `ignore_versions /${c.ignoreVersions}/ matches the server (${server.version}, ${server.comment})`;
    }
  }
  return undefined;
}

/** The migrated table: always gh_ost_test, except in the case whose table sysbench creates. */
const tableFor = (c: LocalCase) => (c.name === 'sysbench' ? 'sbtest1' : 'gh_ost_test');

function sysbench(db: string, command: 'prepare' | 'run'): ChildProcess {
  return spawn(
    'sysbench',
    [
      'oltp_write_only',
      '--db-driver=mysql',
      '--mysql-host=127.0.0.1',
      `--mysql-port=${MYSQL_PORT}`,
      '--mysql-user=revenant',
      '--mysql-password=revenant',
      `--mysql-db=${db}`,
      '--tables=1',
      '--table-size=20000',
      ...(command === 'run' ? ['--threads=2', '--rate=50', '--time=900', '--mysql-ignore-errors=all'] : []),
      command,
    ],
    { stdio: 'ignore' },
  );
}
const CASE_TIMEOUT_MS = 240_000;

interface Run {
  child: ChildProcess;
  output: string;
  exited: Promise<number>;
}

function startRevenant(args: string[], taskQueue: string): Run {
  const child = spawn('node', [REVENANT_BIN, ...args], {
    env: { ...process.env, TEMPORAL_ADDRESS, REVENANT_TASK_QUEUE: taskQueue, REVENANT_MYSQL_PASSWORD: 'revenant' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { child, output: '', exited: Promise.resolve(0) };
  child.stdout!.on('data', (d) => {
    run.output += d;
  });
  child.stderr!.on('data', (d) => {
    run.output += d;
  });
  run.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  return run;
}

async function runScript(db: string, script: string | undefined): Promise<void> {
  if (!script) return;
  const c = await admin(db);
  try {
    for (const s of splitSqlScript(script)) await c.query(s);
  } finally {
    await c.end();
  }
}

/** Rows of a query as printable strings, every value as the server prints it. */
async function textRows(db: string, query: string): Promise<string[]> {
  const c = await admin(db);
  try {
    const [r] = await c.query<string[][] & RowDataPacket[]>({
      sql: query,
      rowsAsArray: true,
      typeCast: (field: { buffer: () => Buffer | null }) => {
        const b = field.buffer();
        return b === null ? 'NULL' : JSON.stringify(b.toString('latin1'));
      },
    });
    return r.map((row) => row.join('\t'));
  } finally {
    await c.end();
  }
}

async function showCreate(db: string, table: string): Promise<string | undefined> {
  const c = await admin(db);
  try {
    const [r] = await c.query<RowDataPacket[]>(`SHOW CREATE TABLE ${escapeId(table)}`);
    return String(r[0]['Create Table']);
  } catch {
    return undefined;
  } finally {
    await c.end();
  }
}

const withoutAutoIncrement = (s?: string) => s?.replace(/ AUTO_INCREMENT=\d+/, '');

/** Until no other session is connected to the case's database (at most 15 s). */
async function sessionsGone(db: string): Promise<void> {
  const c = await admin(db);
  try {
    await waitFor(`the sessions of ${db} to end`, async () => {
      const [left] = await c.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [db],
      );
      return Number(left[0].n) === 0;
    });
  } finally {
    await c.end();
  }
}

/**
 * Sessions running a statement in the case's database, or event workers not yet in it. The
 * statement's text is not read: MySQL's PROCESSLIST.INFO is utf8mb3, and a running statement
 * with a 4-byte character (an emoji the case inserts) makes any query that reads it fail.
 */
async function sessionsAtWork(c: Awaited<ReturnType<typeof admin>>, db: string): Promise<number> {
  try {
    const [busy] = await c.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
       WHERE ID <> CONNECTION_ID() AND ((DB = ? AND COMMAND NOT IN ('Sleep', 'Daemon'))
         OR (COMMAND = 'Connect' AND USER NOT IN ('system user', 'event_scheduler') AND DB IS NULL))`,
      [db],
    );
    return Number(busy[0].n);
  } catch {
    return 1;
  }
}

/**
 * Stops the case's EVENTs for good and waits until none is running. CI on MariaDB 11.8 saw an
 * EVENT go on firing after `ALTER EVENT ... DISABLE` had succeeded (its STATUS read ENABLED
 * again a second later, its rows landed in the migrated table after the cut-over): the
 * execution under way wrote the event back as it was. So the EVENTs are dropped, again while
 * any is left, and must be gone, with no session at work, for longer than their one-second
 * period. An error dropping one fails the case (but for one that ended and dropped itself).
 */
async function stopWrites(db: string): Promise<void> {
  const c = await admin(db);
  const events = async () =>
    (
      await c.query<RowDataPacket[]>('SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [db])
    )[0].map((e) => String(e.EVENT_NAME));
  const quiet = async () => {
    // Quiet three times in a row: an event's execution shows no statement for a moment between
    // those of its body.
    for (let i = 0, calm = 0; i < 50 && calm < 3; i++) {
      calm = (await sessionsAtWork(c, db)) === 0 ? calm + 1 : 0;
      await sleep(100);
    }
  };
  try {
    let left = await events();
    if (left.length === 0) return;
    for (let round = 0; ; round++) {
      for (const e of left) {
        await c.query(`DROP EVENT ${escapeId(e)}`).catch((err: { errno?: number }) => {
          if (err.errno !== ER_EVENT_DOES_NOT_EXIST) throw err;
        });
      }
      await quiet();
      await sleep(EVENT_SETTLE_MS);
      left = await events();
      if (left.length === 0 && (await sessionsAtWork(c, db)) === 0) return;
      if (round >= 10) throw new Error(`the EVENTs of ${db} are still there after being dropped: ${left.join(', ')}`);
    }
  } finally {
    await c.end();
  }
}

/** The server's answer to dropping an event that ended (ON COMPLETION NOT PRESERVE drops it). */
const ER_EVENT_DOES_NOT_EXIST = 1539;
/** Longer than the one-second period of the cases' EVENTs. */
const EVENT_SETTLE_MS = 1_500;

async function waitForPostponeOrExit(
  client: Client,
  workflowId: string,
  run: Run,
  deadline: number,
): Promise<MigrationStatus | undefined> {
  let exited = false;
  run.exited.then(() => {
    exited = true;
  });
  while (!exited) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${run.output}`);
    try {
      const s = await client.workflow.getHandle(workflowId).query(statusQuery);
      if (s.phase === 'postponed') return s;
    } catch {
      /* not started yet, or between tasks */
    }
    await sleep(300);
  }
  return undefined;
}

/** The first rows where two result sets differ, for the failure message. */
export function firstDifferences(a: string[], b: string[], max = 5): string {
  const lines: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && lines.length < max * 2; i++) {
    if (a[i] === b[i]) continue;
    lines.push(`  row ${i + 1} original: ${a[i] ?? '(none)'}`, `  row ${i + 1} migrated: ${b[i] ?? '(none)'}`);
  }
  return lines.join('\n');
}

export interface RunnerContext {
  client: Client;
  taskQueue: string;
  server: ServerVersion;
}

export async function runCase(c: LocalCase, ctx: RunnerContext): Promise<Verdict> {
  const started = Date.now();
  const verdict = (result: Verdict['result'], reason: string): Verdict => ({
    name: c.name,
    result,
    reason,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  const na = notApplicable(c, ctx.server);
  if (na) return verdict('n/a', na);

  const db = databaseFor(c);
  // One a pass: the passes run side by side on one machine, and a case's flag file removed by
  // one pass released the same case's cut-over in another (its writes then went on after it).
  const flagFile = join(tmpdir(), `revenant-lt-${MYSQL_PORT}-${db}.postpone`);
  const root = await admin();
  let savedSqlMode: string | undefined;
  let run: Run | undefined;
  const TABLE = tableFor(c);
  const workflowId = migrationWorkflowId(SERVER, db, TABLE);
  let load: ChildProcess | undefined;
  try {
    await root.query(`DROP DATABASE IF EXISTS ${escapeId(db)}; CREATE DATABASE ${escapeId(db)}`);
    // gh-ost's cases call MD5(), which MySQL 9.6 removed (an unknown function then resolves to
    // a stored one of the current database): a stand-in of that name, SHA2 cut to MD5's 32 hex
    // digits. revenant itself uses neither.
    if (
      !(await root.query('SELECT MD5(1)').then(
        () => true,
        () => false,
      ))
    ) {
      await root.query(
        `CREATE FUNCTION ${escapeId(db)}.md5(s LONGBLOB) RETURNS CHAR(32) DETERMINISTIC NO SQL RETURN LEFT(SHA2(s, 256), 32)`,
      );
    }
    if (c.sqlMode !== undefined) {
      savedSqlMode = String((await root.query<RowDataPacket[]>('SELECT @@GLOBAL.sql_mode AS m'))[0][0].m);
      await root.query('SET GLOBAL sql_mode = ?', [c.sqlMode]);
    }
    await runScript(db, c.create);
    // gh-ost's cases expect their EVENT to be writing while the migration runs. MySQL's event
    // scheduler can take seconds to run a new event for the first time, longer than a small
    // case's migration lasts: wait (at most 15 s) until each enabled event has run once.
    for (let i = 0; i < 150; i++) {
      const [[{ n }]] = await root.query<RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND STATUS = 'ENABLED' AND LAST_EXECUTED IS NULL",
        [db],
      );
      if (Number(n) === 0) break;
      await sleep(100);
    }
    if (TABLE === 'sbtest1') {
      const prepared = sysbench(db, 'prepare');
      const code = await new Promise((resolve) => prepared.on('exit', resolve));
      if (code !== 0) return verdict('fail', `sysbench prepare exited ${code}`);
      load = sysbench(db, 'run');
    }
    await runScript(db, c.before);
    const originalCreate = await showCreate(db, TABLE);
    writeFileSync(flagFile, '');

    const extra = c.extraArgs.map((a) => a.replace('/tmp/gh-ost-test.postpone-cutover', flagFile));
    const args = [
      'migrate',
      '--host',
      SERVER.host,
      '--port',
      String(MYSQL_PORT),
      '--user',
      'revenant',
      '--database',
      db,
      '--table',
      TABLE,
      '--alter',
      'engine=innodb',
      '--allow-on-master',
      '--exact-rowcount',
      '--initially-drop-old-table',
      '--initially-drop-ghost-table',
      '--default-retries=3',
      '--chunk-size=10',
      '--copy-start-delay-millis=2000',
      `--postpone-cut-over-flag-file=${flagFile}`,
      '--execute',
      '--checksum',
      ...extra,
    ];
    const deadline = Date.now() + CASE_TIMEOUT_MS;
    run = startRevenant(args, ctx.taskQueue);

    if (c.name === 'gtid-resume') {
      const resumed = await interruptAndResume(ctx, workflowId, run, args, deadline);
      if (typeof resumed === 'string') return verdict('fail', resumed);
      run = resumed;
    }
    const postponed = await waitForPostponeOrExit(ctx.client, workflowId, run, deadline);
    if (postponed) {
      if (c.customProcedure) await customProcedure(c, db);
      if (load) {
        const exited = new Promise((resolve) => load!.once('exit', resolve));
        if (load.kill('SIGKILL')) await exited;
        // The server ends a dead client's sessions (rolling back what they had open) only when it
        // notices: none may still be at work when the cut-over runs.
        await sessionsGone(db);
      }
      if (c.expectFailure === undefined) await stopWrites(db);
      rmSync(flagFile, { force: true });
    }
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      run.exited,
      new Promise<number>((r) => {
        timer = setTimeout(() => r(-1), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (code === -1) return verdict('fail', `timed out after ${CASE_TIMEOUT_MS / 1000}s; output:\n${run.output}`);

    if (c.expectFailure !== undefined) {
      if (code === 0)
        return verdict('fail', `expected a failure (${c.expectFailure || 'any'}), but the migration succeeded`);
      const missing = c.expectFailure
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !run!.output.includes(l));
      if (missing.length)
        return verdict('fail', `exit ${code} without the expected text "${missing[0]}"; output:\n${run.output}`);
      const now = await showCreate(db, TABLE);
      if (withoutAutoIncrement(now) !== withoutAutoIncrement(originalCreate)) {
        return verdict('fail', `the original table changed:\nbefore: ${originalCreate}\nafter: ${now}`);
      }
      return verdict('pass', `failed as expected (exit ${code})`);
    }
    if (code !== 0) return verdict('fail', `exit ${code}; output:\n${run.output}`);
    // A case whose EVENT inserts must have rows: an EVENT that failed on this server (see its
    // error log) would leave nothing to compare, and the case would prove nothing.
    // (An EVENT created `DISABLE ON SLAVE` never runs where it is created: datetime-submillis.)
    const eventInserts =
      /create\s+event[\s\S]*insert\s+into/i.test(c.create) && !/disable\s+on\s+(slave|replica)/i.test(c.create);

    const original = await textRows(db, `SELECT ${c.origColumns} FROM ${escapeId(oldTableName(TABLE))} ${c.orderBy}`);
    const migrated = await textRows(db, `SELECT ${c.ghostColumns} FROM ${escapeId(TABLE)} ${c.orderBy}`);
    if (eventInserts && original.length === 0)
      return verdict('fail', "the case's EVENT wrote no row (see the server's error log): nothing was compared");
    if (original.length !== migrated.length || original.some((r, i) => r !== migrated[i])) {
      return verdict(
        'fail',
        `rows differ (original ${original.length}, migrated ${migrated.length}):\n${firstDifferences(original, migrated)}` +
          `\nthe run's last lines:\n${run.output.split('\n').slice(-15).join('\n')}`,
      );
    }
    if (c.expectTableStructure) {
      const created = (await showCreate(db, TABLE)) ?? '';
      if (!created.includes(c.expectTableStructure))
        return verdict('fail', `SHOW CREATE TABLE lacks "${c.expectTableStructure}":\n${created}`);
    }
    // --checksum ran before the postponed cut-over, while the case's EVENTs were still writing.
    const sum = /revenant: checksum: (.*)/.exec(run.output)?.[1];
    if (!sum) return verdict('fail', `no --checksum outcome in the output:\n${run.output}`);
    return verdict('pass', `${original.length} rows equal; checksum: ${sum}`);
  } catch (e) {
    return verdict('fail', `${(e as Error).stack ?? e}${run ? `\noutput:\n${run.output}` : ''}`);
  } finally {
    if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
    load?.kill('SIGKILL');
    try {
      const h = ctx.client.workflow.getHandle(workflowId);
      if ((await h.describe()).status.name === 'RUNNING') await h.terminate('localtests: case over');
    } catch {
      /* never started */
    }
    rmSync(flagFile, { force: true });
    await runScript(db, c.after).catch(() => {});
    await runScript(db, c.destroy).catch(() => {});
    if (savedSqlMode !== undefined) await root.query('SET GLOBAL sql_mode = ?', [savedSqlMode]).catch(() => {});
    await root.query(`DROP DATABASE IF EXISTS ${escapeId(db)}`).catch(() => {});
    await root.end();
  }
}

/**
 * gtid-resume (gh-ost drives it with a script): the migration dies mid-copy and is run
 * again with --resume, which must carry on from the checkpoint rather than start over.
 * revenant's equivalent of gh-ost dying is its workflow ending (terminated); `--resume`
 * starts a new one that resurrects from the changelog.
 */
async function interruptAndResume(
  ctx: RunnerContext,
  workflowId: string,
  run: Run,
  args: string[],
  deadline: number,
): Promise<Run | string> {
  const handle = ctx.client.workflow.getHandle(workflowId);
  let copied = 0;
  while (copied < 500) {
    if (Date.now() > deadline) return `the copy did not get going; output:\n${run.output}`;
    try {
      // An earlier, completed run of the same id answers until this one starts: only a copying run counts.
      const st = await handle.query(statusQuery);
      if (st.phase === 'migrating') copied = st.rowsCopied;
    } catch {
      /* starting */
    }
    await sleep(200);
  }
  await handle.terminate('localtests gtid-resume: the migration dies mid-copy');
  await run.exited;
  const resumed = startRevenant([...args, '--resume'], ctx.taskQueue);
  let s: MigrationStatus | undefined;
  while (!s) {
    if (Date.now() > deadline) return `the resumed run did not start; output:\n${resumed.output}`;
    try {
      s = await ctx.client.workflow.getHandle(workflowId).query(statusQuery);
    } catch {
      /* starting */
    }
    if (s && (!s.resurrected || s.phase === 'inspecting')) s = undefined;
    await sleep(200);
  }
  // It carries on from the checkpoint (committed with every chunk), not from the first row.
  if (s.rowsCopied < copied)
    return `the resumed run starts at ${s.rowsCopied} rows copied, before the ${copied} the first run had reported`;
  // The case's --nice-ratio=25 keeps the first run slow enough to die mid-copy; the rest of the
  // copy goes at full speed, as an operator would let it (its time at nice 25 grows with the
  // machine's load: 70 s alone, past the case's four minutes with three passes side by side).
  await ctx.client.workflow.getHandle(workflowId).executeUpdate(setUpdate, { args: [{ 'nice-ratio': 0 }] });
  return resumed;
}

/** The equivalents of gh-ost's scripts for its CUSTOM_PROCEDURE cases, run while the cut-over is postponed. */
async function customProcedure(c: LocalCase, db: string): Promise<void> {
  const conn = await admin(db);
  try {
    if (c.name === 'panic-on-warnings-batch-middle') {
      // One transaction whose first row duplicates an email on the new unique index.
      await conn.query(
        "BEGIN; INSERT INTO gh_ost_test (email) VALUES ('alice@example.com'); INSERT INTO gh_ost_test (email) VALUES ('dave@example.com'); COMMIT",
      );
    } else if (c.name === 'panic-on-warnings-update-pk-with-duplicate-on-new-unique-index') {
      // A primary-key change whose new row takes an email another row has.
      await conn.query("UPDATE gh_ost_test SET id = 100, email = 'bob@example.com' WHERE id = 1");
    }
  } finally {
    await conn.end();
  }
}
