// When a retried copy or applier hands back to its workflow (LongRunTerms in model/types.ts):
// once it has run for HAND_BACK_AFTER_MS since its attempt began, that attempt being a retry.
// Having run that long without failing is what "recovered" means here: a throttled copy is
// running well too, and an attempt that fails again never gets there.
import { Context } from '@temporalio/activity';
import type { LongRunTerms } from '../model/types';

/** A minute; REVENANT_HAND_BACK_AFTER_MS sets another (the tests' shorter wait). */
export const HAND_BACK_AFTER_MS = Number(process.env.REVENANT_HAND_BACK_AFTER_MS) || 60_000;

/** Whether this attempt, begun at `startedAt` (epoch ms), is to hand back now. */
export function handBackDue(terms: LongRunTerms | undefined, startedAt: number): boolean {
  return terms?.handBack === true && Context.current().info.attempt > 1 && Date.now() - startedAt >= HAND_BACK_AFTER_MS;
}
