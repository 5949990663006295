// Row copy: walks the shared unique key in chunks, INSERT IGNORE … SELECT … LOCK IN SHARE
// MODE, with --copy-threads copiers at once. Ranges are claimed in key order, one at a time;
// each copier copies its range and commits it together with the checkpoint in one
// transaction. Commits take turns (one at a time, in this process) and each advances the
// checkpoint by compare-and-set from the version this attempt last wrote, so a stale attempt
// can never commit a chunk. The checkpoint holds the low watermark and the ranges claimed
// beyond it (chunks.ts): a retry redoes exactly the claimed ranges that never committed and
// goes on after them. No chunk is copied twice, none is skipped.
import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CopyProgress, LongRunTerms, MigrationInput, TablePlan } from '../model/types';
import { advance, HINT, readStored, SupersededError, type CopyCheckpoint } from '../control/changelog';
import { copyCheckpointShape } from '../control/stored-shapes';
import { ChunkWindow, chunkEndByArithmetic, denseIntegerKey, nextChunkSize, type ClaimedChunk } from '../table/chunks';
import type { CredentialResolver } from '../mysql/credentials';
import { decodeKey, type EncodedKey, encodeKey, keyOf, sameKey } from '../table/keys';
import { connect } from '../mysql/connection';
import { describeMysqlError, describeWarnings, retryDelay, type Warning } from '../mysql/errors';
import { exec, rows, type Conn } from '../mysql/query';
import { DEFAULTS, writtenColumns } from '../model/types';
import { HandBack } from '../runtime/hand-back';
import { ProgressReporter, type ProgressSink } from '../runtime/progress';
import * as sql from '../mysql/statements';
import { ControlReader, type WorkerServices } from '../control/live-settings';
import { MigrationMetrics } from '../runtime/metrics';
import { applierOf } from '../mysql/topology';
import { checkPanicFlag } from '../control/throttler';
import { MAX_COPY_THREADS, parseThresholds, type Control } from '../model/settings';
import { exceeded } from '../control/throttler';
import { sleep } from '../runtime/sleep';
import { ghostColumnOf } from '../binlog/row-events';

/** A chunk that takes this long, its range's claim included, is logged (with its keys): where a copy slows, and why, is findable. */
const SLOW_CHUNK_MS = 500;

const LOAD_CHECK_INTERVAL_MS = 1000;

/** A claimed range as messages and logs name it: `["after"]..["to"]`. */
const chunkKeys = (chunk: ClaimedChunk) => `${JSON.stringify(chunk.after)}..${JSON.stringify(chunk.to)}`;

/** One at a time: claims walk the key in order, commits advance the checkpoint in turn. */
class Turn {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const r = this.tail.then(f);
    this.tail = r.catch(() => {});
    return r;
  }
}

