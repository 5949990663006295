// The operator's hand on a running migration: the workflow writes the settings in force
// (and whether the operator paused it) to the changelog; copy and apply re-read them at
// least every CONTROL_REFRESH_MS, so a change reaches them within a second, and survives
// any restart. Throttling decisions are made here too, and reported when they change.
import { Context } from '@temporalio/activity';
import type { MigrationInput, TablePlan, ThrottleReport } from '../workflows/types';
import { settingsFrom, type Control } from '../workflows/settings';
import { HINT, readHints, readJson, writeJson } from './changelog';
import type { CredentialResolver } from './credentials';
import { exec, withConnection, type Conn } from './mysql';
import type { MigrationMetrics } from './metrics';
import type { ProgressReporter } from './progress';
import { HttpThrottle, LagReader, throttleReason } from './throttler';
import { applierOf } from './topology';

export const CONTROL_REFRESH_MS = 250;
/** A reason is told to the workflow once it has held this long: a copy's short yields to its applier are not. */
const SETTLE_MS = 500;
const reasonKind = (reason: string | null) => reason?.split(':')[0] ?? null;

/** The workflow's writer: called whenever the operator changes something. */
export async function writeControl(credentials: CredentialResolver, input: MigrationInput, plan: TablePlan, control: Control): Promise<void> {
  await withConnection(applierOf(input, plan), credentials, async (conn) => {
    const current = await readJson<Control>(conn, plan, HINT.control);
    if (current && current.version > control.version) return; // a newer one is there already
    await exec(conn, writeJson(plan, HINT.control, control));
  });
}

export class ControlReader {
  private control: Control;
  private readAt = 0;
  /** The copy's view of the applier: its lag in ms while it is behind, else 0. */
  private applyBehindMs = 0;
  private reason: string | null = null;
  private checkedAt = 0;
  /** The reason the workflow was last told, when, and a report waiting for its turn. */
  private reported: string | null = null;
  private reportedAt = 0;
  private reportTimer: NodeJS.Timeout | undefined;
  private changedAt = 0;

  private readonly lag: LagReader | undefined;
  private readonly http: HttpThrottle;

  constructor(private readonly conn: Conn, private readonly plan: TablePlan, private readonly input: MigrationInput,
    private readonly reporter: ProgressReporter, private readonly phase: 'copy' | 'apply', private readonly metrics?: MigrationMetrics,
    credentials?: CredentialResolver) {
    this.control = { ...settingsFrom(input), paused: false, version: 0 };
    if (credentials && plan.lagReplicas?.length) this.lag = new LagReader(plan, credentials);
    this.http = new HttpThrottle(input);
  }

  close(): void {
    this.lag?.close();
    this.http.close();
    clearTimeout(this.reportTimer);
    // The last word goes out as the phase ends, so the status does not keep a stale reason.
    if (this.reason !== this.reported) this.reportNow();
  }

  /** Where the phase stands, sent with each throttle report (see ThrottleReport). */
  progress: () => Pick<ThrottleReport, 'copy' | 'apply'> = () => ({});

  /** The activity's logger: a reason that held is logged too, with its time (gh-ost logs its throttling). */
  private readonly log = Context.current().log;

  private reportNow(): void {
    this.log.info(this.reason ? `${this.phase} throttled: ${this.reason}` : `${this.phase} no longer throttled`);
    this.reporter.report({ kind: 'throttle', phase: this.phase, reason: this.reason, ...this.progress() });
    this.reported = this.reason;
    this.reportedAt = Date.now();
  }

  /**
   * Tells the workflow the reason in force once it has held SETTLE_MS, and no more often than
   * progress reports go: each report is a history event, and a copy yielding to its applier
   * can change reasons several times a second (the metric shows every change).
   */
  private reportReason(): void {
    if (this.reason === this.reported || this.reportTimer) return;
    const due = Math.max(this.changedAt + SETTLE_MS, this.reportedAt + this.reporter.interval());
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      if (this.reason === this.reported) return;
      if (Date.now() - this.changedAt < SETTLE_MS) { this.reportReason(); return; }
      this.reportNow();
    }, Math.max(0, due - Date.now()));
  }

  async current(): Promise<Control> {
    if (Date.now() - this.readAt >= CONTROL_REFRESH_MS) {
      const hints = await readHints(this.conn, this.plan, [HINT.control, HINT.applyBehind]);
      const control = hints.get(HINT.control);
      if (control !== undefined) this.control = JSON.parse(control) as Control;
      this.applyBehindMs = Number(hints.get(HINT.applyBehind) ?? 0) || 0;
      this.readAt = Date.now();
    }
    return this.control;
  }

  /** Why to hold off now (null: go on); a change is reported to the workflow at once. */
  async throttled(): Promise<string | null> {
    if (Date.now() - this.checkedAt >= CONTROL_REFRESH_MS) {
      // The copy also waits while the applier is behind: rows it copies now only add to what
      // the applier competes with, and the cut-over needs the applier caught up anyway.
      const reason = await throttleReason(this.conn, await this.current(), this.input, this.lag, this.http) ??
        (this.phase === 'copy' && this.applyBehindMs > 0 ? `apply lag: the applier is ${(this.applyBehindMs / 1000).toFixed(1)}s behind; the copy waits for it` : null);
      this.checkedAt = Date.now();
      if (reason !== this.reason) this.metrics?.throttled(this.phase, reason, this.reason);
      // Settling counts from a change of kind ("lag", "max-load", …), not of the figures in it.
      if (reasonKind(reason) !== reasonKind(this.reason)) this.changedAt = Date.now();
      this.reason = reason;
      this.reportReason();
    }
    return this.reason;
  }

  /** Holds off while throttled, heartbeating; returns when work may go on (or on cancellation). */
  async waitWhileThrottled(heartbeat: unknown): Promise<void> {
    const ctx = Context.current();
    while ((await this.throttled()) && !ctx.cancellationSignal.aborted) {
      ctx.heartbeat(heartbeat);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
