// revenant's own Prometheus metrics, next to the SDK's on the worker's endpoint (see
// worker/telemetry.ts), tagged with the migrated table. Recorded through the activity's
// metric meter: with no exporter installed they cost nothing.
import { Context } from '@temporalio/activity';
import type { TablePlan } from '../workflows/types';

export class MigrationMetrics {
  private readonly meter;

  constructor(plan: Pick<TablePlan, 'database' | 'table'>) {
    this.meter = Context.current().metricMeter.withTags({ database: plan.database, table: plan.table });
  }

  rowsCopied(n: number): void {
    if (n > 0) this.meter.createCounter('revenant_rows_copied', 'rows', 'Rows copied into the ghost table').add(n);
  }

  eventsApplied(n: number): void {
    if (n > 0) this.meter.createCounter('revenant_events_applied', 'events', 'Binlog row events applied to the ghost table').add(n);
  }

  applyLag(seconds: number): void {
    this.meter.createGauge('revenant_apply_lag_seconds', 'float', 's', 'Seconds between the last applied event and now').set(seconds);
  }

  /** 1 while copy or apply holds off, with the reason as a tag (0 for the reason it had when it goes on). */
  throttled(phase: 'copy' | 'apply', reason: string | null, previous: string | null): void {
    const gauge = this.meter.createGauge('revenant_throttled', 'int', '', 'Whether copy or apply holds off, and why');
    if (previous) gauge.set(0, { phase, reason: previous.split(':')[0] });
    if (reason) gauge.set(1, { phase, reason: reason.split(':')[0] });
  }

  cutOverAttempt(): void {
    this.meter.createCounter('revenant_cutover_attempts', 'attempts', 'Cut-over attempts').add(1);
  }
}
