// Cut-over: gh-ost's atomic swap with a sentry table, which works on MariaDB (where RENAME
// is refused under LOCK TABLES). Session A creates the sentry under the old table's name
// and write-locks the original and the sentry; the applier drains up to a marker written
// after the lock; session B issues the RENAME, which waits on A's lock; A sees B waiting,
// drops the sentry and unlocks, and B's RENAME runs before any queued write. Whatever dies
// when, the original table stays: while the sentry exists no RENAME of it can succeed.
import { drainToMarker, lockedMarkerMillis, waitForLowReplicaLag, waitForSmallBacklog } from '../control/catch-up';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ProgressReporter, type ProgressSink } from '../runtime/progress';
import type { MigrationInput, TablePlan } from '../model/types';
import type { CutOverResult } from '../model/activities';
import type { CredentialResolver } from '../mysql/credentials';
import { settingsInForce, type ControlSource } from '../control/live-settings';
import { connect } from '../mysql/connection';
import { exec, rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import {
  cutOverBlockers,
  flavorOf,
  isMysql,
  metadataLockInfoQuery,
  renameLockProbe,
  renameQueuedOnTable,
  startReplica,
  stopReplica,
  type Flavor,
} from '../mysql/flavor';
import { createGhostTriggers, dropGhostTriggers } from '../table/ghost-triggers';
import { MigrationMetrics } from '../runtime/metrics';
import { applierOf } from '../mysql/topology';

const SENTRY_COMMENT = 'revenant cut-over sentry';

/** The milliseconds each named step took, in order. */
class StepClock {
  private at = Date.now();
  private readonly steps: string[] = [];

  done(step: string): void {
    const now = Date.now();
    this.steps.push(`${step} in ${now - this.at} ms`);
    this.at = now;
  }

  toString(): string {
    return this.steps.join(', ');
  }
}

/** A transaction that modified more rows than this is spared by --force-cut-over-after unless told otherwise. */
export const DEFAULT_FORCE_MAX_ROWS = 1_000_000;

interface Blocker {
  id: number;
  user: string;
  host: string;
  command: string;
  seconds: number;
  query: string | null;
  rowsModified: number | null;
  trxSeconds: number | null;
}

export const describeBlocker = (b: Blocker): string =>
  `session ${b.id} (${b.user}@${b.host}, ${
    b.trxSeconds !== null
      ? `transaction open ${b.trxSeconds} s, ${b.rowsModified ?? 0} rows modified`
      : 'no transaction'
  }, ${b.query ? `running ${b.query.replace(/\s+/g, ' ').slice(0, 80)}` : `${b.command.toLowerCase()} ${b.seconds} s`})`;

/** The sessions that keep the cut-over from locking the original (mysql/flavor.ts says how each server tells). */
export async function findBlockers(c: Conn, db: string, table: string, own: number[]): Promise<Blocker[]> {
  const f = flavorOf(c);
  const mdlInfo = isMysql(f) || Number((await rows(c, metadataLockInfoQuery()))[0]?.n ?? 0) > 0;
  const found = await rows(c, cutOverBlockers(f, db, table, own, mdlInfo));
  return found.map((r) => ({
    id: Number(r.id),
    user: String(r.user),
    host: String(r.host),
    command: String(r.command),
    seconds: Number(r.seconds ?? 0),
    query: r.query === null ? null : String(r.query),
    rowsModified: r.rowsModified === null ? null : Number(r.rowsModified),
    trxSeconds: r.trxSeconds === null ? null : Number(r.trxSeconds),
  }));
}

/**
 * --force-cut-over-after, as Spirit and Vitess do it: while this attempt's LOCK TABLES waits
 * (queued ahead of any newer statement on the table), kill the sessions that hold the table:
 * the connection of one with an open transaction (its locks go with it), the statement of one
 * without. A transaction over the row limit is spared (rolling it back could take as long as it
 * took), unless --force-cut-over-kill-large. Returns what was killed and what was spared.
 */
export async function killBlockers(
  c: Conn,
  input: MigrationInput,
  db: string,
  table: string,
  own: number[],
): Promise<{ killed: string[]; spared: string[] }> {
  const maxRows = input.forceCutOverMaxRows ?? DEFAULT_FORCE_MAX_ROWS;
  const killed: string[] = [];
  const spared: string[] = [];
  for (const b of await findBlockers(c, db, table, own)) {
    if (!input.forceCutOverKillLarge && (b.rowsModified ?? 0) > maxRows) {
      spared.push(
        `${describeBlocker(b)}: spared, more than ${maxRows} rows modified (--force-cut-over-kill-large kills it)`,
      );
      continue;
    }
    try {
      await exec(c, b.trxSeconds !== null ? sql.killConnection(b.id) : sql.killQuery(b.id));
      killed.push(`${b.trxSeconds !== null ? 'KILL' : 'KILL QUERY'} ${describeBlocker(b)}`);
    } catch (e) {
      // Gone already (ER_NO_SUCH_THREAD), or not ours to kill: said, not fatal.
      spared.push(`${describeBlocker(b)}: not killed (${(e as Error).message})`);
    }
  }
  if (killed.length) Context.current().log.warn('cut-over: killed the sessions that blocked it', { killed });
  return { killed, spared };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function tableExists(conn: Conn, db: string, t: string): Promise<boolean> {
  return (await rows(conn, sql.tablesNamed(db, [t]))).length > 0;
}

export async function isSentry(conn: Conn, db: string, t: string): Promise<boolean> {
  const [r] = await rows(conn, sql.tableComment(db, t));
  return !!r && r.TABLE_COMMENT === SENTRY_COMMENT;
}

/** Whether a swap ran: the ghost is gone into the table's place, and the table put aside (not a sentry). */
export async function swapDone(conn: Conn, db: string, ghost: string, old: string): Promise<boolean> {
  return (
    !(await tableExists(conn, db, ghost)) && (await tableExists(conn, db, old)) && !(await isSentry(conn, db, old))
  );
}

export async function cutOver(
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
  controlSource?: ControlSource,
  /** The cut-over window's end (epoch ms): no attempt begins after it. */
  notAfter?: number,
  progress?: ProgressSink,
): Promise<CutOverResult> {
  const { database: db, table, ghostTable: ghost, oldTable: old } = plan;
  const lockTimeout = input.cutOverLockTimeoutSeconds;
  const applier = applierOf(input, plan);
  const c = await connect(applier, credentials);
  const inspected = plan.applier ? await connect(input.server, credentials) : c;
  let a: Conn | undefined;
  let b: Conn | undefined;
  let replicationStopped = false;
  try {
    // Every wait on a table's metadata lock is bounded, on this session too: while the original
    // is locked, a DDL queued on the changelog (a DROP, another tool) would otherwise hold this
    // session's reads behind it, and them the lock, for lock_wait_timeout's default of a year.
    await exec(c, sql.lockWaitTimeout(lockTimeout));
    if (plan.topology === 'test-on-replica') return await swapAndSwapBack(c, input, plan);
    if (input.fleet?.oneRename) return await swappedByGroup(c, plan);
    // A retried attempt may find the swap already done.
    if (await swapDone(c, db, ghost, old)) return { swapped: true, alreadySwapped: true };
    if (!(await tableExists(c, db, ghost))) {
      throw ApplicationFailure.nonRetryable(`ghost table ${db}.${ghost} is gone: cannot cut over`, 'GhostMissing');
    }
    if (notAfter !== undefined && Date.now() >= notAfter) {
      throw ApplicationFailure.nonRetryable(
        `the cut-over window closed at ${new Date(notAfter).toISOString()} before a cut-over could complete: it waits for the next`,
        'CutOverWindowClosed',
      );
    }
    // A sentry left by a dead attempt: first make sure no RENAME of that attempt still waits.
    await killPendingRenames(c, db, table);
    if (await tableExists(c, db, old)) {
      if (!(await isSentry(c, db, old))) {
        throw ApplicationFailure.nonRetryable(
          `${db}.${old} exists and is not revenant's sentry: drop or rename it, then retry`,
          'OldTableExists',
        );
      }
      await exec(c, sql.dropTableIfExists(db, old));
    }

    // Triggers a dead attempt left on the ghost must not fire while the applier goes on.
    await dropGhostTriggers(c, input, plan);
    if (input.analyzeGhostTable) await exec(c, sql.analyzeTable(db, ghost));

    // Each step's time, logged: where a slow cut-over (and the writes it held) spent it.
    const steps = new StepClock();
    await waitForSmallBacklog(c, inspected, plan, 60_000);
    await waitForLowReplicaLag(plan, credentials, input, 60_000, controlSource);
    steps.done('applier caught up');
    new MigrationMetrics(plan).cutOverAttempt();
    if (plan.topology === 'migrate-on-replica') {
      // No replicated write may land while the tables swap; replication resumes right after.
      await exec(c, stopReplica(flavorOf(c)));
      replicationStopped = true;
    }

    // --force-cut-over-after, as the operator last set it.
    const { forceCutOverAfterSeconds: forceAfter } = await settingsInForce(input, controlSource);
    a = await connect(applier, credentials);
    b = await connect(applier, credentials);
    await exec(a, sql.lockWaitTimeout(lockTimeout));
    await exec(a, sql.createSentry(db, old));
    // This attempt's own sessions, never blockers: their ids from the handshake, no query (and
    // none on `a` once its LOCK waits).
    const own = [...new Set([a, b, c, inspected])].map((x) => x.threadId);
    // It counts from the cut-over's first attempt (retries keep its schedule time).
    const forceAt = forceAfter ? Context.current().info.scheduledTimestampMs + forceAfter * 1000 : undefined;
    const locking = exec(a, sql.lockTablesWrite(db, [table, old])).then(
      () => undefined,
      (e: Error) => e,
    );
    let forced: { killed: string[]; spared: string[] } | undefined;
    if (forceAt !== undefined && Date.now() + lockTimeout * 500 >= forceAt) {
      // Half the lock wait in: still waiting, the blockers go, and the queued lock is granted.
      const locked = await Promise.race([locking.then(() => true), sleep(lockTimeout * 500).then(() => false)]);
      if (!locked) forced = await killBlockers(c, input, db, table, own);
    }
    const lockFailure = await locking;
    steps.done('original locked');
    if (lockFailure) {
      await exec(a, sql.dropTableIfExists(db, old)).catch(() => {});
      const blockers = (await findBlockers(c, db, table, own).catch(() => [])).map(describeBlocker);
      const said = [
        ...(forced?.spared ?? []),
        ...(blockers.length ? [`held by ${blockers.join('; ')}`] : []),
        ...(forced?.killed.length ? [`killed ${forced.killed.join('; ')}`] : []),
        ...(forceAt === undefined && blockers.length ? ['--force-cut-over-after would kill them'] : []),
      ].join('; ');
      if (said)
        ProgressReporter.forCurrentActivity(progress).report({ kind: 'cut-over', blockers: said.slice(0, 4000) });
      throw ApplicationFailure.retryable(
        `could not lock ${db}.${table} within ${lockTimeout}s (${lockFailure.message})${said ? `: ${said}` : ''}; will retry`,
        'LockTimeout',
      );
    }

    // From here on the original table is locked: bounded waits only.
    let renameStarted = false;
    let renameResult: Promise<unknown> | undefined;
    try {
      await drainToMarker(c, plan, lockedMarkerMillis(lockTimeout));
      steps.done('applier drained');
      // Every change is in the ghost and the original is locked: the triggers can move now.
      await createGhostTriggers(c, input, plan);

      const [{ id: bId }] = await rows<{ id: number }>(b, sql.connectionId());
      await exec(b, sql.lockWaitTimeout(lockTimeout * 2));
      const flavor = flavorOf(c);
      const probe = renameProbeTable(table, old, ghost);
      // (The sentry is this cut-over's own; the ghost must be nobody's.)
      if (probe && !isMysql(flavor) && sortsBefore(ghost, table)) await assertNobodyHolds(c, db, ghost);
      renameStarted = true;
      renameResult = b.query(sql.swapTables(db, table, old, ghost).sql).then(
        () => null,
        (e: Error) => e,
      );
      await waitForRenameBlocked(c, bId, lockTimeout * 1000, renameResult);
      // The moment of truth: drop the sentry; once the RENAME is queued on the original
      // itself, unlock: B's RENAME goes before any write that waits there.
      await exec(a, sql.dropTableIfExists(db, old));
      await waitForRenameQueuedOnTable(c, flavor, db, table, probe, bId, lockTimeout * 1000, renameResult);
      await exec(a, sql.unlockTables());
      steps.done('rename queued, unlocked');
    } catch (e) {
      // Undo: make sure the RENAME can never run, then release the original table.
      if (renameStarted) {
        await killPendingRenames(c, db, table);
        await renameResult;
      }
      await exec(a, sql.dropTableIfExists(db, old)).catch(() => {});
      await dropGhostTriggers(c, input, plan).catch(() => {});
      await exec(a, sql.unlockTables()).catch(() => {});
      throw ApplicationFailure.retryable(
        `cut-over attempt rolled back, original table untouched: ${(e as Error).message}`,
        'CutOverRolledBack',
      );
    }
    const renameError = await renameResult;
    steps.done('renamed');
    Context.current().log.info(`cut-over of ${db}.${table}: ${steps}`);
    if (renameError) {
      await dropGhostTriggers(c, input, plan).catch(() => {});
      throw ApplicationFailure.retryable(
        `RENAME failed, original table untouched: ${(renameError as Error).message}`,
        'RenameFailed',
      );
    }
    return {
      swapped: true,
      alreadySwapped: false,
      renamedAt: Date.now(),
      ...(forced?.killed.length ? { killed: forced.killed } : {}),
    };
  } finally {
    if (replicationStopped) await exec(c, startReplica(flavorOf(c))).catch(() => {});
    a?.destroy();
    b?.destroy();
    if (inspected !== c) inspected.destroy();
    c.destroy();
  }
}

/**
 * A table of a cut-over together is swapped by its group's one RENAME (cutover-together.ts),
 * never alone: its own cut-over only finds the swap done, or says so.
 */
async function swappedByGroup(c: Conn, plan: TablePlan): Promise<CutOverResult> {
  if (await swapDone(c, plan.database, plan.ghostTable, plan.oldTable)) return { swapped: true, alreadySwapped: true };
  const db = plan.database;
  throw ApplicationFailure.nonRetryable(
    `${db}.${plan.table} is swapped with the other tables of its group in one RENAME, never alone: cut over the group (revenant cut-over --fleet NAME)`,
    'CutOverByGroup',
  );
}

/**
 * gh-ost's --test-on-replica cut-over: replication stops (and stays stopped), the applier
 * drains to a marker, the tables swap and swap back. The replica keeps the original as it
 * was and the migrated copy as the ghost, at the same point, for comparison.
 */
async function swapAndSwapBack(c: Conn, input: MigrationInput, plan: TablePlan): Promise<CutOverResult> {
  const { database: db, table, ghostTable: ghost, oldTable: old } = plan;
  // --test-on-replica-skip-replica-stop: the user's own tooling stops replication (gh-ost's meaning).
  if (!input.testOnReplicaSkipReplicaStop) await exec(c, stopReplica(flavorOf(c)));
  await drainToMarker(c, plan, 60_000);
  await exec(c, sql.lockWaitTimeout(input.cutOverLockTimeoutSeconds));
  await exec(c, sql.swapTables(db, table, old, ghost));
  await exec(c, sql.swapTables(db, table, ghost, old));
  return { swapped: true, alreadySwapped: false };
}

/**
 * Which of the RENAME's other names it takes last before the original's (it takes its locks
 * in name order; see flavor.renameQueuedOnTable); none when the original's name sorts first,
 * and the RENAME queues on it before anything else.
 */
export function renameProbeTable(table: string, old: string, ghost: string): string | undefined {
  return [old, ghost]
    .filter((n) => sortsBefore(n, table))
    .sort((x, y) => (sortsBefore(x, y) ? -1 : 1))
    .pop();
}

/** Byte order of names, as the server orders the metadata locks it takes. */
const sortsBefore = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;

/**
 * MariaDB: whether another session holds a lock on `name` that a read lock waits for: a
 * LOCK TABLES … READ NOWAIT is refused. A name with no table is held by nobody.
 */
export async function lockHeld(conn: Conn, db: string, name: string): Promise<boolean> {
  try {
    await exec(conn, renameLockProbe(db, name));
    return false;
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (['ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_NOWAIT'].includes(code)) return true;
    if (code === 'ER_NO_SUCH_TABLE') return false;
    throw e;
  } finally {
    await exec(conn, sql.unlockTables());
  }
}

/**
 * MariaDB: before the RENAME is issued, no session may hold a lock on the probed name that a
 * read lock waits for (or the probe could not tell the RENAME from it). A read lock, not a
 * write lock: InnoDB's purge takes short shared locks on the tables it cleans up.
 */
export async function assertNobodyHolds(conn: Conn, db: string, name: string): Promise<void> {
  if (!(await lockHeld(conn, db, name))) return;
  const sessions = (await rows(conn, sql.otherSessions()))
    .map((p) => `${p.ID} ${p.COMMAND} ${p.STATE ?? ''} ${p.INFO ?? ''}`.trim())
    .join('; ');
  throw new Error(
    `another session holds a lock on ${db}.${name}: the cut-over waits until it is free (sessions: ${sessions})`,
  );
}

/** Until the RENAME is queued on the original table itself (flavor.renameQueuedOnTable). */
async function waitForRenameQueuedOnTable(
  conn: Conn,
  flavor: Flavor,
  db: string,
  table: string,
  probe: string | undefined,
  renameId: number,
  timeoutMs: number,
  renameResult: Promise<unknown>,
): Promise<void> {
  if (!probe) return;
  let ended = false;
  renameResult.then(() => {
    ended = true;
  });
  const deadline = Date.now() + timeoutMs;
  const mysqlCheck = renameQueuedOnTable(flavor, db, table, renameId);
  for (;;) {
    if (ended) throw new Error('RENAME ended before it was queued on the original table');
    if (mysqlCheck) {
      const [r] = await rows<{ n: number }>(conn, mysqlCheck);
      if (Number(r.n) > 0) return;
    } else if (await lockHeld(conn, db, probe)) {
      // The RENAME holds it; its next step, without a pause, is to queue on the original: a
      // margin for its thread.
      await sleep(20);
      return;
    }
    if (Date.now() > deadline) throw new Error(`RENAME was not seen queued on ${db}.${table} within ${timeoutMs} ms`);
    await sleep(2);
  }
}

export async function waitForRenameBlocked(
  conn: Conn,
  id: number,
  timeoutMs: number,
  renameResult: Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let settled: unknown;
  let done = false;
  renameResult.then((r) => {
    done = true;
    settled = r;
  });
  for (;;) {
    if ((await rows(conn, sql.renameWaiting(id))).length > 0) return;
    if (done)
      throw new Error(
        `RENAME ended before it was seen waiting: ${(settled as Error)?.message ?? 'unexpected success'}`,
      );
    if (Date.now() > deadline) throw new Error(`RENAME was not seen waiting on the table lock within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Kills any session whose statement is a RENAME of the original table. */
export async function killPendingRenames(conn: Conn, db: string, table: string): Promise<void> {
  const ps = await rows(conn, sql.pendingRenames());
  for (const p of ps) {
    if (String(p.INFO).includes(sql.qualified(db, table)))
      await exec(conn, sql.killQuery(Number(p.ID))).catch(() => {});
  }
  for (let i = 0; i < 100; i++) {
    const left = (await rows(conn, sql.pendingRenames())).filter((p) =>
      String(p.INFO).includes(sql.qualified(db, table)),
    );
    if (left.length === 0) return;
    await sleep(20);
  }
}
