// The settings an operator may change while a migration runs (gh-ost's interactive
// commands), declared once: a row of SETTING_TABLE gives a setting's field, its gh-ost flag,
// kind, bounds, default and help. Everything else is derived from it: the Settings type, the
// input's fields (model/migration-input.ts), the validation that `revenant set`, the socket,
// the CLI, the workflow's update validator and the activities' re-check share, the CLI's
// flags and `--help` (client/flag-table.ts), the socket's commands (client/interactive.ts) and
// the settings line. A new settable flag is one row here plus the code that reads it. Pure.

/** How a setting's value is written and checked. */
export type SettingKind =
  /** A whole number within min and max. */
  | 'integer'
  /** A number within min and max. */
  | 'number'
  /** Whole seconds within min and max, given as a number or a duration: 90s, 30m, 24h, 7d. */
  | 'duration'
  /** gh-ost's "Threads_running=25,Threads_connected=500"; '' for none. */
  | 'thresholds'
  /** One SELECT statement; '' for none. */
  | 'select'
  /** An http:// or https:// URL; '' for none. */
  | 'url';

interface SettingRow {
  /** The field in the input, the settings and the status. */
  field: string;
  /** gh-ost's flag (and socket command) for it. */
  flag: string;
  kind: SettingKind;
  min?: number;
  max?: number;
  /** What a migration that was not given it runs with; absent: nothing (the setting is off). */
  default?: number | string;
  /** Every input holds it: the input fills in its default (gh-ost's required tunables). */
  inInput?: true;
  /** May be absent from a running migration's settings (one started by an earlier release, or off). */
  optional?: true;
  /** The group of `revenant migrate --help` it shows in. */
  group: 'Tables and cut-over' | 'Copy and apply' | 'Throttling';
  /** Its line in `--help`; "revenant:" first for a flag gh-ost does not have. */
  help: string;
  /** Its command on the socket, gh-ost's words: the value's placeholder and what the command does. */
  command: { arg: string; does: string };
}

export const MAX_COPY_THREADS = 16;
/** Apply lanes (binlog/apply-lanes.ts); a retry reads this many lane checkpoints. */
export const MAX_APPLY_THREADS = 16;

