// Activities tell their workflow how far they are with a `progress` signal. Each signal is
// four history events (the signal and a workflow task), so reports thin out as a migration
// ages: every few seconds at first, at most once a minute later; and a report that would say
// nothing new (an idle table's applier, whose position moves only with heartbeats) goes at
// most every ten minutes. History stays small even for day-long copies and overnight
// postponed cut-overs.
// A revert window's applier, which may run for days, sends none but its resumes: its progress
// is in its activity's heartbeat details (no history event), where the CLI and Temporal Web
// read it.
import { Context } from '@temporalio/activity';
import type { ProgressReport } from '../model/types';

/**
 * The run a report is for: its run id too, so that an activity outliving its run (a workflow id
 * reused by a new migration) cannot report into the new one.
 */
export interface ReportTarget {
  workflowId: string;
  runId?: string;
}

/** `urgent`: to go at once, not gathered with the workflow's other reports (worker/progress-batcher.ts; resumes always go at once). */
export type ProgressSink = (target: ReportTarget, report: ProgressReport, urgent?: boolean) => Promise<void>;

/** Between two reports that say nothing new. */
const IDLE_REPORT_MS = 600_000;

export class ProgressReporter {
  private readonly started: number = Date.now();
  private last = 0;
  constructor(
    private readonly sink: ProgressSink | undefined,
    private readonly target: ReportTarget,
    private readonly onlyResumes = false,
  ) {}

  /** `onlyResumes`: progress goes in the heartbeat details instead (see above). */
  static forCurrentActivity(sink: ProgressSink | undefined, onlyResumes = false): ProgressReporter {
    const run = Context.current().info.workflowExecution;
    return new ProgressReporter(sink, { workflowId: run?.workflowId ?? '', runId: run?.runId }, onlyResumes);
  }

  /** The least time between two reports: 2 s at first, up to a minute for long runs. */
  interval(): number {
    const elapsed = Date.now() - this.started;
    return Math.min(60_000, Math.max(2_000, elapsed / 30));
  }

  /** Sends the report now (resumes are logged by the worker too); `urgent`: not gathered with others. */
  report(report: ProgressReport, urgent = false): void {
    if (report.kind === 'resume') {
      Context.current().log.info(`${report.phase} resumed`, {
        attempt: report.attempt,
        checkpoint: report.checkpoint,
        redone: report.redone,
      });
    } else if (this.onlyResumes) {
      return;
    }
    this.sink?.(this.target, report, urgent).catch(() => {});
  }

  private lastNews: string | undefined;

  /**
   * Sends the report if enough time has passed since the last one (or `force`). `news` sums
   * up what a reader would care about (rows copied, events applied): the same as last time,
   * the report waits for IDLE_REPORT_MS.
   */
  maybeReport(report: () => ProgressReport, force = false, news?: string): void {
    if (!this.sink || this.onlyResumes) return;
    const now = Date.now();
    const wait = news !== undefined && news === this.lastNews ? IDLE_REPORT_MS : this.interval();
    if (!force && now - this.last < wait) return;
    this.last = now;
    this.lastNews = news;
    // A lost report costs nothing: the next one or the activity's result carries the same.
    this.sink(this.target, report(), force).catch(() => {});
  }
}
