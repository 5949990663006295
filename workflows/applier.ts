// The binlog applier as the workflow runs it: beside the copy, the checksum and the postponed
// wait, until the cut-over; whatever the workflow awaits meanwhile fails as soon as it does.
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { MigrationInput, MigrationStatus, TablePlan } from '../model/types';
import { flagFileActivity, long, untilDone } from './activity-options';

export type Applier = ReturnType<typeof startApplier>;

/** The binlog applier, running beside the copy until the cut-over. */
export function startApplier(input: MigrationInput, plan: TablePlan, status: MigrationStatus) {
  const scope = new CancellationScope();
  let failure: unknown;
  const done = scope
    .run(() => untilDone((terms) => long.drainBinlog(input, plan, terms)))
    .then(
      (r) => {
        if (status.revert) status.revert.eventsApplied = r.eventsApplied;
        else status.eventsApplied = r.eventsApplied;
      },
      (e) => {
        if (!isCancellation(e)) failure = e;
      },
    );
  return {
    /** Awaits `work`, but fails as soon as the applier does. */
    whileRunning<T>(work: Promise<T>): Promise<T> {
      const down = condition(() => failure !== undefined).then((): never => {
        throw failure;
      });
      return Promise.race([work, down]);
    },
    async stop(): Promise<void> {
      scope.cancel();
      await done;
    },
  };
}

/** Holds while the cut-over is postponed; true when the history filled first (the run renews, still postponed). */
export async function waitUntilCutOverAllowed(
  input: MigrationInput,
  status: MigrationStatus,
  applier: Applier,
  shown: () => void,
  historyFull: () => boolean,
): Promise<boolean> {
  const flagFile = input.postponeCutOverFlagFile;
  if (!status.cutOverPostponed) return false;
  status.phase = 'postponed';
  status.message =
    'copy complete; cut-over postponed: signal cut-over (revenant cut-over)' +
    (flagFile ? `, or delete ${flagFile}` : '');
  shown();
  const flagWatch = new CancellationScope();
  if (flagFile) {
    flagWatch
      .run(() => flagFileActivity.waitWhileFileExists(flagFile))
      .then(
        () => {
          status.cutOverPostponed = false;
        },
        () => {},
      );
  }
  await applier.whileRunning(condition(() => !status.cutOverPostponed || historyFull()));
  flagWatch.cancel();
  return status.cutOverPostponed;
}
