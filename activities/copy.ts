// Row copy: walks the shared unique key in chunks, INSERT IGNORE … SELECT … LOCK IN SHARE
// MODE, and commits each chunk together with its checkpoint in the changelog. The checkpoint
// only moves forward from the value this attempt read (compare-and-set), so a retried or a
// stale attempt can never commit a chunk twice; a retry reads the checkpoint and goes on
// from the next key: no chunk is copied twice, none is skipped.
import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CopyProgress, MigrationInput, TablePlan } from '../workflows/types';
import { advance, HINT, readStored, SupersededError, type CopyCheckpoint, type Stored } from './changelog';
import type { CredentialResolver } from './credentials';
import { decodeKey, encodeKey, keyOf, sameKey } from './keys';
import { connect, describeWarnings, exec, retryDelay, rows, type Conn, type Warning } from './mysql';
import { DEFAULTS } from '../workflows/types';
import { ProgressReporter, type ProgressSink } from './progress';
import * as sql from './sql';
import { ControlReader } from './control';
import { MigrationMetrics } from './metrics';
import { applierOf } from './topology';
import { checkPanicFlag } from './throttler';
import { parseThresholds } from '../workflows/settings';
import { exceeded } from './throttler';

const LOAD_CHECK_INTERVAL_MS = 1000;

export async function copyRows(credentials: CredentialResolver, sink: ProgressSink | undefined,
  input: MigrationInput, plan: TablePlan): Promise<CopyProgress> {
  const ctx = Context.current();
  const reporter = ProgressReporter.forCurrentActivity(sink);
  // The copy walks the original's unique key; `plan.key` may extend it (see TablePlan).
  const applyKey = plan.key.columns.map((k) => ({ source: k, ghost: plan.columns.find((c) => c.source === k)!.ghost }));
  plan = { ...plan, key: plan.copyKey ?? plan.key };
  const conn = await connect(applierOf(input, plan), credentials);
  let control: ControlReader | undefined;
  try {
    await exec(conn, sql.ghostWriterSession());
    let cp = await readStored<CopyCheckpoint>(conn, plan, HINT.copy);
    if (!cp) throw ApplicationFailure.nonRetryable(`no copy checkpoint in ${plan.changelogTable}: the migration was not prepared`);
    const metrics = new MigrationMetrics(plan);
    control = new ControlReader(conn, plan, input, reporter, 'copy', metrics, credentials);
    let chunkSize = input.chunkSize;
    const progress = (): CopyProgress => ({ rowsCopied: cp!.value.rowsCopied, chunksCopied: cp!.value.chunksCopied, done: cp!.value.done, chunkSize });
    if (ctx.info.attempt > 1 || cp.value.chunksCopied > 0) {
      // Resuming: the changelog's checkpoint is committed with the last chunk, so the next
      // chunk starts right after it. Nothing committed is redone.
      const beat = ctx.info.heartbeatDetails as CopyCheckpoint | undefined;
      reporter.report({ kind: 'resume', phase: 'copy', attempt: ctx.info.attempt, redone: 0,
        checkpoint: `chunk ${cp.value.chunksCopied} committed (last heartbeat: chunk ${beat?.chunksCopied ?? 'none'})` });
    }
    if (cp.value.done) return progress();

    if (cp.value.min === null || cp.value.max === null) {
      // The key range, read once and kept: rows inserted later reach the ghost via the binlog.
      const [min] = await rows(conn, sql.keyExtreme(plan.database, plan.table, plan.key, 'ASC'));
      const [max] = await rows(conn, sql.keyExtreme(plan.database, plan.table, plan.key, 'DESC'));
      const next = { ...cp.value, min: min ? encodeKey(keyOf(min, plan.key.columns)) : null, max: max ? encodeKey(keyOf(max, plan.key.columns)) : null, done: !min };
      const { statement, next: stored } = advance(plan, HINT.copy, cp, next);
      if ((await exec(conn, statement)).affectedRows !== 1) throw new SupersededError('copy');
      cp = stored;
      if (cp.value.done) return progress();
    }

    if (input.copyStartDelayMillis && cp.value.chunksCopied === 0) await ctx.sleep(input.copyStartDelayMillis);

    let lastLoadCheck = 0;
    let adaptive = input.chunkSize;
    let settingsVersion = -1;
    while (!cp.value.done) {
      ctx.heartbeat(cp.value);
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
      checkPanicFlag(input);
      const settings = await control.current();
      if (settings.criticalLoad && Date.now() - lastLoadCheck >= LOAD_CHECK_INTERVAL_MS) {
        lastLoadCheck = Date.now();
        await checkCriticalLoad(conn, parseThresholds(settings.criticalLoad, '--critical-load'), input.criticalLoadIntervalMillis ?? 0);
      }
      await control.waitWhileThrottled(cp.value);
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
      const started = Date.now();
      // A change of settings starts the adaptive size again from the operator's chunk size.
      if (settings.version !== settingsVersion) { adaptive = settings.chunkSize; settingsVersion = settings.version; }
      const target = settings.chunkTargetMillis ?? 0;
      chunkSize = target > 0 ? adaptive : settings.chunkSize;
      const before = cp.value.rowsCopied;
      cp = await copyNextChunk(conn, chunkSize, plan, cp, input, applyKey);
      if (target > 0) adaptive = nextChunkSize(chunkSize, Date.now() - started, target);
      metrics.rowsCopied(cp.value.rowsCopied - before);
      reporter.maybeReport(() => ({ kind: 'copy', copy: progress() }));
      if (settings.niceRatio) await ctx.sleep(Math.round((Date.now() - started) * settings.niceRatio));
    }
    reporter.maybeReport(() => ({ kind: 'copy', copy: progress() }), true);
    return progress();
  } catch (e) {
    if (e instanceof SupersededError) throw ApplicationFailure.retryable(e.message, 'Superseded');
    throw e;
  } finally {
    control?.close();
    conn.destroy();
  }
}