// The order is the settings object's (what a running migration's status and history hold).
export const SETTING_TABLE = [
  {
    field: 'chunkSize',
    flag: 'chunk-size',
    kind: 'integer',
    min: 10,
    max: 100_000,
    default: 1000,
    inInput: true,
    group: 'Copy and apply',
    help: 'rows per copied chunk, 10 to 100,000 (given alone: every chunk has at most this many; default 1000, adapted)',
    command: { arg: '<newsize>', does: 'Set a new chunk-size' },
  },
  {
    field: 'chunkTargetMillis',
    flag: 'chunk-target-millis',
    kind: 'integer',
    min: 0,
    max: 60_000,
    // 0: fixed --chunk-size. A start given neither adapts at 100 ms (INPUT_DEFAULTS.chunkTargetMillis).
    default: 0,
    optional: true,
    group: 'Copy and apply',
    help: 'revenant: chunks adapt to take about this long (default when --chunk-size is not given)',
    command: { arg: '<ms>', does: 'revenant: adapt the chunk size to take this long (0: fixed chunk-size)' },
  },
  {
    field: 'copyThreads',
    flag: 'copy-threads',
    kind: 'integer',
    min: 1,
    max: MAX_COPY_THREADS,
    default: 2,
    optional: true,
    group: 'Copy and apply',
    help: 'revenant: copiers working at once, each on its own chunk',
    command: { arg: '<n>', does: 'revenant: set the number of copiers' },
  },
  {
    field: 'dmlBatchSize',
    flag: 'dml-batch-size',
    kind: 'integer',
    min: 1,
    max: 100,
    default: 10,
    inInput: true,
    group: 'Copy and apply',
    help: 'binlog events applied per transaction, 1 to 100 (default 10)',
    command: { arg: '<newsize>', does: 'Set a new dml-batch-size' },
  },
  {
    field: 'niceRatio',
    flag: 'nice-ratio',
    kind: 'number',
    min: 0,
    max: 100,
    default: 0,
    group: 'Copy and apply',
    help: 'after each chunk, rest this many times as long as it took (0: no rest)',
    command: {
      arg: '<ratio>',
      does: 'Set a new nice-ratio, immediate sleep after each row-copy operation, float (examples: 0 is aggressive, 0.7 adds 70% runtime, 1.0 doubles runtime, 2.0 triples runtime, ...)',
    },
  },
  {
    field: 'maxLagMillis',
    flag: 'max-lag-millis',
    kind: 'integer',
    min: 100,
    max: 3_600_000,
    default: 1500,
    group: 'Throttling',
    help: 'replica lag at which copy and apply hold (default 1500)',
    command: { arg: '<max-lag>', does: 'Set a new replication lag threshold' },
  },
  {
    field: 'maxLoad',
    flag: 'max-load',
    kind: 'thresholds',
    default: '',
    group: 'Throttling',
    help: 'status=threshold,…: throttle while one is exceeded, e.g. Threads_running=50',
    command: { arg: '<load>', does: 'Set a new set of max-load thresholds' },
  },
  {
    field: 'criticalLoad',
    flag: 'critical-load',
    kind: 'thresholds',
    default: '',
    group: 'Throttling',
    help: 'status=threshold,…: stop the migration when one is exceeded',
    command: { arg: '<load>', does: 'Set a new set of critical-load thresholds' },
  },
  {
    field: 'throttleQuery',
    flag: 'throttle-query',
    kind: 'select',
    default: '',
    group: 'Throttling',
    help: 'a query run every second on the server: a result above 0 throttles',
    command: { arg: '<query>', does: 'Set a new throttle-query (no quotes)' },
  },
  {
    field: 'throttleHttp',
    flag: 'throttle-http',
    kind: 'url',
    optional: true,
    group: 'Throttling',
    help: 'a URL checked with HEAD: any answer but 200 throttles',
    command: { arg: '<URL>', does: 'Set a new throttle URL' },
  },
  {
    field: 'forceCutOverAfterSeconds',
    flag: 'force-cut-over-after',
    kind: 'duration',
    min: 0,
    max: 30 * 86_400,
    default: 0,
    optional: true,
    group: 'Tables and cut-over',
    help: 'revenant: once the cut-over has failed to lock the table this long (5s, 2m), kill the sessions that hold it (KILL for an open transaction, KILL QUERY otherwise), sparing a transaction that modified over a million rows; 0, the default: never',
    command: {
      arg: '<duration>',
      does: 'revenant: kill the sessions that block the cut-over once its lock waits failed this long (0: never)',
    },
  },
  {
    field: 'applyThreads',
    flag: 'apply-threads',
    kind: 'integer',
    min: 1,
    max: MAX_APPLY_THREADS,
    default: 1,
    optional: true,
    group: 'Copy and apply',
    help: 'revenant: connections applying a large batch of binlog events at once, each a share of the keys (default 1: one; more helps a server with cores to spare)',
    command: { arg: '<n>', does: 'revenant: set the number of connections applying binlog events at once' },
  },
] as const satisfies readonly SettingRow[];

type Row = (typeof SETTING_TABLE)[number];
type ValueOf<R extends Row> = R['kind'] extends 'integer' | 'number' | 'duration' ? number : string;

/** The settings in force: every row's field, present unless the row is optional. */
export type Settings = { [R in Row as R extends { optional: true } ? never : R['field']]: ValueOf<R> } & {
  [R in Row as R extends { optional: true } ? R['field'] : never]?: ValueOf<R>;
};

/** The settings as a migration's input holds them: the inInput rows always, the others when given. */
export type SettingsInput = { [R in Row as R extends { inInput: true } ? R['field'] : never]: ValueOf<R> } & {
  [R in Row as R extends { inInput: true } ? never : R['field']]?: ValueOf<R>;
};

export type SettingField = Row['field'];

/** What copy and apply read from the changelog: the settings, and whether the operator paused. */
export type Control = Settings & {
  paused: boolean;
  version: number;
};

const ROWS: readonly SettingRow[] = SETTING_TABLE;

/** A setting's row, by its field. */
export function settingRow(field: SettingField): SettingRow {
  const row = ROWS.find((r) => r.field === field);
  if (!row) throw new Error(`no setting ${field}`);
  return row;
}

/** Each setting by its flag and by its field: what `set`, the socket and the input accept. */
export const SETTING_NAMES: Record<string, SettingField> = Object.fromEntries(
  SETTING_TABLE.flatMap((r) => [
    [r.flag, r.field],
    [r.field, r.field],
  ]),
);

/** The defaults of the settings that have one. */
export const SETTING_DEFAULTS = Object.fromEntries(
  ROWS.filter((r) => r.default !== undefined).map((r) => [r.field, r.default]),
) as { [R in Row as R extends { default: number | string } ? R['field'] : never]: ValueOf<R> };

/** The settings a migration starts with: what its input gives, else each default. */
export function settingsFrom(input: SettingsInput): Settings {
  const given = input as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const row of ROWS) {
    const value = given[row.field] ?? row.default;
    // A setting without a default is off when absent or empty (throttle-http).
    if (value === undefined || (value === '' && row.default === undefined)) continue;
    out[row.field] = value;
  }
  return out as Settings;
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

