// Updates sent to a migration's workflow (abort, set, revert, finalize, the fleet's), sent
// again when the server gave the update to a workflow task that then failed to complete for a
// reason of its own: the server answers FAILED_PRECONDITION, "Unable to perform workflow
// execution update due to unexpected workflow task failure". Nothing of the update was
// applied then (the failed task's commands are not recorded), so sending it again is safe.
// Seen once in CI: `panic` on the socket of a migration under way, refused so, with nothing in
// the worker's log of a failed task.
// Any other refusal (a validator's, a completed workflow) is the answer, and is not retried.

/** Tries in all, and the wait before the second (doubled each time after). */
const ATTEMPTS = 5;
const FIRST_WAIT_MS = 200;

/** The server's refusal of an update whose workflow task failed: the error or one of its causes says so. */
export function refusedForTaskFailure(e: unknown): boolean {
  for (let x = e as { message?: unknown; cause?: unknown } | undefined; x; x = x.cause as typeof x) {
    if (/unexpected workflow task failure/i.test(String(x.message ?? ''))) return true;
  }
  return false;
}

/** `send()`'s answer, sent again while the server refuses it for a failed workflow task. */
export async function sendUpdate<T>(send: () => Promise<T>, wait = FIRST_WAIT_MS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      if (attempt >= ATTEMPTS || !refusedForTaskFailure(e)) throw e;
      await new Promise((r) => setTimeout(r, wait * 2 ** (attempt - 1)));
    }
  }
}

/**
 * Why the workflow refused what was asked: a refused update's reason (its validator's, or the
 * handler's failure) is the client error's cause; any other error speaks for itself.
 */
export function reasonOf(e: unknown): string {
  return (e as { cause?: Error }).cause?.message ?? (e as Error).message;
}
