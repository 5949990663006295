// The suite's one way to wait a while: tests wait on the thing itself where they can
// (helpers.ts: waitForStatus, waitForPhase); a fixed pause is for spacing, never for "long enough".

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
