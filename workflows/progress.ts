// The workers' progress reports, as the workflow takes them into its status: rows copied,
// events applied, why copy or apply hold off, resumes and what they redid, who blocks the
// cut-over. Reports of another shape (any Temporal client may signal) are dropped, not taken in
// (model/progress-report.ts).
import { patched, setHandler } from '@temporalio/workflow';
import { progressReportsSignal, progressSignal } from '../model/messages';
import { checkedReport, checkedReports } from '../model/progress-report';
import type { ApplyProgress, CopyProgress, MigrationStatus, ProgressReport } from '../model/types';

/**
 * Registers the progress signals' handlers. `published`: after rows were copied (progress in
 * Temporal Web); `shown`: after any report (the run's details).
 */
export function registerProgressHandlers(status: MigrationStatus, published: () => void, shown: () => void): void {
  const throttleReasons: Partial<Record<'copy' | 'apply', string>> = {};
  const copyProgressed = (c: CopyProgress) => {
    status.rowsCopied = c.rowsCopied;
    if (c.rowsCounted !== undefined) status.rowsEstimate = c.rowsCounted;
    status.chunkSizeInUse = c.chunkSize;
    if (c.pacePercent !== undefined && c.pacePercent < 100 && !c.done) status.copyPacePercent = c.pacePercent;
    else delete status.copyPacePercent;
    published();
  };
  const applyProgressed = (a: ApplyProgress) => {
    if (status.revert) {
      // The window's applier: its own count, from 0 at each cut-over.
      status.revert.eventsApplied = a.eventsApplied;
      status.revert.lagSeconds = a.lagSeconds;
      return;
    }
    status.eventsApplied = a.eventsApplied;
    status.binlogPosition = a.position;
    status.lagSeconds = a.lagSeconds;
    status.backlogBytes = a.backlogBytes;
  };
  const progressed = (r: ProgressReport) => {
    if (r.kind === 'copy') {
      copyProgressed(r.copy);
    } else if (r.kind === 'throttle') {
      // Copy and apply hold off each for its own reasons; one going on does not clear the other's.
      if (r.reason) throttleReasons[r.phase] = r.reason;
      else delete throttleReasons[r.phase];
      const held = Object.entries(throttleReasons).map(([p, why]) => `${p}: ${why}`);
      status.throttled = held.length ? held.join('; ') : undefined;
      if (r.copy) copyProgressed(r.copy);
      if (r.apply) applyProgressed(r.apply);
    } else if (r.kind === 'apply') {
      applyProgressed(r.apply);
    } else if (r.kind === 'cut-over') {
      status.cutOverBlockers = r.blockers;
    } else {
      status.resumes++;
      status.lastResume = `${r.phase} attempt ${r.attempt}: ${r.checkpoint}; redid ${r.redone} ${r.phase === 'copy' ? 'chunks' : 'events'}`;
      if (r.phase === 'copy') status.redoneChunks += r.redone;
      else status.redoneEvents += r.redone;
    }
  };
  // Registered once `progressed` exists: a report waiting when the run starts is handed over at
  // registration. Reports of another shape (any Temporal client may signal) are dropped, not
  // taken in: one would throw here and fail every workflow task after it (model/progress-report.ts).
  setHandler(progressSignal, (r) => {
    const report = patched('checked-reports') ? checkedReport(r) : r;
    if (report) progressed(report);
    shown();
  });
  setHandler(progressReportsSignal, (reports) => {
    for (const r of patched('checked-reports') ? checkedReports(reports) : reports) progressed(r);
    shown();
  });
}
