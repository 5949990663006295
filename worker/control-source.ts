// The settings in force for a migration, as its workflow reports them (the status query's
// `settings`). Copy, apply and the cut-over ask through here; answers are shared for a
// moment between the activities of one workflow on this worker, so a migration costs
// Temporal a few queries a second however many copiers it runs.
import { setMaxListeners } from 'node:events';
import type { MigrationStatus } from '../model/types';

/** How long one answer serves every activity of the workflow. */
const SHARED_MS = 200;

/** A question to the workflow, given up when the signal aborts. */
export type StatusQuery = (workflowId: string, signal: AbortSignal) => Promise<MigrationStatus>;

export class ControlSourceCache {
  private readonly answers = new Map<string, { at: number; answer: Promise<unknown> }>();
  /** Aborted when the worker closes: a question still retrying then ends, its connection gone. */
  private readonly closing = new AbortController();
  /** Questions not yet settled: closing waits for them, so none outlives its connection. */
  private readonly asking = new Set<Promise<unknown>>();

  constructor(private readonly ask: StatusQuery) {
    // Every question in flight listens on it (a worker of a fleet asks for many workflows at
    // once, each for up to its deadline); Node's default of 10 would warn of a leak that is not.
    setMaxListeners(10_000, this.closing.signal);
  }

  read = (workflowId: string): Promise<unknown> => {
    if (this.closing.signal.aborted) return Promise.reject(new Error('the worker is shutting down'));
    const now = Date.now();
    const cached = this.answers.get(workflowId);
    if (cached && now - cached.at < SHARED_MS) return cached.answer;
    const answer = this.ask(workflowId, this.closing.signal).then((status) => status.settings);
    this.answers.set(workflowId, { at: now, answer });
    // A failed answer is not kept; old entries go as new ones come.
    answer.catch(() => this.answers.delete(workflowId));
    const settled = answer.catch(() => {});
    this.asking.add(settled);
    settled.finally(() => this.asking.delete(settled));
    for (const [id, a] of this.answers) if (now - a.at > 60_000) this.answers.delete(id);
    return answer;
  };

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.asking]);
  }
}
