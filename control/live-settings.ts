// The operator's hand on a running migration. The settings in force (and whether the
// operator paused it) live in the workflow: copy and apply read them from its status query
// through the worker (a ControlSource), at least every CONTROL_REFRESH_MS, so a change
// reaches them within a second and survives any restart. The workflow also mirrors them in
// the changelog for humans, but nothing there is read back as settings: anyone who can
// write that table (an application account with rights on the schema) could otherwise
// hand the migration's user a --throttle-query to run. (Only its pause flag counts, and only
// until the workflow first answers, which takes seconds right after a worker died.)
// Throttling decisions are made here too, and reported when they change.
import { Context } from '@temporalio/activity';
import { busyTable, type MigrationInput, type TablePlan, type ThrottleReport } from '../model/types';
import {
  SETTING_TABLE,
  settingsFrom,
  validateChange,
  type Control,
  type SettingField,
  type Settings,
} from '../model/settings';
import { HINT, readHints, readJson, writeJson } from './changelog';
import { isVersioned } from './stored-shapes';
import type { CredentialResolver } from '../mysql/credentials';
import { exec, type Conn } from '../mysql/query';
import { withConnection } from '../mysql/connection';
import type { MigrationMetrics } from '../runtime/metrics';
import type { ProgressReporter } from '../runtime/progress';
import { HttpThrottle, LagReader, throttleReason } from './throttler';
import { applierOf } from '../mysql/topology';
import { CopyPacer, PACE } from './copy-pacer';
import type { WorkerPolicy } from '../runtime/worker-policy';
import { must } from '../model/must';

export const CONTROL_REFRESH_MS = 250;
/** How long the first read waits for the workflow's answer, and how long later ones do. */
const FIRST_ANSWER_WAIT_MS = 1_000;
const ANSWER_WAIT_MS = 150;

/** The changelog mirror's pause flag, when it is one. */
function mirroredPause(mirror: string | undefined): boolean {
  try {
    return (JSON.parse(mirror ?? '{}') as { paused?: unknown }).paused === true;
  } catch {
    return false;
  }
}
/** A reason is told to the workflow once it has held this long: a copy's short yields to its applier are not. */
const SETTLE_MS = 500;
/** The copy holding back for its own applier: the one reason that comes from inside the migration. */
const APPLY_LAG = 'apply lag';
/** A reason's kind, its first word: "lag", "max-load", "flag-file", "paused", "apply", … (control/throttler.ts). */
const reasonKind = (reason: string | null) => reason?.split(/[: ]/)[0] ?? null;

/**
 * Whether a change of throttle reason goes to the workflow at once, not with the worker's next
 * gathered reports (worker/progress-batcher.ts, windows of 4 s and more). A reason from outside
 * (a replica's lag, the server's load, a flag file, a pause) is what an operator watches for
 * and acts on, and it changes no more often than the report interval lets it be told; the copy
 * yielding to its applier flaps several times a second under a heavy writer, and waits, as do
 * new figures for a reason already told.
 */
export function throttleChangeIsUrgent(reason: string | null, told: string | null): boolean {
  const outside = (r: string | null) => r !== null && !r.startsWith(APPLY_LAG);
  // New figures for the same reason ("1.4s behind", then "3.3s") go with the next gathered reports.
  return reasonKind(reason) !== reasonKind(told) && (outside(reason) || outside(told));
}

/** The settings in force for a workflow, as the workflow itself reports them (worker/control-source.ts). */
export type ControlSource = (workflowId: string) => Promise<unknown>;

/** What the worker gives copy, apply and the cut-over besides credentials. */
export interface WorkerServices {
  control?: ControlSource;
  policy?: WorkerPolicy;
}

const SETTING_FIELDS: SettingField[] = SETTING_TABLE.map((row) => row.field);

const OPTIONAL_SETTINGS: SettingField[] = SETTING_TABLE.filter((row) => 'optional' in row).map((row) => row.field);

/**
 * Settings as received, checked again here as the CLI and the workflow's validator check
 * them: a value that would not pass there is refused here too (the activity keeps what it had).
 */
export function checkedControl(received: unknown): Control {
  if (!received || typeof received !== 'object') throw new Error('the settings are not an object');
  const r = received as Record<string, unknown>;
  const change = Object.fromEntries(SETTING_FIELDS.filter((f) => r[f] !== undefined).map((f) => [f, r[f]]));
  const settings = validateChange(change);
  // Every setting but the optional ones must be there.
  for (const f of SETTING_FIELDS.filter((n) => !OPTIONAL_SETTINGS.includes(n))) {
    if (settings[f] === undefined) throw new Error(`the settings lack ${f}`);
  }
  if (typeof r.paused !== 'boolean') throw new Error('the settings lack paused');
  if (typeof r.version !== 'number' || !Number.isInteger(r.version) || r.version < 0)
    throw new Error('the settings lack a version');
  // validateChange pins the chunk size when it is set alone; the received target stands.
  return {
    ...(settings as Settings),
    chunkTargetMillis: settings.chunkTargetMillis ?? 0,
    paused: r.paused,
    version: r.version,
  };
}

