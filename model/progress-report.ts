// The progress reports a worker signals to its migration ('progress', 'progress-reports'), checked
// before the workflow takes them in. Any Temporal client can send a signal: a report of the wrong
// shape would throw in the handler and fail every workflow task from then on (the migration stuck
// until someone terminates it), and a number that is not one would show in the status. A report
// that does not fit is dropped: the next one, or the activity's result, carries the same facts.
import type { ProgressReport } from './types';

type Shape = Record<
  string,
  'count' | 'percent' | 'number' | 'string' | 'boolean' | 'position' | 'copy' | 'apply' | 'phase'
>;

const COPY: Shape = { rowsCopied: 'count', chunksCopied: 'count', done: 'boolean' };
const COPY_OPTIONAL: Shape = { rowsCounted: 'count', chunkSize: 'count', pacePercent: 'percent' };
const APPLY: Shape = { eventsApplied: 'count', position: 'position', lagSeconds: 'number', backlogBytes: 'number' };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fits(value: unknown, kind: Shape[string]): boolean {
  switch (kind) {
    case 'count':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
    case 'percent':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= 100;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string' && value.length <= 4096;
    case 'boolean':
      return typeof value === 'boolean';
    case 'phase':
      return value === 'copy' || value === 'apply';
    case 'position':
      return (
        isObject(value) &&
        typeof value.file === 'string' &&
        value.file.length <= 512 &&
        typeof value.position === 'number' &&
        Number.isSafeInteger(value.position) &&
        value.position >= 0 &&
        (value.gtid === undefined || (typeof value.gtid === 'string' && value.gtid.length <= 65_536))
      );
    case 'copy':
      return has(value, COPY, COPY_OPTIONAL);
    case 'apply':
      return has(value, APPLY, {});
  }
}

function has(value: unknown, required: Shape, optional: Shape): boolean {
  if (!isObject(value)) return false;
  for (const [key, kind] of Object.entries(required)) if (!fits(value[key], kind)) return false;
  for (const [key, kind] of Object.entries(optional)) {
    if (value[key] !== undefined && !fits(value[key], kind)) return false;
  }
  return true;
}

/** The report, if it has the shape revenant's workers send; undefined if not. */
export function checkedReport(report: unknown): ProgressReport | undefined {
  if (!isObject(report)) return undefined;
  switch (report.kind) {
    case 'copy':
      return has(report, { copy: 'copy' }, {}) ? (report as unknown as ProgressReport) : undefined;
    case 'apply':
      return has(report, { apply: 'apply' }, {}) ? (report as unknown as ProgressReport) : undefined;
    case 'resume':
      return has(report, { phase: 'phase', attempt: 'count', checkpoint: 'string', redone: 'count' }, {})
        ? (report as unknown as ProgressReport)
        : undefined;
    case 'throttle': {
      const reason = report.reason;
      if (reason !== null && !(typeof reason === 'string' && reason.length <= 4096)) return undefined;
      return has(report, { phase: 'phase' }, { copy: 'copy', apply: 'apply' })
        ? (report as unknown as ProgressReport)
        : undefined;
    }
    case 'cut-over':
      return has(report, { blockers: 'string' }, {}) ? (report as unknown as ProgressReport) : undefined;
    default:
      return undefined;
  }
}

/** The reports of a 'progress-reports' signal that fit; none if it is not a list. */
export function checkedReports(reports: unknown): ProgressReport[] {
  if (!Array.isArray(reports)) return [];
  return reports.map(checkedReport).filter((r): r is ProgressReport => r !== undefined);
}
