// revenant's own Prometheus metrics, next to the SDK's on the worker's endpoint (see
// worker/telemetry.ts), tagged with the migrated table. Recorded through the activity's
// metric meter: with no exporter installed they cost nothing.
import { Context } from '@temporalio/activity';
import type { TablePlan } from '../model/types';

/** A throttle reason as one of a fixed set of labels: reasons carry paths, URLs and figures, labels must not. */
const REASON_LABELS = [
  'paused',
  'flag-file',
  'lag',
  'max-load',
  'throttle-query',
  'throttle-http',
  'apply lag',
  'critical-load',
];
export const reasonLabel = (reason: string) => REASON_LABELS.find((l) => reason.startsWith(l)) ?? 'other';

export class MigrationMetrics {
  private readonly meter;
  /** A revert window's applier counts apart from the migration's: revenant_revert_window_*. */
  private readonly names: { events: string; lag: string };

  constructor(private readonly plan: Pick<TablePlan, 'database' | 'table' | 'window' | 'windowEndsAt'>) {
    this.meter = Context.current().metricMeter.withTags({ database: plan.database, table: plan.table });
    this.names =
      plan.window !== undefined
        ? { events: 'revenant_revert_window_events_applied', lag: 'revenant_revert_window_lag_seconds' }
        : { events: 'revenant_events_applied', lag: 'revenant_apply_lag_seconds' };
  }

  rowsCopied(n: number): void {
    if (n > 0) this.meter.createCounter('revenant_rows_copied', 'rows', 'Rows copied into the ghost table').add(n);
  }

  eventsApplied(n: number): void {
    if (n > 0)
      this.meter
        .createCounter(
          this.names.events,
          'events',
          'Binlog row events applied to the ghost table (or the table kept in a revert window)',
        )
        .add(n);
  }

  /** The apply lag; in a revert window, the time left too. */
  applyLag(seconds: number): void {
    this.meter.createGauge(this.names.lag, 'float', 's', 'Seconds between the last applied event and now').set(seconds);
    if (this.plan.windowEndsAt !== undefined) {
      this.meter
        .createGauge(
          'revenant_revert_window_seconds_left',
          'float',
          's',
          'Seconds until the revert window ends by itself',
        )
        .set(Math.max(0, (this.plan.windowEndsAt - Date.now()) / 1000));
    }
  }

  /** 1 while copy or apply holds off, with the reason as a tag (0 for the reason it had when it goes on). */
  throttled(phase: 'copy' | 'apply', reason: string | null, previous: string | null): void {
    const gauge = this.meter.createGauge('revenant_throttled', 'int', '', 'Whether copy or apply holds off, and why');
    if (previous) gauge.set(0, { phase, reason: reasonLabel(previous) });
    if (reason) gauge.set(1, { phase, reason: reasonLabel(reason) });
  }

  cutOverAttempt(): void {
    this.meter.createCounter('revenant_cutover_attempts', 'attempts', 'Cut-over attempts').add(1);
  }
}
