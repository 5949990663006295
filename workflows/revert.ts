// The revert window's messages (--revert-window): `revenant revert` and `revenant finalize`.
// Its rules, which the activities share, are model/revert-window.ts.
import { defineUpdate } from '@temporalio/workflow';

/** `revenant revert`: swap the kept table back in (answered once the swap is done). */
export const revertUpdate = defineUpdate<string>('revert');
/** `revenant finalize`: end the window now; the kept table is kept or dropped as the migration said. */
export const finalizeUpdate = defineUpdate<string>('finalize');
