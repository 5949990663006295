// Continue-as-new: a migration that runs for weeks (a throttled copy of billions of rows, a
// cut-over postponed for days, many hibernations) must stay under Temporal's history limits
// (51,200 events, 50 MB), where the server would end it. Once a run's history reaches the
// limit, the run stops its copy and its applier at their checkpoints and continues as a new
// run of the same workflow id. The new run takes the checkpoints up as --resurrect does
// (nothing copied or applied twice) and carries what the operator sees: status, counters,
// settings, the checksum's outcome, a postponed cut-over, the hooks already run. Signals,
// queries, updates, `revenant status` and the CLI's attach address the workflow id, and so
// the newest run.
import { patched, workflowInfo } from '@temporalio/workflow';

export const DEFAULT_HISTORY_LIMIT = 10_000;

/**
 * Whether this run may continue as new: asked once, as the run starts. Runs begun by code
 * without renewals replay without it (the marker is not in their history).
 */
export const renewalsEnabled = (): boolean => patched('renew-history');

/**
 * Events a renewal itself takes: the copy's and the applier's cancellations and ends, and the
 * progress reports that arrive while they stop (a cancellation reaches an activity with its
 * next heartbeat); 20 to 45 measured under writes. It starts this far below the limit, so
 * that no run's history passes it.
 */
export const RENEWAL_EVENTS = 50;

/** The run's history is as long as it may grow before renewing, or the server advises continuing as new. */
export function historyFull(limit: number): boolean {
  const info = workflowInfo();
  return info.historyLength >= limit - RENEWAL_EVENTS || info.continueAsNewSuggested;
}

/** gh-ost's hooks that run once per migration: a later run does not run them again. */
export const ONE_TIME_HOOKS = [
  'on-startup',
  'on-validated',
  'on-rowcount-complete',
  'on-before-row-copy',
  'on-row-copy-complete',
  'on-begin-postponed',
];
