// What a failure means to the workflow: its type, its words, and whether it is critical load.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** The reason, when `e` is the copy stopping on critical load. */
export function criticalLoad(e: unknown): string | undefined {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof ApplicationFailure && cause.type === 'CriticalLoad')
    return String(cause.details?.[0] ?? cause.message);
  return undefined;
}

export function failureType(e: unknown): string {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  return cause instanceof ApplicationFailure && cause.type ? cause.type : 'MigrationFailed';
}

/** What failed, in the words of the failure's cause when it has one (an activity's, a child workflow's). */
export function failureMessage(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message ? cause.message : e.message;
  }
  return String(e);
}