export async function copyRows(
  credentials: CredentialResolver,
  sink: ProgressSink | undefined,
  input: MigrationInput,
  plan: TablePlan,
  services: WorkerServices = {},
  terms?: LongRunTerms,
): Promise<CopyProgress> {
  const ctx = Context.current();
  const handBack = new HandBack(terms);
  const reporter = ProgressReporter.forCurrentActivity(sink);
  // The copy walks the original's unique key; `plan.key` may extend it (see TablePlan).
  const applyKey = plan.key.columns.map((k) => ({ source: k, ghost: ghostColumnOf(plan.columns, k) }));
  plan = { ...plan, key: plan.copyKey ?? plan.key };
  const server = applierOf(input, plan);
  // `conn` reads the settings and checks the load; each copier has a connection of its own.
  const conn = await connect(server, credentials);
  const copiers: Conn[] = [];
  let control: ControlReader | undefined;
  let counter: Conn | undefined;
  let ended = false;
  try {
    const found = await readStored(conn, plan, HINT.copy, copyCheckpointShape(plan.key));
    if (!found)
      throw ApplicationFailure.nonRetryable(
        `no copy checkpoint in ${plan.changelogTable}: the migration was not prepared`,
      );
    let cp = found;
    const metrics = new MigrationMetrics(plan);
    const reader = new ControlReader(conn, plan, input, reporter, 'copy', metrics, credentials, services);
    control = reader;
    let chunkSize = input.chunkSize;
    let rowsCounted: number | undefined;
    const progress = (): CopyProgress => ({
      rowsCopied: cp.value.rowsCopied,
      chunksCopied: cp.value.chunksCopied,
      done: cp.value.done,
      chunkSize,
      ...(rowsCounted !== undefined ? { rowsCounted } : {}),
      pacePercent: reader.copyDutyPercent,
    });
    control.progress = () => ({ copy: progress() });
    if ((ctx.info.attempt > 1 || cp.value.chunksCopied > 0) && !handBack.followsHandBack) {
      // Resuming: the changelog's checkpoint is committed with each chunk; the ranges claimed
      // and not committed are copied again (they were rolled back), nothing committed is.
      const beat = ctx.info.heartbeatDetails as CopyCheckpoint | undefined;
      const unfinished = (cp.value.claimed ?? []).filter((c) => !c.done).length;
      reporter.report({
        kind: 'resume',
        phase: 'copy',
        attempt: ctx.info.attempt,
        redone: 0,
        checkpoint:
          `chunk ${cp.value.chunksCopied} committed (last heartbeat: chunk ${beat?.chunksCopied ?? 'none'})` +
          (unfinished ? `; ${unfinished} claimed range(s) not committed, copied again` : ''),
      });
    }
    if (cp.value.done) return progress();

    if (input.exactRowcount && input.concurrentRowcount !== false && cp.value.chunksCopied === 0) {
      // --exact-rowcount with gh-ost's --concurrent-rowcount (its default): counted on a
      // connection of its own while the copy starts; the estimate is corrected when it ends.
      // Once, as gh-ost does: not again when the copy goes on after a retry, a hand-back or a
      // renewal (a full scan of the table each time). One cut short by a kill before the first
      // chunk is counted again; later, the estimate stays.
      void (async () => {
        const c = await connect(server, credentials);
        if (ended) return c.destroy();
        counter = c;
        const [r] = await rows(c, sql.exactRowCount(plan.database, plan.table));
        rowsCounted = Number(r.n);
        reporter.maybeReport(() => ({ kind: 'copy', copy: progress() }), true);
      })().catch(() => {
        /* the estimate stays: the copy does not depend on it */
      });
    }
    await exec(conn, sql.ghostWriterSession(input));
    if (cp.value.min === null || cp.value.max === null) {
      // The key range, read once and kept: rows inserted later reach the ghost via the binlog.
      const [min] = await rows(conn, sql.keyExtreme(plan.database, plan.table, plan.key, 'ASC'));
      const [max] = await rows(conn, sql.keyExtreme(plan.database, plan.table, plan.key, 'DESC'));
      const next = {
        ...cp.value,
        min: min ? encodeKey(keyOf(min, plan.key.columns)) : null,
        max: max ? encodeKey(keyOf(max, plan.key.columns)) : null,
        done: !min,
      };
      const { statement, next: stored } = advance(plan, HINT.copy, cp, next);
      if ((await exec(conn, statement)).affectedRows !== 1) throw new SupersededError('copy');
      cp = stored;
      if (cp.value.done) return progress();
    }

    if (input.copyStartDelayMillis && cp.value.chunksCopied === 0) await sleep(input.copyStartDelayMillis);

    // The ghost's unique keys other than the one rows are applied by: where the copy can find
    // a row's place taken (see checkCopyWarnings).
    const uniqueKeys = await ghostUniqueKeys(conn, plan, applyKey);

    const range = keyRange(cp.value);
    const window = new ChunkWindow(cp.value);
    // A dense integer key's ranges end by arithmetic; any other's where the size-th row is.
    const byArithmetic = denseKeyBounds(plan, range);
    const claims = new Turn();
    const commits = new Turn();
    let failure: unknown;
    let lastLoadCheck = 0;
    let adaptive = input.chunkSize;
    let settingsVersion = -1;
    let growCopiers: (wanted: number) => Promise<void> = async () => {};
    // Each copier ends its chunk, committed, before it stops.
    const stopping = () => failure !== undefined || ctx.cancellationSignal.aborted || handBack.due;

    /** Settings in force, with the checks every chunk passes first (panic flag, critical load, throttling). */
    const beforeChunk = async (): Promise<Control> => {
      ctx.heartbeat(cp.value);
      checkPanicFlag(input);
      const settings = await reader.current();
      if (settings.criticalLoad && Date.now() - lastLoadCheck >= LOAD_CHECK_INTERVAL_MS) {
        lastLoadCheck = Date.now();
        await checkCriticalLoad(
          conn,
          parseThresholds(settings.criticalLoad, '--critical-load'),
          input.criticalLoadIntervalMillis ?? 0,
        );
      }
      await reader.waitWhileThrottled(cp.value, () =>
        reporter.maybeReport(() => ({ kind: 'copy', copy: progress() }), false, String(cp.value.rowsCopied)),
      );
      // A change of settings starts the adaptive size again from the operator's chunk size.
      if (settings.version !== settingsVersion) {
        adaptive = settings.chunkSize;
        settingsVersion = settings.version;
      }
      return settings;
    };

    /** The next range to copy: one an earlier attempt left unfinished, else the next from the cursor. */
    const claim = (copier: Conn, size: number) =>
      claims.run(async (): Promise<ClaimedChunk | undefined> => {
        const unfinished = window.takeUnfinished();
        if (unfinished || window.exhausted) return unfinished;
        const after = window.cursor;
        if (byArithmetic) {
          const { min, max } = byArithmetic;
          const cursor = after === null ? null : (decodeKey(plan.key, after)[0] as bigint);
          const end = chunkEndByArithmetic(cursor, min, max, size);
          // The last range ends on the max as the checkpoint holds it (an INT reads as a number,
          // a BIGINT as a string): that is what tells the copy it is done.
          return window.claim(end === max ? range.max : encodeKey([end]));
        }
        const from = decodeKey(plan.key, after ?? range.min);
        const [end] = await rows(
          copier,
          sql.chunkEnd(plan.database, plan.table, plan.key, from, after === null, decodeKey(plan.key, range.max), size),
        );
        return window.claim(end ? encodeKey(keyOf(end, plan.key.columns)) : range.max);
      });

    /** Commits the open transaction of `chunk` with the checkpoint that records it. */
    const commit = (copier: Conn, chunk: ClaimedChunk, copied: number) =>
      commits.run(async () => {
        const c = cp.value;
        const moved = window.afterCommitting(chunk);
        const done = moved.claimed.length === 0 && moved.lastKey !== null && sameKey(moved.lastKey, range.max);
        const { statement, next } = advance(plan, HINT.copy, cp, {
          ...c,
          ...moved,
          chunk: { after: chunk.after, to: chunk.to },
          rowsCopied: c.rowsCopied + copied,
          chunksCopied: c.chunksCopied + 1,
          done,
        });
        if ((await exec(copier, statement)).affectedRows !== 1) throw new SupersededError('copy');
        await copier.query('COMMIT');
        window.committed(chunk);
        cp = next;
      });

    const copier = async (index: number, copierConn: Conn): Promise<void> => {
      while (!stopping() && !window.drained) {
        const settings = await beforeChunk();
        if (stopping()) return;
        // A copier beyond the threads in force waits (the operator may raise them again).
        const threads = settings.copyThreads ?? DEFAULTS.copyThreads;
        if (index === 0 && threads > copiers.length) await growCopiers(threads);
        if (index >= threads) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const target = settings.chunkTargetMillis ?? 0;
        chunkSize = target > 0 ? adaptive : settings.chunkSize;
        const claiming = Date.now();
        const chunk = await claim(copierConn, chunkSize);
        if (!chunk) return;
        const started = Date.now();
        const copied = await copyChunk(copierConn, chunk, plan, cp.value, input, applyKey, commit, uniqueKeys);
        const [claimMs, tookMs] = [started - claiming, Date.now() - started];
        if (claimMs + tookMs >= SLOW_CHUNK_MS)
          ctx.log.info('slow chunk', { keys: chunkKeys(chunk), rows: copied, ms: tookMs, claimMs });
        if (target > 0) adaptive = nextChunkSize(chunkSize, tookMs, target);
        metrics.rowsCopied(copied);
        reporter.maybeReport(() => ({ kind: 'copy', copy: progress() }));
        // gh-ost's nice ratio, and the pace the applier's lag sets (copy-pacer.ts), whichever rests longer.
        const rest = Math.max(Math.round(tookMs * (settings.niceRatio ?? 0)), await reader.restAfterChunk(tookMs));
        if (rest > 0) await sleep(rest);
      }
    };

    // Copiers start with the threads in force and are added when the operator raises them.
    const running: Promise<void>[] = [];
    let adding: Promise<void> | undefined;
    const addCopiers = (wanted: number): Promise<void> =>
      (adding ??= (async () => {
        while (copiers.length < Math.min(wanted, MAX_COPY_THREADS) && !stopping()) {
          const c = await connect(server, credentials);
          copiers.push(c);
          await exec(c, sql.ghostWriterSession(input));
          running.push(
            copier(copiers.length - 1, c).catch((e) => {
              failure ??= e;
            }),
          );
        }
      })().finally(() => {
        adding = undefined;
      }));
    growCopiers = addCopiers;
    await addCopiers(Math.max(1, (await control.current()).copyThreads ?? input.copyThreads ?? DEFAULTS.copyThreads));
    for (let seen = 0; seen < running.length; seen = running.length) await Promise.all(running);
    if (failure !== undefined) throw failure;
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
    if (handBack.due && !cp.value.done) {
      ctx.log.info(`copy hands back at chunk ${cp.value.chunksCopied}: to go on at attempt 1`);
      return { ...progress(), handedBack: true };
    }
    if (!cp.value.done)
      throw new Error(
        `copy ended short of the key range's end (watermark ${JSON.stringify(cp.value.lastKey)}, max ${JSON.stringify(cp.value.max)})`,
      );
    reporter.maybeReport(() => ({ kind: 'copy', copy: progress() }), true);
    return progress();
  } catch (e) {
    if (e instanceof SupersededError) throw ApplicationFailure.retryable(e.message, 'Superseded');
    throw e;
  } finally {
    ended = true;
    control?.close();
    conn.destroy();
    counter?.destroy();
    for (const c of copiers) c.destroy();
  }
}

