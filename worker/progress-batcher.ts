// Progress reaches a migration's workflow as signals, and each signal costs its history four
// events (the signal and a workflow task). The copy, the applier and each one's throttle report
// on their own clocks; sent as they came, the benchmark's busiest run (MySQL, 1,406 tx/s, the
// copy yielding to its applier again and again) grew its history by 365 events in 76 s.
//
// So a worker gathers the reports meant for one workflow and sends them as one signal,
// `progress-reports`: the first at once, later ones at most once a window, the window widening
// as the workflow ages (as each reporter's own interval does, runtime/progress.ts), except
// the first report of each kind, which goes at once (a status with rows copied has a binlog
// position too, and a short copy is seen copying before it ends). A newer
// report of the same kind replaces one still waiting (each carries the whole state of its kind);
// a resume, or a report its activity insists on (the copy's last), goes at once with whatever
// waits.
//
// The window: 4 s, and a twentieth of the workflow's age past 80 s. With 2 s and a thirtieth,
// a copy held back by its applier for 154 s (MySQL at 90 % of its ceiling) sent 58 signals, a
// history of 284 events; now about 33. A status a few seconds old is what a person reads; every
// signal also costs the worker and the server a workflow task beside the copy.
import { setMaxListeners } from 'node:events';
import type { ReportTarget } from '../runtime/progress';
import type { ProgressReport } from '../model/types';

/** Sends one signal; gives up when the signal aborts (the worker closing). */
export type SendReports = (target: ReportTarget, reports: ProgressReport[], signal: AbortSignal) => Promise<void>;

export const MIN_WINDOW_MS = 4_000;
const MAX_WINDOW_MS = 60_000;
/** A workflow not heard from for this long is forgotten (a worker may serve thousands). */
const FORGET_AFTER_MS = 3_600_000;

interface Outbox {
  target: ReportTarget;
  firstAt: number;
  sentAt: number;
  waiting: Map<string, ProgressReport>;
  sentKinds: Set<string>;
  timer?: NodeJS.Timeout;
}

export class ProgressBatcher {
  private readonly outboxes = new Map<string, Outbox>();
  private resumes = 0;
  private sweptAt: number;
  /** Sends not yet settled: closing waits for them, so none outlives its connection. */
  private readonly sending = new Set<Promise<void>>();
  private readonly closing = new AbortController();

  constructor(
    private readonly send: SendReports,
    private readonly now: () => number = Date.now,
  ) {
    this.sweptAt = now();
    // Every send in flight listens on it, each for up to its 10 s deadline: past 10 (a slow
    // server, many workflows), Node would warn of a leak that is not.
    setMaxListeners(10_000, this.closing.signal);
  }

  add(target: ReportTarget, report: ProgressReport, urgent = false): void {
    if (this.closing.signal.aborted) return;
    const now = this.now();
    this.sweep(now);
    const key = `${target.workflowId}\n${target.runId ?? ''}`;
    const box = this.outboxes.get(key) ?? this.open(key, target, now);
    const kind =
      report.kind === 'throttle'
        ? `throttle:${report.phase}`
        : report.kind === 'resume'
          ? `resume:${++this.resumes}`
          : report.kind;
    // Deleted first: the waiting reports go in the order of their latest version.
    box.waiting.delete(kind);
    box.waiting.set(kind, report);
    const window = Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, (now - box.firstAt) / 20));
    if (urgent || report.kind === 'resume' || !box.sentKinds.has(kind) || now - box.sentAt >= window) {
      this.flush(box, now);
    } else if (!box.timer) {
      box.timer = setTimeout(() => this.flush(box, this.now()), box.sentAt + window - now);
      box.timer.unref();
    }
  }

  private open(key: string, target: ReportTarget, now: number): Outbox {
    const box: Outbox = { target, firstAt: now, sentAt: 0, waiting: new Map(), sentKinds: new Set() };
    this.outboxes.set(key, box);
    return box;
  }

  private flush(box: Outbox, now: number): void {
    if (box.timer) clearTimeout(box.timer);
    box.timer = undefined;
    if (!box.waiting.size) return;
    const reports = [...box.waiting.values()];
    for (const kind of box.waiting.keys()) box.sentKinds.add(kind);
    box.waiting.clear();
    box.sentAt = now;
    // A lost report costs nothing: the next one, or the activity's result, carries the same.
    const sent = this.send(box.target, reports, this.closing.signal).catch(() => {});
    this.sending.add(sent);
    sent.finally(() => this.sending.delete(sent));
  }

  /**
   * Before the worker's connection closes: no timer fires after this, and every send still in
   * flight is given up and settled. (A send retried by the client after its channel closed
   * would throw from a timer, outside any promise.)
   */
  async close(): Promise<void> {
    this.closing.abort();
    for (const box of this.outboxes.values()) {
      if (box.timer) clearTimeout(box.timer);
      box.timer = undefined;
    }
    await Promise.allSettled([...this.sending]);
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < FORGET_AFTER_MS / 6) return;
    this.sweptAt = now;
    for (const [id, box] of this.outboxes) {
      if (!box.timer && !box.waiting.size && now - box.sentAt > FORGET_AFTER_MS) this.outboxes.delete(id);
    }
  }
}
