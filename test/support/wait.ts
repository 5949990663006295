// The suite's one way to wait a while: tests wait on the thing itself where they can
// (helpers.ts: waitForStatus, waitForPhase); a fixed pause is for spacing, never for "long enough".

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Until `holds()` is true, asked every `everyMs`; past `timeoutMs`, fails naming `what` was
 * awaited. For a condition of the servers' (a session gone, a statement running) that no
 * status reports.
 */
export async function waitFor(
  what: string,
  holds: () => Promise<boolean>,
  { timeoutMs = 15_000, everyMs = 100 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  await waitForValue(what, async () => ((await holds()) ? true : undefined), { timeoutMs, everyMs });
}

/** As waitFor, until `value()` gives something, which it returns (a status that reached a state, say). */
export async function waitForValue<T>(
  what: string,
  value: () => Promise<T | undefined>,
  { timeoutMs = 15_000, everyMs = 100 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await value();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
