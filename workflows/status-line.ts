// gh-ost's status line, from the workflow's status: printed by the CLI and the socket, and kept as
// the workflow's current details for Temporal Web (pure code: the workflow imports it).
import type { MigrationStatus } from '../model/types';
import { settingsText } from '../model/settings';

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return 'N/A';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${m}m${s % 60}s` : m ? `${m}m${s % 60}s` : `${s}s`;
}

export function statusLine(s: MigrationStatus): string {
  const pos = s.binlogPosition ? `${s.binlogPosition.file}:${s.binlogPosition.position}` : 'N/A';
  return (
    `Copy: ${s.rowsCopied}/${s.rowsEstimate} ${s.percent.toFixed(1)}%; Applied: ${s.eventsApplied}; Backlog: ${s.backlogBytes}B; ` +
    `Time: ${duration(s.elapsedSeconds)}(total), ${duration(s.copyElapsedSeconds)}(copy); streamer: ${pos}; Lag: ${s.lagSeconds.toFixed(2)}s; ` +
    `State: ${s.phase}${s.cutOverPostponed && s.phase === 'postponed' ? ' (cut-over postponed)' : ''}${s.throttled ? `, throttled (${s.throttled})` : ''}` +
    `${s.copyPacePercent !== undefined && s.phase === 'migrating' ? `, copy at ${s.copyPacePercent}% pace (apply lag)` : ''}; ETA: ${s.phase === 'migrating' ? duration(s.etaSeconds) : s.etaSeconds === 0 ? 'due' : 'N/A'}` +
    (s.resumes ? `; Resumed: ${s.resumes}x (redone: ${s.redoneChunks} chunks, ${s.redoneEvents} events)` : '') +
    (s.hibernations ? `; Hibernated: ${s.hibernations}x` : '') +
    (s.renewals ? `; Continued as new: ${s.renewals}x` : '')
  );
}

/** The settings in force, one line. */
export function settingsLine(s: MigrationStatus): string {
  return settingsText(s.settings);
}
