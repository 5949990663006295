// Every message a migration's and a fleet's workflows answer, defined once: the workflows set
// their handlers on these, and the CLI, the worker, the tests and the bench send them, so a
// name or a payload's type is written in one place. (Definitions only: importing them runs no
// workflow code.)
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Control } from './settings';
import type { FleetReady, FleetStatus, MigrationStatus, ProgressReport } from './types';

// ---- A migration (migrateTable) -----------------------------------------------------------

export const statusQuery = defineQuery<MigrationStatus>('status');
export const progressSignal = defineSignal<[ProgressReport]>('progress');
/** Several reports at once, in the order they were made (worker/progress-batcher.ts); `progress` stays for workers of earlier builds. */
export const progressReportsSignal = defineSignal<[ProgressReport[]]>('progress-reports');
/** gh-ost's `unpostpone`: cut over as soon as the copy is complete. */
export const cutOverSignal = defineSignal('cut-over');
/** gh-ost's `throttle` / `no-throttle`: copy and apply both stop, and go on. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** gh-ost's `chunk-size=`, `max-load=`, …: validated, applied, answered with the settings in force. */
export const setUpdate = defineUpdate<Control, [Record<string, unknown>]>('set');
/** gh-ost's `panic`, gentler: stop; drop ghost and changelog, or keep them for --resurrect. */
export const abortUpdate = defineUpdate<string, [{ cleanup?: boolean }]>('abort');
/** A fleet's `set` and `abort`, passed on to each running target as signals: a workflow cannot send another an update. */
export const setSignal = defineSignal<[Record<string, unknown>]>('set-settings');
export const abortSignal = defineSignal<[{ cleanup?: boolean }]>('abort-migration');
/** Sent to the fleet (input.fleet) by a target that holds for the fleet's cut-over together. */
export const fleetReadySignal = defineSignal<[FleetReady]>('target-ready');

/** `revenant revert`: swap the kept table back in (answered once the swap is done). */
export const revertUpdate = defineUpdate<string>('revert');
/** `revenant finalize`: end the window now; the kept table is kept or dropped as the migration said. */
export const finalizeUpdate = defineUpdate<string>('finalize');

// ---- A fleet (migrateFleet): pause, resume and cut-over are the migration's own -----------

/** A fleet's cut-over together swapped this target back in one RENAME (its revert window goes on the other way). */
export const groupRevertedSignal = defineSignal('group-reverted');
/** A fleet's cut-over together: revert every table of each server's RENAME back, again in one RENAME each. */
export const fleetRevertUpdate = defineUpdate<string>('revert');
export const fleetStatusQuery = defineQuery<FleetStatus>('fleet-status');
export const fleetSetUpdate = defineUpdate<Record<string, unknown>, [Record<string, unknown>]>('set');
export const fleetAbortUpdate = defineUpdate<string, [{ cleanup?: boolean }]>('abort');
