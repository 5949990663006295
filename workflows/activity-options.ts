// How the workflow calls each kind of activity: timeouts, heartbeats and retries, one proxy a
// kind. Deterministic module state: the proxies only describe calls.
import { ActivityCancellationType, patched } from '@temporalio/workflow';
import type { LongRunTerms } from '../model/types';
import { summarizedActivities } from './activity-summaries';

// Short phases: a few minutes, retried a few times; refusals are non-retryable. The worker
// heartbeats for them (worker/keep-alive.ts): a worker that dies under one is noticed in 10 s.
export const short = summarizedActivities({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

// Long phases: as long as they take. A killed worker is noticed within seconds through the
// heartbeat, and the activity resumes on any live worker from its checkpoint. A server that
// is down is waited out with backoff; an error that keeps recurring (about an hour and a
// half of attempts) ends the workflow with everything kept for --resurrect. The heartbeat is
// what bounds an attempt: the start-to-close timeout Temporal requires is set past anything
// a throttled copy of billions of rows or a revert window (at most 30 days) can reach.
export const NO_TIME_LIMIT = '3650 days';
export const long = summarizedActivities({
  startToCloseTimeout: NO_TIME_LIMIT,
  heartbeatTimeout: '5s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 200,
    nonRetryableErrorTypes: ['CriticalLoad'],
  },
});

/**
 * Runs a long activity (the copy, the applier) until it ends other than by handing back: a
 * retried attempt that recovered stops at its checkpoint, and is started again at attempt 1,
 * its backoff and its count of attempts new (LongRunTerms). Runs begun before this replay
 * without it: the marker is not in their history, and their activities never hand back.
 */
export async function untilDone<T extends { handedBack?: boolean }>(
  call: (terms?: LongRunTerms) => Promise<T>,
): Promise<T> {
  if (!patched('hand-back-retried-activities')) return call();
  for (let afterHandBack = false; ; afterHandBack = true) {
    const result = await call({ handBack: true, ...(afterHandBack ? { afterHandBack } : {}) });
    if (!result.handedBack) return result;
  }
}

// Cut-over: bounded lock waits inside; retried with backoff (gh-ost's --default-retries 60).
export const cutOverActivity = summarizedActivities({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '5s',
  retry: { initialInterval: '2s', backoffCoefficient: 1.5, maximumInterval: '60s', maximumAttempts: 60 },
});

export const flagFileActivity = summarizedActivities({ startToCloseTimeout: NO_TIME_LIMIT, heartbeatTimeout: '10s' });

// gh-ost's hooks: an executable that fails stops the migration where it runs (its failure is
// non-retryable: the hook said no); a worker lost mid-hook runs it again.
export const hookActivity = summarizedActivities({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});