/**
 * The settings in force for this activity's workflow, as the workflow last reported them (an
 * operator's `set` included), never the changelog's mirror; the input's where it does not
 * answer, or holds no value for one (a migration started by an earlier release).
 */
export async function settingsInForce(input: MigrationInput, controlSource?: ControlSource): Promise<Settings> {
  const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
  const inForce = controlSource
    ? await controlSource(workflowId)
        .then(checkedControl)
        .catch(() => undefined)
    : undefined;
  return { ...settingsFrom(input), ...inForce };
}

/** The workflow's writer of the changelog's mirror: called whenever the operator changes something. */
export async function writeControl(
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
  control: Control,
): Promise<void> {
  await withConnection(applierOf(input, plan), credentials, async (conn) => {
    // A row not of this shape is written over.
    const current = await readJson(conn, plan, HINT.control, isVersioned).catch(() => undefined);
    if (current && current.version > control.version) return; // a newer one is there already
    await exec(conn, writeJson(plan, HINT.control, control));
  });
}

export class ControlReader {
  private control: Control;
  private readAt = 0;
  /** The copy's view of the applier: its lag in ms as it last published it (0: caught up), and when that was read. */
  private applyBehindMs = 0;
  private lagReadAt = 0;
  /** The copy's pace, set by that lag (copy-pacer.ts). */
  private readonly pacer: CopyPacer | undefined;
  private reason: string | null = null;
  private checkedAt = 0;
  /** The pacer's hold as the reason last saw it. */
  private holdingSeen = false;
  /** The reason the workflow was last told, when, and a report waiting for its turn. */
  private reported: string | null = null;
  private reportedAt = 0;
  private reportTimer: NodeJS.Timeout | undefined;
  private changedAt = 0;

  private readonly lag: LagReader | undefined;
  private readonly http: HttpThrottle;

  /** The workflow's settings: when they were asked for, and whether an answer is awaited. */
  private sourceReadAt = 0;
  private sourceRead: Promise<void> | undefined;
  private readonly workflowId: string;
  /** Whether the workflow has answered once. */
  private answered = false;
  private readonly source: ControlSource | undefined;

  constructor(
    private readonly conn: Conn,
    private readonly plan: TablePlan,
    private readonly input: MigrationInput,
    private readonly reporter: ProgressReporter,
    private readonly phase: 'copy' | 'apply',
    private readonly metrics?: MigrationMetrics,
    credentials?: CredentialResolver,
    services: WorkerServices = {},
  ) {
    this.source = services.control;
    this.control = { ...settingsFrom(input), paused: false, version: 0 };
    this.workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    if (credentials && plan.lagReplicas?.length) this.lag = new LagReader(plan, credentials);
    this.http = new HttpThrottle(input, services.policy);
    if (phase === 'copy') {
      const busy = busyTable(plan.writesPerSecond);
      this.pacer = new CopyPacer(busy ? PACE.busyStartDuty : 1);
      if (busy)
        this.log.info(
          `${Math.round(plan.writesPerSecond ?? 0)} row writes a second when prepared: the copy starts at ` +
            `${PACE.busyStartDuty * 100} % of its pace and speeds up while the applier keeps up`,
        );
    }
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
    this.reporter.report(
      { kind: 'throttle', phase: this.phase, reason: this.reason, ...this.progress() },
      throttleChangeIsUrgent(this.reason, this.reported),
    );
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
    this.reportTimer = setTimeout(
      () => {
        this.reportTimer = undefined;
        if (this.reason === this.reported) return;
        if (Date.now() - this.changedAt < SETTLE_MS) {
          this.reportReason();
          return;
        }
        this.reportNow();
      },
      Math.max(0, due - Date.now()),
    );
  }

  /** Asks the workflow for its settings; a newer valid answer replaces what is in force. */
  private readSource(): Promise<void> {
    this.sourceReadAt = Date.now();
    this.sourceRead ??= (async () => {
      try {
        const control = checkedControl(await must(this.source, 'the settings source')(this.workflowId));
        if (control.version >= this.control.version || !this.answered) this.control = control;
        this.answered = true;
      } catch (e) {
        // Temporal out of reach for a moment, or a value refused: the settings in force stay.
        this.log.warn(
          `${this.phase}: the workflow's settings could not be read (${(e as Error).message}); the settings in force stay`,
        );
      } finally {
        this.sourceRead = undefined;
      }
    })();
    return this.sourceRead;
  }

