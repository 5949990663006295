// Cut-over together: several tables of one server swapped in ONE RENAME, so that no transaction
// ever sees one migrated and another not (a multi-table migration, a fleet's --cut-over
// together on one server). The single table's sentry (cutover.ts) does not stretch to many:
// a RENAME takes its metadata locks one at a time in name order, so it can be queued on only
// one held table at once, and an UNLOCK of all would let writes waiting on the others go first,
// into tables about to be put aside. So each original is locked by a session of its own and
// released only once the RENAME is queued on it, in the RENAME's own order; and the sentry is a
// table at a name that sorts after every other name of the RENAME, one of its targets. While
// the sentry exists the RENAME cannot succeed; it is dropped only when the RENAME holds every
// original. A worker that dies before that leaves the sentry, and its RENAME fails whole.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CutOverTogetherResult } from '../model/activities';
import { changelogTableName, tableNameBase, type MigrationInput, type ServerRef, type TablePlan } from '../model/types';
import { windowPlan } from '../model/revert-window';
import { completeInput } from '../model/migration-input';
import { HINT, readJson } from '../control/changelog';
import { copyCheckpointShape, isBinlogCheckpoint, isMigrationRecord } from '../control/stored-shapes';
import { drainToMarker, lockedMarkerMillis, waitForSmallBacklog } from '../control/catch-up';
import { checkedStoredNames, checkedStoredPlan } from '../control/stored-plan';
import type { CredentialResolver } from '../mysql/credentials';
import { connect } from '../mysql/connection';
import { flavorOf, isMysql, renameQueuedOnTable } from '../mysql/flavor';
import { exec, rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { resolveServers } from '../mysql/topology';
import { createGhostTriggers, dropGhostTriggers } from '../table/ghost-triggers';
import { MigrationMetrics } from '../runtime/metrics';
import { failpoint } from '../runtime/failpoints';
import {
  assertNobodyHolds,
  describeBlocker,
  findBlockers,
  isSentry,
  killBlockers,
  killPendingRenames,
  lockHeld,
  sleep,
  swapDone,
  tableExists,
  waitForRenameBlocked,
} from './cutover';

/** A name of the RENAME, as the server orders its metadata locks: schema, then table, bytewise. */
interface LockName {
  database: string;
  table: string;
  /** What it is to this cut-over. */
  role: 'original' | 'ghost' | 'old' | 'sentry' | 'sentry-source';
}

const lockKey = (n: { database: string; table: string }) => Buffer.from(`${n.database}\0${n.table}\0`);
const byLockOrder = (a: LockName, b: LockName) => Buffer.compare(lockKey(a), lockKey(b));
const same = (a: { database: string; table: string }, b: { database: string; table: string }) =>
  a.database === b.database && a.table === b.table;

/**
 * Where the sentry goes: a name in the last schema that sorts after every name of the RENAME,
 * so that the RENAME reaches it only once it holds every original. '~' sorts after every ASCII
 * letter, digit and '_'; a table whose name sorts after it gives the sentry its own name plus '~'.
 */
export function sentryNames(tables: { database: string; table: string }[]): {
  database: string;
  sentry: string;
  source: string;
} {
  const last = [...tables].sort((a, b) => Buffer.compare(lockKey(a), lockKey(b))).pop();
  if (!last) throw new Error('no tables to cut over');
  const after = (name: string) => Buffer.compare(lockKey({ database: last.database, table: name }), lockKey(last)) > 0;
  const sentry = after('~revenant_sentry') ? '~revenant_sentry' : `${last.table}~`;
  if (!after(sentry) || Buffer.byteLength(sentry) > 64)
    throw ApplicationFailure.nonRetryable(
      `cannot cut over together: no sentry name sorts after ${last.database}.${last.table} within 64 characters`,
      'BadInput',
    );
  return { database: last.database, sentry, source: `${sentry}from` };
}

/** The RENAME of every pair, and the sentry's own pair last (its source put in its place). */
export function renameTogether(
  plans: Pick<TablePlan, 'database' | 'table' | 'ghostTable' | 'oldTable'>[],
  sentry: { database: string; sentry: string; source: string },
): string {
  const pairs = plans.flatMap((p) => sql.swapPairs(p.database, p.table, p.oldTable, p.ghostTable));
  return `RENAME TABLE ${[...pairs, `${sql.qualified(sentry.database, sentry.source)} TO ${sql.qualified(sentry.database, sentry.sentry)}`].join(', ')}`;
}

/** A member's table names from its changelog (checked: they follow from its input), as the window has them. */
async function memberNames(
  c: Conn,
  input: MigrationInput,
  window: number,
): Promise<{ names: SwapNames; stored: TablePlan }> {
  const changelog = { database: input.database, changelogTable: changelogTableName(tableNameBase(input)) };
  const record = await readJson(c, changelog, HINT.migration, isMigrationRecord);
  if (!record)
    throw ApplicationFailure.nonRetryable(
      `${input.database}.${changelog.changelogTable} holds no migration: ${input.table} cannot cut over with the others`,
      'GroupMemberMissing',
    );
  const names = checkedStoredNames(input, record.plan);
  // In an odd window the migrated table has the name, and the original is kept aside.
  const swapped = window % 2 === 1 ? { ...names, ghostTable: names.oldTable, oldTable: names.ghostTable } : names;
  return { names: swapped, stored: record.plan };
}

/** A member's whole plan, checked against its two tables as --resurrect checks it. */
async function memberPlan(c: Conn, input: MigrationInput, stored: TablePlan, window: number): Promise<TablePlan> {
  const tables = window % 2 === 1 ? { original: String(stored.oldTable), migrated: input.table } : undefined;
  const checked = (await checkedStoredPlan(c, input, stored, tables)) as TablePlan;
  return window === 0 ? checked : windowPlan(checked, window);
}

type SwapNames = Pick<TablePlan, 'database' | 'table' | 'ghostTable' | 'oldTable'>;

/** Whether a member's ghost (the kept table, in a window) is in place: 'to-swap', 'swapped', or why neither. */
async function memberState(c: Conn, p: SwapNames): Promise<'to-swap' | 'swapped' | string> {
  if (await swapDone(c, p.database, p.ghostTable, p.oldTable)) return 'swapped';
  if (!(await tableExists(c, p.database, p.ghostTable))) return `${p.database}.${p.ghostTable} is gone`;
  if ((await tableExists(c, p.database, p.oldTable)) && !(await isSentry(c, p.database, p.oldTable)))
    return `${p.database}.${p.oldTable} exists and is not revenant's sentry: drop or rename it`;
  return 'to-swap';
}

export async function cutOverTogether(
  credentials: CredentialResolver,
  members: MigrationInput[],
  window: number,
): Promise<CutOverTogetherResult> {
  const ctx = Context.current();
  // Each member as its own workflow runs it: every default filled, every field checked.
  members = members.map((m) => completeInput(m));
  // (One is possible: the others of its group were altered in place, or failed and were left behind.)
  if (members.length < 1) throw ApplicationFailure.nonRetryable('a cut-over together needs a table', 'BadInput');
  const first = members[0];
  const serverOf = (s: ServerRef) => `${s.host}:${s.port}`;
  const strays = members.filter((m) => serverOf(m.server) !== serverOf(first.server));
  if (strays.length)
    throw ApplicationFailure.nonRetryable(
      `one RENAME swaps the tables of one server: ${strays.map((m) => `${m.database}.${m.table} is on ${serverOf(m.server)}`).join(', ')}, not ${serverOf(first.server)}`,
      'BadInput',
    );
  const lockTimeout = Math.min(...members.map((m) => m.cutOverLockTimeoutSeconds));
  // Where the binlog is read (the server given) and where the tables are written (its master, or itself).
  const inspected = await connect(first.server, credentials);
  let servers: Awaited<ReturnType<typeof resolveServers>>;
  try {
    servers = await resolveServers(inspected, first);
  } catch (e) {
    inspected.destroy();
    throw e;
  }
  if (servers.topology !== 'master' && servers.topology !== 'replica') {
    inspected.destroy();
    throw ApplicationFailure.nonRetryable(
      `a cut-over together swaps the tables on the master: not with --migrate-on-replica or --test-on-replica`,
      'BadInput',
    );
  }
  const server = servers.applier;
  const c = servers.applier === first.server ? inspected : await connect(server, credentials);
  const locks = new Map<string, Conn>();
  let sentryLock: Conn | undefined;
  let b: Conn | undefined;
  try {
    await exec(c, sql.lockWaitTimeout(lockTimeout));
    const found: { names: SwapNames; stored: TablePlan }[] = [];
    for (const m of members) found.push(await memberNames(c, m, window));
    const sentry = sentryNames(found.map(({ names: p }) => ({ database: p.database, table: p.table })));
    const dropSentries = async (conn: Conn) => {
      for (const name of [sentry.sentry, sentry.source]) {
        if ((await tableExists(conn, sentry.database, name)) && (await isSentry(conn, sentry.database, name)))
          await exec(conn, sql.dropTableIfExists(sentry.database, name));
      }
    };
    // A dead attempt's RENAME may still wait: it must never run now.
    for (const { names: p } of found) await killPendingRenames(c, p.database, p.table);
    const states = await Promise.all(found.map(({ names: p }) => memberState(c, p)));
    if (states.every((s) => s === 'swapped')) {
      await dropSentries(c);
      return { alreadySwapped: true };
    }
    const problems = states.map((s, i) => (s === 'to-swap' ? '' : `${found[i].names.table}: ${s}`)).filter(Boolean);
    if (problems.length)
      throw ApplicationFailure.nonRetryable(`cannot cut over together: ${problems.join('; ')}`, 'GroupMixed');
    const plans: TablePlan[] = [];
    for (const [i, m] of members.entries()) plans.push(await memberPlan(c, m, found[i].stored, window));
    // The sentry's names: free, or a dead attempt's sentry (dropped); anything else is not ours to drop.
    for (const n of [sentry.sentry, sentry.source]) {
      if (!(await tableExists(c, sentry.database, n))) continue;
      if (!(await isSentry(c, sentry.database, n)))
        throw ApplicationFailure.nonRetryable(
          `${sentry.database}.${n} exists and is not revenant's sentry: the cut-over together needs the name`,
          'OldTableExists',
        );
      await exec(c, sql.dropTableIfExists(sentry.database, n));
    }
    for (const p of plans) {
      if (await tableExists(c, p.database, p.oldTable)) await exec(c, sql.dropTableIfExists(p.database, p.oldTable));
    }

    // Each member ready: its copy done (window 0), its applier at the server's binlog.
    for (const [i, p] of plans.entries()) {
      if (window === 0) {
        const copy = await readJson(c, p, HINT.copy, copyCheckpointShape(p.copyKey ?? p.key));
        if (!copy?.done)
          throw ApplicationFailure.retryable(
            `${p.database}.${p.table} has not finished its copy: the cut-over together waits`,
            'NotReady',
          );
      } else {
        const cp = await readJson(c, p, HINT.binlog, isBinlogCheckpoint);
        if (cp?.window !== window)
          throw ApplicationFailure.retryable(
            `${p.database}.${p.table}'s revert window ${window} is not open yet`,
            'NotReady',
          );
      }
      await dropGhostTriggers(c, members[i], p);
      await waitForSmallBacklog(c, inspected, p, 60_000);
      new MigrationMetrics(p).cutOverAttempt();
    }

    // The sentry (a target of the RENAME, sorting last) and its source, then one session a lock.
    await exec(c, sql.createSentry(sentry.database, sentry.sentry));
    await exec(c, sql.createSentry(sentry.database, sentry.source));
    for (const p of plans) locks.set(`${p.database}.${p.table}`, await connect(server, credentials));
    sentryLock = await connect(server, credentials);
    b = await connect(server, credentials);
    const sessions = [...locks.values(), sentryLock];
    for (const s of sessions) await exec(s, sql.lockWaitTimeout(lockTimeout));
    const own = [c, b, ...sessions].map((x) => x.threadId);
    const lockOf = (p: { database: string; table: string }) => locks.get(`${p.database}.${p.table}`) as Conn;
    const forceAfter = first.forceCutOverAfterSeconds;
    const forceAt = forceAfter ? ctx.info.scheduledTimestampMs + forceAfter * 1000 : undefined;
    const locked = new Set<string>();
    const locking = Promise.all([
      ...plans.map((p) =>
        exec(lockOf(p), sql.lockTablesWrite(p.database, [p.table])).then(
          () => {
            locked.add(p.table);
            return undefined;
          },
          (e: Error) => `${p.database}.${p.table}: ${e.message}`,
        ),
      ),
      exec(sentryLock, sql.lockTablesWrite(sentry.database, [sentry.sentry])).then(
        () => undefined,
        (e: Error) => `the sentry: ${e.message}`,
      ),
    ]);
    const killed: string[] = [];
    const spared: string[] = [];
    if (forceAt !== undefined && Date.now() + lockTimeout * 500 >= forceAt) {
      const all = await Promise.race([locking.then(() => true), sleep(lockTimeout * 500).then(() => false)]);
      if (!all) {
        for (const [i, p] of plans.entries()) {
          if (locked.has(p.table)) continue;
          const r = await killBlockers(c, members[i], p.database, p.table, own);
          killed.push(...r.killed);
          spared.push(...r.spared);
        }
      }
    }
    const failures = (await locking).filter((x): x is string => !!x);
    if (failures.length) {
      for (const s of sessions) await exec(s, sql.unlockTables()).catch(() => {});
      await dropSentries(c).catch(() => {});
      const held: string[] = [];
      for (const p of plans) {
        const blockers = await findBlockers(c, p.database, p.table, own).catch(() => []);
        if (blockers.length) held.push(`${p.table} held by ${blockers.map(describeBlocker).join('; ')}`);
      }
      const said = [...spared, ...held, ...(killed.length ? [`killed ${killed.join('; ')}`] : [])].join('; ');
      throw ApplicationFailure.retryable(
        `could not lock every table within ${lockTimeout}s (${failures.join('; ')})${said ? `: ${said}` : ''}; will retry`,
        'LockTimeout',
      );
    }

    // Every original is locked: bounded waits only from here on.
    const statement = renameTogether(plans, sentry);
    let renameResult: Promise<Error | null> | undefined;
    try {
      await Promise.all(plans.map((p) => drainToMarker(c, p, lockedMarkerMillis(lockTimeout))));
      for (const [i, p] of plans.entries()) await createGhostTriggers(c, members[i], p);
      const names: LockName[] = [
        ...plans.flatMap((p): LockName[] => [
          { database: p.database, table: p.table, role: 'original' },
          { database: p.database, table: p.ghostTable, role: 'ghost' },
          { database: p.database, table: p.oldTable, role: 'old' },
        ]),
        { database: sentry.database, table: sentry.sentry, role: 'sentry' },
        { database: sentry.database, table: sentry.source, role: 'sentry-source' },
      ];
      names.sort(byLockOrder);
      const before = (n: LockName) => names[names.findIndex((x) => same(x, n)) - 1] as LockName | undefined;
      const flavor = flavorOf(c);
      // MariaDB tells the RENAME's progress by whether it holds the name before the one it
      // waits on; nobody else may hold those (the ghosts) before it is issued.
      if (!isMysql(flavor)) {
        for (const n of names.filter((x) => x.role === 'original' || x.role === 'sentry')) {
          const probe = before(n);
          if (probe?.role === 'ghost') await assertNobodyHolds(c, probe.database, probe.table);
        }
      }
      const [{ id: bId }] = await rows<{ id: number }>(b, sql.connectionId());
      await exec(b, sql.lockWaitTimeout(lockTimeout * 2));
      renameResult = b.query(statement).then(
        () => null,
        (e: Error) => e,
      );
      await waitForRenameBlocked(c, bId, lockTimeout * 1000, renameResult);
      // In the RENAME's order: once it is queued on an original, that original is let go (the
      // RENAME's exclusive lock goes before the writes waiting there); last the sentry.
      for (const n of names.filter((x) => x.role === 'original' || x.role === 'sentry')) {
        await waitForQueued(c, flavor, n, before(n), bId, lockTimeout * 1000, renameResult);
        if (n.role === 'original') {
          await exec(lockOf(n), sql.unlockTables());
          // (The tests' kill: the RENAME holds this original and waits on the next, the sentry in place.)
          await failpoint('cut-over-together:original-let-go');
        }
      }
      // The RENAME holds every original: the sentry goes, and it runs.
      await exec(sentryLock, sql.dropTableIfExists(sentry.database, sentry.sentry));
      await exec(sentryLock, sql.unlockTables());
    } catch (e) {
      // Undo: the RENAME must never run; the originals are let go; nothing was renamed.
      for (const p of plans) await killPendingRenames(c, p.database, p.table);
      await renameResult;
      for (const s of sessions) await exec(s, sql.unlockTables()).catch(() => {});
      await dropSentries(c).catch(() => {});
      for (const [i, p] of plans.entries()) await dropGhostTriggers(c, members[i], p).catch(() => {});
      throw ApplicationFailure.retryable(
        `cut-over together rolled back, every table untouched: ${(e as Error).message}`,
        'CutOverRolledBack',
      );
    }
    const renameError = await renameResult;
    if (renameError) {
      await dropSentries(c).catch(() => {});
      for (const [i, p] of plans.entries()) await dropGhostTriggers(c, members[i], p).catch(() => {});
      throw ApplicationFailure.retryable(
        `RENAME failed, every table untouched: ${renameError.message}`,
        'RenameFailed',
      );
    }
    const renamedAt = Date.now();
    // (The tests' kill: renamed, the sentry's source left under the sentry's name for a retry to drop.)
    await failpoint('cut-over-together:renamed');
    await dropSentries(c);
    ctx.log.info('cut over together in one RENAME', { statement, killed });
    return { alreadySwapped: false, renamedAt, statement, ...(killed.length ? { killed } : {}) };
  } finally {
    for (const s of locks.values()) s.destroy();
    sentryLock?.destroy();
    b?.destroy();
    if (inspected !== c) inspected.destroy();
    c.destroy();
  }
}

/** Until the RENAME waits on `n` (MySQL: its pending lock; MariaDB: it holds the name before `n`). */
async function waitForQueued(
  c: Conn,
  flavor: ReturnType<typeof flavorOf>,
  n: LockName,
  probe: LockName | undefined,
  renameId: number,
  timeoutMs: number,
  renameResult: Promise<unknown>,
): Promise<void> {
  let ended = false;
  void renameResult.then(() => {
    ended = true;
  });
  const deadline = Date.now() + timeoutMs;
  const mysqlCheck = renameQueuedOnTable(flavor, n.database, n.table, renameId);
  for (;;) {
    Context.current().heartbeat(`RENAME queued on ${n.database}.${n.table}?`);
    if (ended) throw new Error(`RENAME ended before it was queued on ${n.database}.${n.table}`);
    if (mysqlCheck) {
      const [r] = await rows<{ n: number }>(c, mysqlCheck);
      if (Number(r.n) > 0) return;
    } else if (!probe) {
      // Nothing sorts before it: it is the RENAME's first lock, and the RENAME waits.
      return;
    } else if (await lockHeld(c, probe.database, probe.table)) {
      await sleep(20);
      return;
    }
    if (Date.now() > deadline)
      throw new Error(`RENAME was not seen queued on ${n.database}.${n.table} within ${timeoutMs} ms`);
    await sleep(2);
  }
}
