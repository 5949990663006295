// A workflow's input completed by its model (model/migration-input.ts, model/fleet-input.ts), or
// the workflow's failure naming what does not fit: final, never retried, nothing run before it.
import { ApplicationFailure } from '@temporalio/workflow';
import { InputRefused } from '../model/migration-input';

export function checkedInput<T>(complete: (given: unknown) => T, given: unknown): T {
  try {
    return complete(given);
  } catch (e) {
    if (e instanceof InputRefused) throw ApplicationFailure.nonRetryable(e.message, 'InvalidInput');
    throw e;
  }
}
