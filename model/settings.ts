// The settings an operator may change while a migration runs (gh-ost's interactive
// commands), and their validation. Pure: used by the workflow's update validator, by the
// activities and by the CLI, so a bad value is refused the same way everywhere.
import { INPUT_FIELDS, MAX_COPY_THREADS } from './migration-input';
import { DEFAULTS, type MigrationInput } from './types';

export interface Settings {
  chunkSize: number;
  /** Adapt the chunk size so that a chunk takes about this long (0: fixed --chunk-size, gh-ost's way). */
  chunkTargetMillis?: number;
  /** Copiers at work at once. */
  copyThreads?: number;
  dmlBatchSize: number;
  niceRatio: number;
  maxLagMillis: number;
  /** gh-ost's --max-load: "Threads_running=25,…"; '' for none. */
  maxLoad: string;
  /** gh-ost's --critical-load; '' for none. */
  criticalLoad: string;
  /** gh-ost's --throttle-query: a SELECT whose positive result throttles; '' for none. */
  throttleQuery: string;
  /** gh-ost's --throttle-http: a URL whose HEAD answer other than 200 throttles; '' or absent for none. */
  throttleHttp?: string;
}

/** What copy and apply read from the changelog: the settings, and whether the operator paused. */
export interface Control extends Settings {
  paused: boolean;
  version: number;
}

export const SETTING_NAMES: Record<string, keyof Settings> = {
  'chunk-size': 'chunkSize',
  chunkSize: 'chunkSize',
  'chunk-target-millis': 'chunkTargetMillis',
  chunkTargetMillis: 'chunkTargetMillis',
  'copy-threads': 'copyThreads',
  copyThreads: 'copyThreads',
  'dml-batch-size': 'dmlBatchSize',
  dmlBatchSize: 'dmlBatchSize',
  'nice-ratio': 'niceRatio',
  niceRatio: 'niceRatio',
  'max-lag-millis': 'maxLagMillis',
  maxLagMillis: 'maxLagMillis',
  'max-load': 'maxLoad',
  maxLoad: 'maxLoad',
  'critical-load': 'criticalLoad',
  criticalLoad: 'criticalLoad',
  'throttle-query': 'throttleQuery',
  throttleQuery: 'throttleQuery',
  'throttle-http': 'throttleHttp',
  throttleHttp: 'throttleHttp',
};

export function settingsFrom(input: MigrationInput): Settings {
  return {
    chunkSize: input.chunkSize,
    chunkTargetMillis: input.chunkTargetMillis ?? 0,
    copyThreads: input.copyThreads ?? DEFAULTS.copyThreads,
    dmlBatchSize: input.dmlBatchSize,
    niceRatio: input.niceRatio ?? 0,
    maxLagMillis: input.maxLagMillis ?? 1500,
    maxLoad: input.maxLoad ?? '',
    criticalLoad: input.criticalLoad ?? '',
    throttleQuery: input.throttleQuery ?? '',
    ...(input.throttleHttp ? { throttleHttp: input.throttleHttp } : {}),
  };
}

/** Thresholds in gh-ost's format, "Threads_running=100,Threads_connected=500". */
export function parseThresholds(spec: string | undefined, flag: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!spec?.trim()) return out;
  for (const part of spec.split(',')) {
    const m = /^\s*([A-Za-z_]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) throw new Error(`${flag}: "${part.trim()}" is not status_variable=number (e.g. Threads_running=100)`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Copiers a migration may run at once (each holds a connection). */
export { MAX_COPY_THREADS };

/** A setting's name as gh-ost's flag: its kebab-case spelling in SETTING_NAMES. */
const flagOf = (field: keyof Settings): string =>
  Object.keys(SETTING_NAMES).find((n) => n.includes('-') && SETTING_NAMES[n] === field) ?? field;

/**
 * A numeric setting, within the bounds the input model gives its field (model/migration-input.ts):
 * a start, a `set` and the CLI's flags take the same values.
 */
function bounded(
  field: 'chunkSize' | 'chunkTargetMillis' | 'copyThreads' | 'dmlBatchSize' | 'maxLagMillis' | 'niceRatio',
  flag: string,
  v: unknown,
): number {
  const spec = INPUT_FIELDS[field];
  if (spec.kind !== 'integer' && spec.kind !== 'number') throw new Error(`${field} is not a numeric field`);
  const pattern = spec.kind === 'integer' ? /^\s*-?\d+\s*$/ : /^\s*-?\d+(\.\d+)?\s*$/;
  const n = typeof v === 'string' && pattern.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || (spec.kind === 'integer' && !Number.isInteger(n)))
    throw new Error(
      `${flag} must be a ${spec.kind === 'integer' ? 'whole number' : 'number'}, got ${JSON.stringify(v)}`,
    );
  if (n < spec.min || n > spec.max) throw new Error(`${flag} must be between ${spec.min} and ${spec.max}, got ${n}`);
  return n;
}

/**
 * Checks a change of settings (names as gh-ost's flags or as fields) and returns it
 * normalised; throws with the reason for the first bad value. Nothing is applied here.
 */
export function validateChange(change: Record<string, unknown>): Partial<Settings> {
  if (!change || typeof change !== 'object' || Object.keys(change).length === 0)
    throw new Error('no setting to change');
  const out: Partial<Settings> = {};
  for (const [rawName, v] of Object.entries(change)) {
    const name = SETTING_NAMES[rawName];
    if (!name)
      throw new Error(
        `unknown setting ${rawName} (settable: ${Object.keys(SETTING_NAMES)
          .filter((n) => n.includes('-'))
          .join(', ')})`,
      );
    switch (name) {
      case 'chunkSize':
        out.chunkSize = bounded(name, flagOf(name), v);
        // An operator who sets the chunk size means that size: it pins it, unless the same change adapts.
        if (!('chunk-target-millis' in change) && !('chunkTargetMillis' in change)) out.chunkTargetMillis = 0;
        break;
      case 'chunkTargetMillis':
      case 'copyThreads':
      case 'dmlBatchSize':
      case 'maxLagMillis':
      case 'niceRatio':
        out[name] = bounded(name, flagOf(name), v);
        break;
      case 'maxLoad':
      case 'criticalLoad': {
        const flag = name === 'maxLoad' ? 'max-load' : 'critical-load';
        if (typeof v !== 'string')
          throw new Error(`${flag} must be a string like Threads_running=25, got ${JSON.stringify(v)}`);
        parseThresholds(v, flag);
        out[name] = v.trim();
        break;
      }
      case 'throttleQuery': {
        if (typeof v !== 'string') throw new Error(`throttle-query must be a string, got ${JSON.stringify(v)}`);
        const q = v.trim();
        if (q && (!/^SELECT\b/i.test(q) || q.includes(';')))
          throw new Error('throttle-query must be a single SELECT statement');
        out.throttleQuery = q;
        break;
      }
      case 'throttleHttp': {
        if (typeof v !== 'string') throw new Error(`throttle-http must be a URL, got ${JSON.stringify(v)}`);
        const url = v.trim();
        if (url && !/^https?:\/\/[^\s]+$/i.test(url))
          throw new Error(`throttle-http must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
        out.throttleHttp = url;
        break;
      }
    }
  }
  return out;
}