const SECONDS_PER_UNIT = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** A duration's whole seconds: 90, "90", "90s", "30m", "24h", "7d"; undefined when it is none. */
export function durationSeconds(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)(s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * SECONDS_PER_UNIT[(m[2] ?? 's') as keyof typeof SECONDS_PER_UNIT]);
}

/** A numeric setting's value as given: a string read as its kind's number (a duration with its unit). */
function numberGiven(row: SettingRow, v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (row.kind === 'duration') {
    const seconds = durationSeconds(v);
    if (seconds === undefined)
      throw new Error(`${row.flag} takes a duration such as 90s, 30m, 24h or 7d, not ${JSON.stringify(v)}`);
    return seconds;
  }
  const pattern = row.kind === 'number' ? /^\s*-?\d+(\.\d+)?\s*$/ : /^\s*-?\d+\s*$/;
  return pattern.test(v) ? Number(v) : v;
}

/** A numeric setting within its row's bounds: a start, a `set` and the CLI's flags take the same values. */
function bounded(row: SettingRow, v: unknown): number {
  const whole = row.kind !== 'number';
  const n = numberGiven(row, v);
  if (typeof n !== 'number' || !Number.isFinite(n) || (whole && !Number.isInteger(n)))
    throw new Error(`${row.flag} must be a ${whole ? 'whole number' : 'number'}, got ${JSON.stringify(v)}`);
  const min = row.min ?? Number.NEGATIVE_INFINITY;
  const max = row.max ?? Number.POSITIVE_INFINITY;
  if (n < min || n > max) throw new Error(`${row.flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A text setting, checked by its kind and trimmed. */
function checkedText(row: SettingRow, v: unknown): string {
  switch (row.kind) {
    case 'thresholds': {
      if (typeof v !== 'string')
        throw new Error(`${row.flag} must be a string like Threads_running=25, got ${JSON.stringify(v)}`);
      parseThresholds(v, row.flag);
      return v.trim();
    }
    case 'select': {
      if (typeof v !== 'string') throw new Error(`${row.flag} must be a string, got ${JSON.stringify(v)}`);
      const query = v.trim();
      if (query && (!/^SELECT\b/i.test(query) || query.includes(';')))
        throw new Error(`${row.flag} must be a single SELECT statement`);
      return query;
    }
    default: {
      if (typeof v !== 'string') throw new Error(`${row.flag} must be a URL, got ${JSON.stringify(v)}`);
      const url = v.trim();
      if (url && !/^https?:\/\/[^\s]+$/i.test(url))
        throw new Error(`${row.flag} must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
      return url;
    }
  }
}

/** One setting's value, checked by its row; throws with the reason. */
export function checkedSetting(row: SettingRow, v: unknown): number | string {
  return row.kind === 'integer' || row.kind === 'number' || row.kind === 'duration'
    ? bounded(row, v)
    : checkedText(row, v);
}

/**
 * Checks a change of settings (names as gh-ost's flags or as fields) and returns it
 * normalised; throws with the reason for the first bad value. Nothing is applied here.
 */
export function validateChange(change: Record<string, unknown>): Partial<Settings> {
  if (!change || typeof change !== 'object' || Object.keys(change).length === 0)
    throw new Error('no setting to change');
  const out: Record<string, number | string> = {};
  for (const [rawName, v] of Object.entries(change)) {
    const field = SETTING_NAMES[rawName];
    if (!field) throw new Error(`unknown setting ${rawName} (settable: ${ROWS.map((r) => r.flag).join(', ')})`);
    out[field] = checkedSetting(settingRow(field), v);
    // An operator who sets the chunk size means that size: it pins it, unless the same change adapts.
    if (field === 'chunkSize' && !('chunk-target-millis' in change) && !('chunkTargetMillis' in change))
      out.chunkTargetMillis = 0;
  }
  return out as Partial<Settings>;
}

/** The settings in force, one line, with gh-ost's flag names. */
export function settingsText(control: Control): string {
  const values = control as unknown as Record<string, unknown>;
  const parts = [`paused=${control.paused}`];
  for (const row of ROWS) {
    const value = values[row.field];
    if (value === undefined) continue;
    const text = typeof value !== 'number' ? JSON.stringify(value) : row.kind === 'duration' ? `${value}s` : value;
    parts.push(`${row.flag}=${text}`);
  }
  return parts.join(' ');
}

/** A setting as the socket prints it for `name=?` (gh-ost's shape: the bare value). */
export function settingValueText(control: Control, field: SettingField): string {
  const value = (control as unknown as Record<string, unknown>)[field];
  return value === undefined ? '' : String(value);
}
