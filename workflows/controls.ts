// The operator's hand on a running migration: pause, resume, set (an update, validated before it
// is accepted) and abort; and the same from a fleet's workflow as signals (validated there; a
// value this target cannot take is ignored, as is an abort too late).
import { setHandler } from '@temporalio/workflow';
import { abortSignal, abortUpdate, pauseSignal, resumeSignal, setSignal, setUpdate } from '../model/messages';
import { validateChange, type Control } from '../model/settings';
import type { MigrationStatus, Phase } from '../model/types';

/** Phases past which an abort is refused (the cut-over has begun, or the migration ended). */
export const TERMINAL_PHASES: Phase[] = [
  'cutting-over',
  'revertible',
  'cleaning-up',
  'completed',
  'dry-run-completed',
  'failed',
  'aborted',
];

export function registerControlHandlers(
  status: MigrationStatus,
  changeControl: (change: Partial<Control>) => Promise<Control>,
  abort: (arg: { cleanup?: boolean } | undefined) => string,
): void {
  setHandler(pauseSignal, () => {
    void changeControl({ paused: true });
  });
  setHandler(resumeSignal, () => {
    void changeControl({ paused: false });
  });
  setHandler(setUpdate, (change) => changeControl(validateChange(change)), {
    validator: (change) => {
      validateChange(change);
    },
  });
  setHandler(abortUpdate, abort, {
    validator: (_arg) => {
      if (TERMINAL_PHASES.includes(status.phase)) throw new Error(`cannot abort in phase ${status.phase}`);
    },
  });
  // The fleet's (validated there; a value this target cannot take is ignored, as is an abort too late).
  setHandler(setSignal, (change) => {
    let valid: Partial<Control>;
    try {
      valid = validateChange(change);
    } catch {
      return;
    }
    void changeControl(valid);
  });
  setHandler(abortSignal, (arg) => {
    if (!TERMINAL_PHASES.includes(status.phase)) abort(arg);
  });
}
