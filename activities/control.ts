// The operator's hand on a running migration: the workflow writes the settings in force
// (and whether the operator paused it) to the changelog; copy and apply re-read them at
// least every CONTROL_REFRESH_MS, so a change reaches them within a second, and survives
// any restart. Throttling decisions are made here too, and reported when they change.
import { Context } from '@temporalio/activity';
import type { MigrationInput, TablePlan } from '../workflows/types';
import { settingsFrom, type Control } from '../workflows/settings';
import { HINT, readJson, writeJson } from './changelog';
import type { CredentialResolver } from './credentials';
import { exec, withConnection, type Conn } from './mysql';
import type { MigrationMetrics } from './metrics';
import type { ProgressReporter } from './progress';
import { LagReader, throttleReason } from './throttler';
import { applierOf } from './topology';

export const CONTROL_REFRESH_MS = 500;

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
  private reason: string | null = null;
  private checkedAt = 0;

  private readonly lag: LagReader | undefined;

  constructor(private readonly conn: Conn, private readonly plan: TablePlan, private readonly input: MigrationInput,
    private readonly reporter: ProgressReporter, private readonly phase: 'copy' | 'apply', private readonly metrics?: MigrationMetrics,
    credentials?: CredentialResolver) {
    this.control = { ...settingsFrom(input), paused: false, version: 0 };
    if (credentials && plan.lagReplicas?.length) this.lag = new LagReader(plan, credentials);
  }

  close(): void {
    this.lag?.close();
  }

  async current(): Promise<Control> {
    if (Date.now() - this.readAt >= CONTROL_REFRESH_MS) {
      this.control = (await readJson<Control>(this.conn, this.plan, HINT.control)) ?? this.control;
      this.readAt = Date.now();
    }
    return this.control;
  }

  /** Why to hold off now (null: go on); a change is reported to the workflow at once. */
  async throttled(): Promise<string | null> {
    if (Date.now() - this.checkedAt >= CONTROL_REFRESH_MS) {
      const reason = await throttleReason(this.conn, await this.current(), this.input, this.lag);
      this.checkedAt = Date.now();
      if (reason !== this.reason) {
        this.reporter.report({ kind: 'throttle', phase: this.phase, reason });
        this.metrics?.throttled(this.phase, reason, this.reason);
      }
      this.reason = reason;
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
