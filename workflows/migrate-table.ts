// migrateTable: one online schema migration, as the list of its phases. Deterministic code
// only: every touch of MySQL is an activity, every failure an ApplicationFailure.
import {
  ActivityCancellationType, ApplicationFailure, CancellationScope, condition, defineQuery, defineSignal,
  isCancellation, proxyActivities, setHandler, workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { MigrationInput, MigrationResult, MigrationStatus, Phase, ProgressReport, TablePlan } from './types';

export const statusQuery = defineQuery<MigrationStatus>('status');
export const progressSignal = defineSignal<[ProgressReport]>('progress');
/** gh-ost's `unpostpone`: cut over as soon as the copy is complete. */
export const cutOverSignal = defineSignal('cut-over');

// Short phases: a few minutes, retried a few times; refusals are non-retryable.
const short = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
});

// Long phases: as long as they take; a dead worker is noticed within seconds through the
// heartbeat and the activity resumes elsewhere from its checkpoint.
const long = proxyActivities<Activities>({
  startToCloseTimeout: '30 days',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

// Cut-over: bounded lock waits inside; retried with backoff (gh-ost's --default-retries 60).
const cutOverActivity = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '2s', backoffCoefficient: 1.5, maximumInterval: '60s', maximumAttempts: 60 },
});

export async function migrateTable(input: MigrationInput): Promise<MigrationResult> {
  const started = Date.now();
  let copyStarted = 0;
  let copyEnded = 0;
  const status: MigrationStatus = {
    workflowId: workflowInfo().workflowId, phase: 'inspecting', database: input.database, table: input.table, alter: input.alter,
    rowsCopied: 0, rowsEstimate: 0, percent: 0, eventsApplied: 0, lagSeconds: 0, backlogBytes: 0,
    elapsedSeconds: 0, copyElapsedSeconds: 0, cutOverPostponed: input.postponeCutOver || !!input.postponeCutOverFlagFile, cutOverAttempts: 0,
  };
  const phase = (p: Phase, message?: string) => { status.phase = p; status.message = message; };

  setHandler(statusQuery, () => {
    const now = Date.now();
    status.elapsedSeconds = (now - started) / 1000;
    status.copyElapsedSeconds = copyStarted ? ((copyEnded || now) - copyStarted) / 1000 : 0;
    status.percent = status.rowsEstimate > 0 ? Math.min(100, (100 * status.rowsCopied) / status.rowsEstimate) : (copyEnded ? 100 : 0);
    const rate = status.copyElapsedSeconds > 0 ? status.rowsCopied / status.copyElapsedSeconds : 0;
    status.etaSeconds = copyEnded ? 0 : rate > 0 ? Math.max(0, (status.rowsEstimate - status.rowsCopied) / rate) : undefined;
    return status;
  });
  setHandler(progressSignal, (r) => {
    if (r.kind === 'copy') {
      status.rowsCopied = r.copy.rowsCopied;
    } else {
      status.eventsApplied = r.apply.eventsApplied;
      status.binlogPosition = r.apply.position;
      status.lagSeconds = r.apply.lagSeconds;
      status.backlogBytes = r.apply.backlogBytes;
    }
  });
  setHandler(cutOverSignal, () => { status.cutOverPostponed = false; });

  try {
    // 1. Inspect: refuse early, before anything is created.
    const inspected = await short.inspect(input);
    status.rowsEstimate = inspected.estimatedRows;

    // 2. Prepare: ghost created and altered, changelog and binlog start position recorded.
    phase('preparing');
    const { plan } = await short.prepare(input);
    if (!input.execute) {
      phase('dry-run-completed', 'dry run: the ALTER is valid and the ghost table was dropped; add --execute to migrate');
      return { status, dryRun: true };
    }

    // 3. Copy rows while applying the binlog; the applier keeps running until cut-over.
    phase('migrating');
    const applier = new CancellationScope();
    let applierFailure: unknown;
    const applying = applier.run(() => long.drainBinlog(input, plan)).then(
      (r) => { status.eventsApplied = r.eventsApplied; },
      (e) => { if (!isCancellation(e)) applierFailure = e; });
    const applierFailed = () => applierFailure !== undefined;

    copyStarted = Date.now();
    const copied = await whileApplying(long.copyRows(input, plan), applierFailed, () => applierFailure);
    copyEnded = Date.now();
    status.rowsCopied = copied.rowsCopied;

    // 4. Wait for the operator, if the cut-over is postponed.
    await waitUntilCutOverAllowed(input, status, applierFailed, () => applierFailure);

    // 5. Cut over: atomic swap once the applier has caught up.
    phase('cutting-over');
    status.cutOverAttempts++;
    await whileApplying(cutOverActivity.cutOver(input, plan), applierFailed, () => applierFailure);
    applier.cancel();
    await applying;

    // 6. Clean up.
    phase('cleaning-up');
    await short.cleanup(input, plan);
    phase('completed', `${plan.database}.${plan.table} migrated; old table ${input.okToDropTable ? 'dropped' : `kept as ${plan.oldTable}`}`);
    return { status, dryRun: false };
  } catch (e) {
    phase('failed', failureMessage(e));
    if (e instanceof ApplicationFailure) throw e;
    throw ApplicationFailure.nonRetryable(failureMessage(e), 'MigrationFailed');
  }
}

/** Awaits `work`, but fails as soon as the binlog applier does. */
async function whileApplying<T>(work: Promise<T>, failed: () => boolean, failure: () => unknown): Promise<T> {
  const applierDown = condition(failed).then(() => { throw failure(); });
  return Promise.race([work, applierDown]);
}

async function waitUntilCutOverAllowed(input: MigrationInput, status: MigrationStatus, failed: () => boolean, failure: () => unknown): Promise<void> {
  const flagFile = input.postponeCutOverFlagFile;
  if (!status.cutOverPostponed && !flagFile) return;
  status.cutOverPostponed = true;
  status.phase = 'postponed';
  status.message = 'copy complete; cut-over postponed: signal cut-over (revenant cut-over)' + (flagFile ? `, or delete ${flagFile}` : '');
  const flagWatch = new CancellationScope();
  if (flagFile) {
    flagWatch.run(() => flagFileActivity.waitWhileFileExists(flagFile))
      .then(() => { status.cutOverPostponed = false; }, () => {});
  }
  await whileApplying(condition(() => !status.cutOverPostponed), failed, failure);
  flagWatch.cancel();
}

const flagFileActivity = proxyActivities<Activities>({ startToCloseTimeout: '365 days', heartbeatTimeout: '10s' });

function failureMessage(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message ? cause.message : e.message;
  }
  return String(e);
}