/** gh-ost's critical-load: confirmed after interval-millis, then the copy stops for the workflow to hibernate. */
async function checkCriticalLoad(conn: Conn, thresholds: Map<string, number>, confirmAfterMs: number): Promise<void> {
  let reason = await exceeded(conn, thresholds);
  if (reason && confirmAfterMs > 0) {
    await sleep(confirmAfterMs);
    reason = await exceeded(conn, thresholds);
  }
  if (reason) throw ApplicationFailure.nonRetryable(`critical load reached: ${reason}`, 'CriticalLoad', reason);
}

/**
 * Copies one claimed range and commits it with its checkpoint (through `commit`). Lock
 * contention is retried here; an error of the statement itself (e.g. a value the ghost's
 * column refuses) is tried --default-retries times, then fails the migration with the
 * server's message. Returns the rows inserted.
 */
async function copyChunk(
  conn: Conn,
  chunk: ClaimedChunk,
  plan: TablePlan,
  c: CopyCheckpoint,
  input: MigrationInput,
  applyKey: { source: string; ghost: string }[],
  commit: (conn: Conn, chunk: ClaimedChunk, copied: number) => Promise<void>,
  uniqueKeys: sql.GhostUniqueKey[],
): Promise<number> {
  const first = chunk.after === null;
  const from = decodeKey(plan.key, chunk.after ?? keyRange(c).min);
  const to = decodeKey(plan.key, chunk.to);
  for (let attempt = 1; ; attempt++) {
    try {
      await conn.query('START TRANSACTION');
      const r = await exec(
        conn,
        sql.copyChunk(
          plan.database,
          plan.table,
          plan.ghostTable,
          plan.key,
          writtenColumns(plan.columns),
          from,
          first,
          to,
        ),
      );
      if (r.warningStatus > 0)
        await checkCopyWarnings(conn, plan, input, applyKey, uniqueKeys, { from, first, to, label: chunkKeys(chunk) });
      await commit(conn, chunk, r.affectedRows);
      return r.affectedRows;
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => {});
      if (e instanceof SupersededError) throw e;
      const wait = retryDelay(e, attempt, {
        defaultRetries: input.defaultRetries ?? DEFAULTS.defaultRetries,
        lockBackoffMs: 100,
        what: `copying keys ${chunkKeys(chunk)}`,
      });
      // Alive while it retries: without a heartbeat the server would time this attempt out and
      // start another, and the failure the tries end with would reach nobody.
      Context.current().heartbeat(c);
      Context.current().log.warn('chunk retried', {
        keys: chunkKeys(chunk),
        attempt,
        waitMs: wait,
        error: describeMysqlError(e),
      });
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * A chunk whose copy warned. A duplicate is benign unless the row it left out is displaced by
 * a current row (see below). Anything else is data the ALTER loses: a row with no place
 * under a new unique key, a value truncated or converted.
 * That fails the migration before the cut-over, naming example rows, unless the user accepted
 * it (--allow-data-loss); --panic-on-warnings (gh-ost's) fails on any such warning regardless.
 */
async function checkCopyWarnings(
  conn: Conn,
  plan: TablePlan,
  input: MigrationInput,
  applyKey: { source: string; ghost: string }[],
  uniqueKeys: sql.GhostUniqueKey[],
  chunk: { from: unknown[]; first: boolean; to: unknown[]; label: string },
): Promise<void> {
  const warnings = await rows<Warning>(conn, sql.showWarnings());
  const others = warnings.filter((w) => w.Code !== 1062);
  const range = { from: chunk.from, fromInclusive: chunk.first, to: chunk.to };
  // A row left out is lost only if the ghost row in its place is current: the original holds
  // that row too, with the same unique values. A stale one (its row has since moved to
  // another key, or changed the value) is for the applier to move, and the row it displaced
  // arrives through the binlog, as gh-ost's copy and applier always meet.
  const missing = input.panicOnWarnings
    ? Number(
        (
          await rows(
            conn,
            sql.chunkRowsMissingInGhost(
              plan.database,
              plan.table,
              plan.ghostTable,
              plan.key,
              applyKey,
              chunk.from,
              chunk.first,
              chunk.to,
            ),
          )
        )[0].n,
      )
    : Number(
        (
          await rows(
            conn,
            sql.rowsDisplacedByCurrentRows(
              plan.database,
              plan.table,
              plan.ghostTable,
              plan.key,
              applyKey,
              uniqueKeys,
              range,
            ),
          )
        )[0].n,
      );
  if (others.length === 0 && missing === 0) return;
  if (input.allowDataLoss && !input.panicOnWarnings) return;
  const examples = await lossExamples(conn, plan, applyKey, uniqueKeys, chunk, others, missing);
  await conn.query('ROLLBACK');
  if (input.panicOnWarnings) {
    throw ApplicationFailure.nonRetryable(
      `warnings detected in the row copy (keys ${chunk.label}): ${describeWarnings(warnings)}${examples}`,
      'PanicOnWarnings',
    );
  }
  const failure = ApplicationFailure.nonRetryable(
    `the ALTER loses data: copying keys ${chunk.label} of ${plan.database}.${plan.table} into the ghost ` +
      `${missing ? `left out ${missing} row(s) that a unique key of the new table holds once only` : 'changed values'}` +
      `${others.length ? ` (${describeWarnings(others.slice(0, 3))}${others.length > 3 ? `; ${others.length - 3} more` : ''})` : ''}${examples}. ` +
      `Nothing was cut over: ${plan.table} is unchanged. Rerun with --allow-data-loss to accept the loss`,
    'DataLoss',
  );
  throw failure;
}

/** The ghost's unique keys other than the apply key, each column with its source column where the original has one. */
async function ghostUniqueKeys(
  conn: Conn,
  plan: TablePlan,
  applyKey: { source: string; ghost: string }[],
): Promise<sql.GhostUniqueKey[]> {
  const byName = new Map<string, string[]>();
  for (const r of await rows(conn, sql.uniqueKeysOf(plan.database, plan.ghostTable))) {
    byName.set(String(r.INDEX_NAME), [...(byName.get(String(r.INDEX_NAME)) ?? []), String(r.COLUMN_NAME)]);
  }
  const apply = applyKey.map((k) => k.ghost.toLowerCase()).join(',');
  return [...byName.values()]
    .filter((cols) => cols.map((c) => c.toLowerCase()).join(',') !== apply)
    .map((cols) =>
      cols.map((g) => ({
        ghost: g,
        source: plan.columns.find((c) => c.ghost.toLowerCase() === g.toLowerCase())?.source,
      })),
    );
}

/** "; e.g. id=5: b '…' became '…'": up to three rows the copy lost or changed, read before the chunk rolls back. */
async function lossExamples(
  conn: Conn,
  plan: TablePlan,
  applyKey: { source: string; ghost: string }[],
  uniqueKeys: sql.GhostUniqueKey[],
  chunk: { from: unknown[]; first: boolean; to: unknown[] },
  others: Warning[],
  missing: number,
): Promise<string> {
  const keyText = (r: Record<string, unknown>) =>
    plan.key.columns.map((c) => `${c}=${JSON.stringify(r[c])}`).join(', ');
  const shown: string[] = [];
  try {
    if (missing) {
      const sample = await rows(
        conn,
        sql.rowsDisplacedByCurrentRows(
          plan.database,
          plan.table,
          plan.ghostTable,
          plan.key,
          applyKey,
          uniqueKeys,
          { from: chunk.from, fromInclusive: chunk.first, to: chunk.to },
          3,
        ),
      );
      shown.push(...sample.map((r) => `${keyText(r)} has no place in the new table`));
    }
    for (const w of others.slice(0, 3)) {
      const at = /at row (\d+)/i.exec(w.Message);
      if (!at) continue;
      const col = /column [`']?(?:[^`'.]+[`']?\.[`']?)*([^`'.]+)[`']?\s+at row/i.exec(w.Message)?.[1];
      const source = plan.columns.find((c) => c.ghost.toLowerCase() === col?.toLowerCase());
      const [r] = await rows(
        conn,
        sql.chunkRowAt(
          plan.database,
          plan.table,
          plan.key,
          source?.source ?? null,
          chunk.from,
          chunk.first,
          chunk.to,
          Number(at[1]),
        ),
      );
      if (!r) continue;
      let text = `${keyText(r)}`;
      if (source) {
        const keyValues = plan.key.columns.map((c) => r[c]);
        const ghostKey = plan.key.columns.map((k) => plan.columns.find((c) => c.source === k)?.ghost ?? k);
        const [g] = await rows(
          conn,
          sql.ghostValue(plan.database, plan.ghostTable, ghostKey, keyValues, source.ghost),
        ).catch(() => []);
        text += `: ${source.source} ${JSON.stringify(r.value)}${g ? ` became ${JSON.stringify(g.value)}` : ''}`;
      }
      shown.push(text);
    }
  } catch {
    // Examples are a courtesy: the loss itself is reported whatever happens here.
  }
  return shown.length ? `; e.g. ${shown.slice(0, 3).join('; ')}` : '';
}

/** The key range's bounds as integers, if its key is one dense integer column (table/chunks.ts). */
function denseKeyBounds(
  plan: TablePlan,
  range: { min: EncodedKey; max: EncodedKey },
): { min: bigint; max: bigint } | undefined {
  const { key } = plan;
  if (key.columns.length !== 1 || !key.integer[0] || key.ordinal?.[0]) return undefined;
  const [min] = decodeKey(key, range.min) as bigint[];
  const [max] = decodeKey(key, range.max) as bigint[];
  return denseIntegerKey(min, max, plan.estimatedRows) ? { min, max } : undefined;
}

/** The key range a begun copy read once (its checkpoint holds it from then on). */
function keyRange(c: CopyCheckpoint): { min: EncodedKey; max: EncodedKey } {
  if (c.min === null || c.max === null)
    throw new Error('the copy checkpoint holds no key range: the copy has not begun');
  return { min: c.min, max: c.max };
}
