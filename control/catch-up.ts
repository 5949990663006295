// Bringing the applier up to the server before a locked moment (the cut-over, a checksum's
// snapshot): wait until it is close, then until it has applied a marker written under the lock.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { MigrationInput, TablePlan } from '../model/types';
import { heartbeatMillis, HINT, readHints, readJson } from './changelog';
import { isBinlogCheckpoint } from './stored-shapes';
import type { CredentialResolver } from '../mysql/credentials';
import { settingsInForce, type ControlSource } from './live-settings';
import { exec, rows, type Conn } from '../mysql/query';
import { currentBinlogPosition } from '../binlog/position';
import * as sql from '../mysql/statements';
import { LagReader } from './throttler';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Cut-over starts only when the applier is this close to the server's binlog, or has applied
 * a heartbeat this recent: under a heavy write load (thousands of transactions a second) the
 * bytes between the applier's checkpoint and the server are never few, though it is only a
 * fraction of a second behind. The table stays locked until the applier reaches the marker:
 * about as long as this lag.
 */
const MAX_BACKLOG_BYTES = 1_000_000;
const MAX_APPLY_LAG_MS = 500;

/** Waits until the applier's committed checkpoint is near the read server's current position, or recent. */
export async function waitForSmallBacklog(
  conn: Conn,
  inspected: Conn,
  plan: TablePlan,
  timeoutMs: number,
): Promise<void> {
  const ctx = Context.current();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    ctx.heartbeat('waiting for the applier to catch up');
    const cp = await readJson(conn, plan, HINT.binlog, isBinlogCheckpoint);
    const server = await currentBinlogPosition(inspected);
    if (cp && cp.file === server.file && server.position - cp.position <= MAX_BACKLOG_BYTES) return;
    // Heartbeats are written on the applier's server, in its clock.
    const lagMs = cp?.appliedHeartbeat
      ? Number((await rows(conn, sql.serverClockMillis()))[0].ms) - heartbeatMillis(cp.appliedHeartbeat)
      : NaN;
    if (lagMs <= MAX_APPLY_LAG_MS) return;
    if (Date.now() > deadline) {
      throw ApplicationFailure.retryable(
        `binlog applier is behind (applied ${cp?.file}:${cp?.position}, server at ${server.file}:${server.position}` +
          `${Number.isFinite(lagMs) ? `, last heartbeat applied ${(lagMs / 1000).toFixed(1)}s ago` : ''}); cut-over postponed until it catches up`,
        'ApplierBehind',
      );
    }
    await sleep(50);
  }
}

/** The cut-over waits for the watched replicas to be within --max-lag-millis too: the marker must reach them within the lock's time. */
export async function waitForLowReplicaLag(
  plan: TablePlan,
  credentials: CredentialResolver,
  input: MigrationInput,
  timeoutMs: number,
  controlSource?: ControlSource,
): Promise<void> {
  if (!plan.lagReplicas?.length) return;
  // The workflow's --max-lag-millis, as the operator last set it.
  const { maxLagMillis: maxLag } = await settingsInForce(input, controlSource);
  const lag = new LagReader(plan, credentials);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      Context.current().heartbeat('waiting for replica lag');
      const reason = await lag.lagging(maxLag);
      if (!reason) return;
      if (Date.now() > deadline) throw ApplicationFailure.retryable(`cut-over postponed: ${reason}`, 'ReplicaLag');
      await sleep(200);
    }
  } finally {
    lag.close();
  }
}

/** How long the applier may take to reach a marker while the original is locked. */
export const lockedMarkerMillis = (lockTimeoutSeconds: number) => Math.max(10_000, lockTimeoutSeconds * 2000);

/**
 * Writes a marker to the changelog and waits until the applier has committed every change
 * before it (it writes the marker back in the same transaction as those changes).
 */
export async function drainToMarker(
  conn: Conn,
  plan: TablePlan,
  timeoutMs: number,
  what = 'cut-over marker',
): Promise<void> {
  const info = Context.current().info;
  const marker = `${info.activityId}:${info.attempt}:${Date.now()}`;
  await exec(conn, sql.upsertChangelog(plan.database, plan.changelogTable, HINT.cutOverMarker, marker));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    Context.current().heartbeat(`waiting for the applier to reach the ${what}`);
    const v = (await readHints(conn, plan, [HINT.markerApplied])).get(HINT.markerApplied);
    if (v === marker) return;
    if (Date.now() > deadline) throw new Error(`binlog applier did not reach the ${what} within ${timeoutMs} ms`);
    await sleep(20);
  }
}