/** The largest chunk an adaptive copy grows to. */
export const MAX_ADAPTIVE_CHUNK = 100_000;

/**
 * The next chunk's size for a chunk of `size` rows that took `elapsedMs`, aiming at
 * `targetMs` a chunk (Spirit's target chunk time): at most twice or half the last, so one
 * slow or fast chunk (a lock wait, a cached range) does not swing it, between 10 rows and
 * MAX_ADAPTIVE_CHUNK.
 */
export function nextChunkSize(size: number, elapsedMs: number, targetMs: number): number {
  const factor = Math.min(2, Math.max(0.5, targetMs / Math.max(1, elapsedMs)));
  return Math.min(MAX_ADAPTIVE_CHUNK, Math.max(10, Math.round(size * factor)));
}

/** gh-ost's critical-load: confirmed after interval-millis, then the copy stops for the workflow to hibernate. */
async function checkCriticalLoad(conn: Conn, thresholds: Map<string, number>, confirmAfterMs: number): Promise<void> {
  let reason = await exceeded(conn, thresholds);
  if (reason && confirmAfterMs > 0) {
    await Context.current().sleep(confirmAfterMs);
    reason = await exceeded(conn, thresholds);
  }
  if (reason) throw ApplicationFailure.nonRetryable(`critical load reached: ${reason}`, 'CriticalLoad', reason);
}

/**
 * Copies one chunk and commits its checkpoint in the same transaction. Lock contention is
 * retried here; an error of the statement itself (e.g. a value the ghost's column refuses)
 * is tried --default-retries times, then fails the migration with the server's message.
 */
async function copyNextChunk(conn: Conn, chunkSize: number, plan: TablePlan, cp: Stored<CopyCheckpoint>, input: MigrationInput,
  applyKey: { source: string; ghost: string }[]): Promise<Stored<CopyCheckpoint>> {
  const c = cp.value;
  const first = c.lastKey === null;
  const from = decodeKey(plan.key, first ? c.min! : c.lastKey!);
  const max = decodeKey(plan.key, c.max!);
  const [end] = await rows(conn, sql.chunkEnd(plan.database, plan.table, plan.key, from, first, max, chunkSize));
  const to = end ? encodeKey(keyOf(end, plan.key.columns)) : c.max!;
  const last = sameKey(to, c.max!);

  for (let attempt = 1; ; attempt++) {
    try {
      await conn.query('START TRANSACTION');
      const r = await exec(conn, sql.copyChunk(plan.database, plan.table, plan.ghostTable, plan.key, plan.columns,
        from, first, decodeKey(plan.key, to)));
      if (input.panicOnWarnings && r.warningStatus > 0) {
        const missing = sql.chunkRowsMissingInGhost(plan.database, plan.table, plan.ghostTable, plan.key, applyKey, from, first, decodeKey(plan.key, to));
        await panicOnCopyWarnings(conn, missing, c.chunksCopied + 1);
      }
      const { statement, next } = advance(plan, HINT.copy, cp, {
        ...c, from: c.lastKey, lastKey: to, rowsCopied: c.rowsCopied + r.affectedRows, chunksCopied: c.chunksCopied + 1, done: last,
      });
      if ((await exec(conn, statement)).affectedRows !== 1) throw new SupersededError('copy');
      await conn.query('COMMIT');
      return next;
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => {});
      const wait = retryDelay(e, attempt, { defaultRetries: input.defaultRetries ?? DEFAULTS.defaultRetries, lockBackoffMs: 100, what: `copying chunk ${c.chunksCopied + 1}` });
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * --panic-on-warnings: a chunk whose copy warned fails the migration, unless the warnings are
 * only duplicates of rows the ghost holds already (the applier got there first).
 */
async function panicOnCopyWarnings(conn: Conn, missing: sql.Statement, chunk: number): Promise<void> {
  const warnings = await rows<Warning>(conn, sql.showWarnings());
  const others = warnings.filter((w) => w.Code !== 1062);
  if (others.length === 0 && Number((await rows(conn, missing))[0].n) === 0) return;
  await conn.query('ROLLBACK');
  throw ApplicationFailure.nonRetryable(`warnings detected in the row copy (chunk ${chunk}): ${describeWarnings(warnings)}`, 'PanicOnWarnings');
}
