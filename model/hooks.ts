// gh-ost's hooks as the workflow calls them: which moment, and what it knows then (the
// worker runs them: runtime/hooks.ts).
export type HookName =
  | 'on-startup'
  | 'on-validated'
  | 'on-rowcount-complete'
  | 'on-before-row-copy'
  | 'on-status'
  | 'on-row-copy-complete'
  | 'on-begin-postponed'
  | 'on-before-cut-over'
  | 'on-success'
  | 'on-failure';

/** What the workflow knows at the moment of the hook, as gh-ost passes it. */
export interface HookContext {
  /** The old table's name, once the plan has it (--timestamp-old-table makes it at the start). */
  oldTable?: string;
  elapsedSeconds: number;
  copyElapsedSeconds: number;
  estimatedRows: number;
  copiedRows: number;
  progress: number;
  etaSeconds?: number;
  status?: string;
  failure?: string;
  executingHost: string;
  migratedHost: string;
}
