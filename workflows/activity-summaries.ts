// What each of a migration's activities does, in a DBA's words: Temporal Web shows it beside
// the activity in the timeline, the event history and the pending activities, so that the
// page reads as a migration's phases rather than as function names.
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../model/activities';

export const ACTIVITY_SUMMARIES: Record<keyof Activities, string> = {
  inspect: 'inspect: check the table, the ALTER and the server; estimate the rows',
  prepare: 'prepare: create and alter the ghost table, create the changelog, record where the binlog starts',
  attemptInstantDdl: 'try ALTER … ALGORITHM=INSTANT (--attempt-instant-ddl)',
  resurrect: 'resurrect: check the checkpoint against the table and the binlog, and take it up',
  copyRows: 'copy: rows from the original into the ghost table, chunk by chunk, each with its checkpoint',
  addDeferredIndexes: 'add the secondary indexes deferred until after the copy',
  drainBinlog: "apply: the binlog's changes to the original, applied to the ghost table",
  checksumTables: 'checksum: compare the ghost with the original, row for row',
  cutOver: 'cut-over: lock the original, apply the last changes, swap the tables (atomic RENAME)',
  cutOverTogether:
    "cut-over together: lock every table of the server's group, apply their last changes, swap them all in one RENAME",
  cleanup: 'clean up: drop or keep the old table, drop the changelog',
  keptTableProblems: "revert window: check that the kept table can take the table's place again",
  catchUpKeptTable: "revert window's end: bring the kept table up to the binlog's position of that moment",
  prepareRevert: "revert: read the migration's checkpoint and where its cut-over is in the binlog",
  keepCheckpoint: 'keep the checkpoint for a retry of --revert',
  waitWhileFileExists: 'wait while the --postpone-cut-over-flag-file exists',
  runHook: 'run a gh-ost hook (--hooks-path)',
  writeControl: "pass the operator's settings to the copy and the applier",
  dropMigrationTables: 'drop the ghost table and the changelog',
  listFleetTargets: 'fleet: find the databases on each server that match the fleet file and hold the table',
  fleetCheckpoints: 'fleet: find the targets that left a checkpoint to continue from (--resurrect)',
};

/**
 * proxyActivities, each call carrying its activity's summary. A summary is metadata of the
 * scheduling command, not part of what a replay compares: histories recorded without one
 * replay unchanged (test/replay.test.ts).
 */
export function summarizedActivities(options: ActivityOptions): Activities {
  const plain = proxyActivities<Activities>(options);
  return new Proxy({} as Activities, {
    get(_, name: string) {
      const activity = plain[name as keyof Activities];
      const summary = ACTIVITY_SUMMARIES[name as keyof Activities];
      return (...args: unknown[]) =>
        (activity.executeWithOptions as (o: ActivityOptions, a: unknown[]) => Promise<unknown>)(
          { ...options, summary },
          args,
        );
    },
  });
}