  async current(): Promise<Control> {
    if (this.source && Date.now() - this.sourceReadAt >= CONTROL_REFRESH_MS) {
      // Each answer is waited for a moment: a pause then stops the work within about
      // CONTROL_REFRESH_MS, as Temporal answers in milliseconds. The first a second at most
      // (right after a worker died, a query waits seconds for the dead worker's sticky queue
      // to time out), later ones less: without an answer the work goes on under the settings
      // in force, and the next read takes the answer when it comes.
      // The applier waits for none: its stream goes on filling while it waits, and under a
      // heavy load the first answer's second was a second of lag at once (MariaDB at half its
      // write ceiling), the later ones up to 150 ms in every 250. Its turns are 100 ms apart at
      // most, so an answer is taken within one turn of its coming.
      const read = this.readSource();
      if (this.phase === 'copy') {
        const wait = this.readAt === 0 ? FIRST_ANSWER_WAIT_MS : ANSWER_WAIT_MS;
        await Promise.race([read, new Promise((r) => setTimeout(r, wait))]);
      }
    }
    if (Date.now() - this.readAt >= CONTROL_REFRESH_MS) {
      const hints = await readHints(this.conn, this.plan, [HINT.applyBehind, HINT.control]);
      this.takeApplyLag(hints.get(HINT.applyBehind));
      // Until the workflow answers, its mirror may pause the work, and nothing more: a pause
      // is the one setting whose wrong value costs no data and runs nothing.
      if (this.source && !this.answered)
        this.control = { ...this.control, paused: mirroredPause(hints.get(HINT.control)) };
      this.readAt = Date.now();
    }
    return this.control;
  }

  /** The applier's lag, which the copy yields to: a number, whoever wrote it. */
  private takeApplyLag(value: string | undefined): void {
    const behind = Number(value ?? 0);
    this.applyBehindMs = Number.isFinite(behind) && behind > 0 ? Math.min(behind, 86_400_000) : 0;
    this.lagReadAt = Date.now();
    this.pacer?.observe(this.applyBehindMs, this.lagReadAt);
  }

  /** The applier's lag read again if it is older than the pacer's turn: the copy reacts within one. */
  private async freshApplyLag(): Promise<void> {
    if (!this.pacer || Date.now() - this.lagReadAt < PACE.turnMs) return;
    this.lagReadAt = Date.now(); // the other copiers do not ask too
    this.takeApplyLag((await readHints(this.conn, this.plan, [HINT.applyBehind])).get(HINT.applyBehind));
  }

  /** The copy's rest after a chunk that took `chunkMs`: its share of the time, set by the applier's lag. */
  async restAfterChunk(chunkMs: number): Promise<number> {
    await this.freshApplyLag();
    return this.pacer?.restAfter(chunkMs) ?? 0;
  }

  /** The copy's share of the time, in percent (100: full speed). */
  get copyDutyPercent(): number {
    return Math.round((this.pacer?.duty ?? 1) * 100);
  }

  /** Why to hold off now (null: go on); a change is reported to the workflow at once. */
  async throttled(): Promise<string | null> {
    await this.freshApplyLag();
    if (Date.now() - this.checkedAt >= CONTROL_REFRESH_MS || (this.pacer?.holding ?? false) !== this.holdingSeen) {
      // The copy also waits while the applier is far behind: rows it copies now only add to what
      // the applier competes with, and the cut-over needs the applier caught up anyway.
      this.holdingSeen = this.pacer?.holding ?? false;
      const reason =
        (await throttleReason(this.conn, await this.current(), this.input, this.lag, this.http)) ??
        (this.holdingSeen
          ? `${APPLY_LAG}: the applier is ${(this.applyBehindMs / 1000).toFixed(1)}s behind; the copy waits for it`
          : null);
      this.checkedAt = Date.now();
      if (reason !== this.reason) this.metrics?.throttled(this.phase, reason, this.reason);
      // Settling counts from a change of kind ("lag", "max-load", …), not of the figures in it.
      if (reasonKind(reason) !== reasonKind(this.reason)) this.changedAt = Date.now();
      this.reason = reason;
      this.reportReason();
    }
    return this.reason;
  }

  /**
   * Holds off while throttled, heartbeating; returns when work may go on (or on cancellation).
   * `whileHeld` runs on each turn: the copy reports there what its other threads committed
   * after the pause, else a paused migration shows a count that is behind until it resumes.
   */
  async waitWhileThrottled(heartbeat: unknown, whileHeld?: () => void): Promise<void> {
    const ctx = Context.current();
    while ((await this.throttled()) && !ctx.cancellationSignal.aborted) {
      ctx.heartbeat(heartbeat);
      whileHeld?.();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
