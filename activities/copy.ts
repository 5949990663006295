// Row copy: walks the shared unique key in chunks, INSERT IGNORE … SELECT … LOCK IN SHARE
// MODE, and commits each chunk together with its checkpoint in the changelog. A retried
// attempt reads the checkpoint and goes on from the next key: no chunk is copied twice.
import { Context, CancelledFailure } from '@temporalio/activity';
import type { CopyProgress, MigrationInput, TablePlan } from '../workflows/types';
import { HINT, readJson, writeJson, type CopyCheckpoint } from './changelog';
import type { CredentialResolver } from './credentials';
import { decodeKey, encodeKey, keyOf, sameKey } from './keys';
import { connect, exec, mysqlErrorCode, rows, RETRYABLE_LOCK_ERRORS, type Conn } from './mysql';
import { ProgressReporter, type ProgressSink } from './progress';
import * as sql from './sql';

export async function copyRows(credentials: CredentialResolver, sink: ProgressSink | undefined,
  input: MigrationInput, plan: TablePlan): Promise<CopyProgress> {
  const ctx = Context.current();
  const reporter = ProgressReporter.forCurrentActivity(sink);
  const conn = await connect(input.server, credentials);
  try {
    await exec(conn, sql.ghostWriterSession());
    let cp = await readJson<CopyCheckpoint>(conn, plan, HINT.copy);
    if (!cp) throw new Error(`no copy checkpoint in ${plan.changelogTable}: the migration was not prepared`);
    const progress = (): CopyProgress => ({ rowsCopied: cp!.rowsCopied, chunksCopied: cp!.chunksCopied, done: cp!.done });
    if (cp.done) return progress();

    if (cp.min === null || cp.max === null) {
      // The key range, read once and kept: rows inserted later reach the ghost via the binlog.
      const [min] = await rows(conn, sql.keyExtreme(plan.database, plan.table, plan.key, 'ASC'));
      const [max] = await rows(conn, sql.keyExtreme(plan.database, plan.table, plan.key, 'DESC'));
      cp = { ...cp, min: min ? encodeKey(keyOf(min, plan.key.columns)) : null, max: max ? encodeKey(keyOf(max, plan.key.columns)) : null };
      if (!min) cp.done = true;
      await exec(conn, writeJson(plan, HINT.copy, cp));
      if (cp.done) return progress();
    }

    if (input.copyStartDelayMillis && cp.chunksCopied === 0) await ctx.sleep(input.copyStartDelayMillis);

    while (!cp.done) {
      ctx.heartbeat(cp);
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
      cp = await copyNextChunk(conn, input, plan, cp);
      reporter.maybeReport(() => ({ kind: 'copy', copy: progress() }));
    }
    reporter.maybeReport(() => ({ kind: 'copy', copy: progress() }), true);
    return progress();
  } finally {
    conn.destroy();
  }
}

/** Copies one chunk and commits its checkpoint in the same transaction. */
async function copyNextChunk(conn: Conn, input: MigrationInput, plan: TablePlan, cp: CopyCheckpoint): Promise<CopyCheckpoint> {
  const first = cp.lastKey === null;
  const from = decodeKey(plan.key, first ? cp.min! : cp.lastKey!);
  const max = decodeKey(plan.key, cp.max!);
  const [end] = await rows(conn, sql.chunkEnd(plan.database, plan.table, plan.key, from, first, max, input.chunkSize));
  const to = end ? encodeKey(keyOf(end, plan.key.columns)) : cp.max!;
  const last = sameKey(to, cp.max!);

  for (let attempt = 1; ; attempt++) {
    try {
      await conn.query('START TRANSACTION');
      const r = await exec(conn, sql.copyChunk(plan.database, plan.table, plan.ghostTable, plan.key, plan.columns,
        from, first, decodeKey(plan.key, to)));
      const next: CopyCheckpoint = { ...cp, lastKey: to, rowsCopied: cp.rowsCopied + r.affectedRows, chunksCopied: cp.chunksCopied + 1, done: last };
      await exec(conn, writeJson(plan, HINT.copy, next));
      await conn.query('COMMIT');
      return next;
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => {});
      if (!RETRYABLE_LOCK_ERRORS.has(mysqlErrorCode(e) ?? '') || attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
