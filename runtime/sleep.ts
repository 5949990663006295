// An activity's sleep that ends early, with the activity's CancelledFailure, when the activity is
// cancelled; and lets go of everything once it wakes.
//
// Why not Context.sleep: @temporalio/activity 1.x races each sleep's timer against the activity's
// `cancelled` promise, attaching a handler to it; that promise stays pending while the activity
// runs, so every sleep's timer, promises and closures stay reachable until the activity ends.
// The copy sleeps after each chunk (gh-ost's nice ratio): the soak's copy, ~4,000 chunks a minute,
// grew the worker's heap by 6 MB a minute (13,000 live Timeout objects after 2.5 minutes, in a
// heap snapshot), freed only when the copy activity ended. A copy of weeks would not end first.
import { CancelledFailure, Context } from '@temporalio/activity';

export function sleep(ms: number, signal: AbortSignal = Context.current().cancellationSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new CancelledFailure('cancelled'));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new CancelledFailure('cancelled'));
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
