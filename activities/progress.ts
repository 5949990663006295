// Activities tell their workflow how far they are with a `progress` signal. Each signal is
// a history event, so reports thin out as a migration ages: every few seconds at first,
// at most once a minute later, and history stays small even for day-long copies.
import { Context } from '@temporalio/activity';
import type { ProgressReport } from '../workflows/types';

export type ProgressSink = (workflowId: string, report: ProgressReport) => Promise<void>;

export class ProgressReporter {
  private readonly started: number = Date.now();
  private last = 0;
  constructor(private readonly sink: ProgressSink | undefined, private readonly workflowId: string) {}

  static forCurrentActivity(sink: ProgressSink | undefined): ProgressReporter {
    return new ProgressReporter(sink, Context.current().info.workflowExecution?.workflowId ?? "");
  }

  /** The least time between two reports: 2 s at first, up to a minute for long runs. */
  interval(): number {
    const elapsed = Date.now() - this.started;
    return Math.min(60_000, Math.max(2_000, elapsed / 30));
  }

  /** Sends the report now (resumes are logged by the worker too). */
  report(report: ProgressReport): void {
    if (report.kind === 'resume') {
      Context.current().log.info(`${report.phase} resumed`, { attempt: report.attempt, checkpoint: report.checkpoint, redone: report.redone });
    }
    this.sink?.(this.workflowId, report).catch(() => {});
  }

  /** Sends the report if enough time has passed since the last one (or `force`). */
  maybeReport(report: () => ProgressReport, force = false): void {
    if (!this.sink) return;
    const now = Date.now();
    if (!force && now - this.last < this.interval()) return;
    this.last = now;
    // A lost report costs nothing: the next one or the activity's result carries the same.
    this.sink(this.workflowId, report()).catch(() => {});
  }
}
