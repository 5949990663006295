// When a retried copy or applier hands back to its workflow (LongRunTerms in model/types.ts):
// once it has run for HAND_BACK_AFTER_MS since its attempt began, that attempt being a retry.
// Having run that long without failing is what "recovered" means here: a throttled copy is
// running well too, and an attempt that fails again never gets there.
import { Context } from '@temporalio/activity';
import type { LongRunTerms } from '../model/types';

/** A minute; REVENANT_HAND_BACK_AFTER_MS sets another (the tests' shorter wait). */
export const HAND_BACK_AFTER_MS = Number(process.env.REVENANT_HAND_BACK_AFTER_MS) || 60_000;

/** One attempt's terms, read once as it begins: the loops that ask only compare the clock. */
export class HandBack {
  /** The first attempt of a run that follows a hand-back: no resume to report (the one before it was). */
  readonly followsHandBack: boolean;
  /** When this attempt is to hand back (epoch ms); never unless it is a retry and the workflow allows it. */
  private readonly dueAt: number;
  private handingBack = false;

  constructor(terms: LongRunTerms | undefined) {
    const { attempt } = Context.current().info;
    this.followsHandBack = terms?.afterHandBack === true && attempt === 1;
    this.dueAt = terms?.handBack === true && attempt > 1 ? Date.now() + HAND_BACK_AFTER_MS : Number.POSITIVE_INFINITY;
  }

  /** Whether to hand back now; once true, true for the rest of the attempt. */
  get due(): boolean {
    if (!this.handingBack) this.handingBack = Date.now() >= this.dueAt;
    return this.handingBack;
  }
}
