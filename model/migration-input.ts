// A migration's input, defined once: each field's kind, bounds and default. The workflow fills
// the defaults and refuses what does not fit before anything runs, so a start from the Temporal
// CLI needs only the server, database, table and ALTER (and `execute` to act); the JSON Schema
// shipped in schemas/ is generated from this table (npm run schema).
//
// Shared vocabulary: the workflow, the CLI and the tests read it; it imports nothing of theirs
// but the input's TypeScript type.
import type { MigrationInput } from './types';
import { WINDOW_FORMAT, windowProblem } from './cut-over-window';
import { checkedSetting, SETTING_DEFAULTS, SETTING_TABLE, type SettingField } from './settings';

/** What is wrong with a value of the right type, or undefined. */
type Problem = (value: string) => string | undefined;

/** An instant with its zone: 2026-12-24T02:00:00Z, 2026-12-24T03:00+01:00. */
export function startAtProblem(value: string): string | undefined {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
  return iso.test(value) && Number.isFinite(Date.parse(value))
    ? undefined
    : `startAt ${JSON.stringify(value)} is not an ISO 8601 instant with its zone (2026-12-24T02:00:00Z)`;
}

export type FieldSpec =
  /** `problem`: what is wrong with a value beyond its type (a time, a window), or undefined. */
  | { kind: 'string'; doc: string; required?: true; nonEmpty?: true; default?: string; problem?: Problem }
  | { kind: 'integer' | 'number'; doc: string; min: number; max: number; default?: number }
  | { kind: 'boolean'; doc: string; default?: boolean }
  | { kind: 'string-list'; doc: string; problem?: Problem }
  | { kind: 'object'; doc: string; required?: true; fields: Record<string, FieldSpec> }
  | { kind: 'enum'; doc: string; values: readonly string[]; default?: string }
  /** A non-empty list of objects of these fields (a fleet's servers). */
  | { kind: 'object-list'; doc: string; required?: true; fields: Record<string, FieldSpec> }
  /** A non-empty string, or a non-empty list of non-empty strings (a fleet's databases). */
  | { kind: 'name-or-names'; doc: string; required?: true }
  /** Written by revenant itself (a renewal, a fleet, a revert): checked to be an object only. */
  | { kind: 'internal'; doc: string };

const str = (doc: string): FieldSpec => ({ kind: 'string', doc });
const bool = (doc: string, dflt?: boolean): FieldSpec => ({
  kind: 'boolean',
  doc,
  ...(dflt !== undefined ? { default: dflt } : {}),
});
const int = (doc: string, min: number, max: number, dflt?: number): FieldSpec => ({
  kind: 'integer',
  doc,
  min,
  max,
  ...(dflt !== undefined ? { default: dflt } : {}),
});

/** gh-ost's defaults, and revenant's for its own settings (the CLI applies the same). */
export const INPUT_DEFAULTS = {
  chunkSize: SETTING_DEFAULTS.chunkSize,
  // Chunks adapt to take about this long when a start gives neither --chunk-size nor this.
  chunkTargetMillis: 100,
  copyThreads: SETTING_DEFAULTS.copyThreads,
  defaultRetries: 60,
  triggerSuffix: '_gho',
  dmlBatchSize: SETTING_DEFAULTS.dmlBatchSize,
  cutOverLockTimeoutSeconds: 3,
} as const;

/** The settable fields (model/settings.ts), each as its row declares it. */
const SETTING_FIELDS = Object.fromEntries(
  SETTING_TABLE.map((row): [SettingField, FieldSpec] => {
    const doc = `--${row.flag}`;
    if (row.kind === 'integer' || row.kind === 'number' || row.kind === 'duration') {
      // A duration is whole seconds in the input.
      const kind = row.kind === 'number' ? 'number' : 'integer';
      const inInput = 'inInput' in row && row.default !== undefined;
      return [row.field, { kind, doc, min: row.min, max: row.max, ...(inInput ? { default: row.default } : {}) }];
    }
    const problem = (value: string) => {
      try {
        checkedSetting(row, value);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    };
    return [row.field, { kind: 'string', doc, problem }];
  }),
) as Record<SettingField, FieldSpec>;

export const SERVER_FIELDS: Record<string, FieldSpec> = {
  host: { kind: 'string', doc: 'host name or address of the server to migrate on', required: true, nonEmpty: true },
  port: int('its port', 1, 65535, 3306),
  user: str("MySQL user (the password is the worker's to find)"),
  name: str("a connection named in the worker's REVENANT_CONFIG"),
  tls: {
    kind: 'object',
    doc: "gh-ost's --ssl flags: PEM file paths on the worker's host",
    fields: {
      ca: str('--ssl-ca'),
      cert: str('--ssl-cert'),
      key: str('--ssl-key'),
      allowInsecure: bool('--ssl-allow-insecure'),
    },
  },
  timeoutSeconds: { kind: 'number', doc: '--mysql-timeout', min: 0, max: 86_400 },
};

/** Every field of MigrationInput (the type makes a missing one a compile error). */
export const INPUT_FIELDS: { [K in keyof MigrationInput]-?: FieldSpec } = {
  server: { kind: 'object', doc: 'where the table lives', required: true, fields: SERVER_FIELDS },
  database: { kind: 'string', doc: 'the schema', required: true, nonEmpty: true },
  table: { kind: 'string', doc: 'the table', required: true, nonEmpty: true },
  alter: { kind: 'string', doc: 'the ALTER TABLE specification, e.g. "ADD COLUMN c INT NULL"', required: true },
  execute: bool('act (without it: a dry run)', false),
  ...SETTING_FIELDS,
  deferSecondaryIndexes: bool('--defer-secondary-indexes'),
  approveRenamedColumns: bool('--approve-renamed-columns', false),
  okToDropTable: bool('--ok-to-drop-table', false),
  initiallyDropGhostTable: bool('--initially-drop-ghost-table', false),
  initiallyDropOldTable: bool('--initially-drop-old-table', false),
  exactRowcount: bool('--exact-rowcount', false),
  postponeCutOver: bool('--postpone-cut-over', false),
  postponeCutOverFlagFile: str('--postpone-cut-over-flag-file'),
  cutOverLockTimeoutSeconds: int('--cut-over-lock-timeout-seconds', 1, 60, INPUT_DEFAULTS.cutOverLockTimeoutSeconds),
  copyStartDelayMillis: int('milliseconds before the first chunk (tests)', 0, 3_600_000),
  historyLimit: int('history events before a renewal', 100, 50_000),
  renewal: { kind: 'internal', doc: 'set by a renewal (continue-as-new)' },
  fleet: { kind: 'internal', doc: "set by a fleet's workflow" },
  criticalLoadIntervalMillis: int('--critical-load-interval-millis', 0, 3_600_000),
  criticalLoadHibernateSeconds: int('--critical-load-hibernate-seconds', 0, 86_400),
  resurrect: bool('--resurrect'),
  throttleHttpIntervalMillis: int('--throttle-http-interval-millis', 10, 3_600_000),
  throttleHttpTimeoutMillis: int('--throttle-http-timeout-millis', 10, 60_000),
  ignoreHttpErrors: bool('--ignore-http-errors'),
  searchAttributes: bool('set search attributes (--no-search-attributes: false)'),
  defaultRetries: int('--default-retries', 1, 10_000),
  panicOnWarnings: bool('--panic-on-warnings'),
  allowDataLoss: bool('--allow-data-loss'),
  allowNonAtomicInstant: bool('--allow-non-atomic-instant'),
  revertWindowSeconds: int('--revert-window-seconds', 0, 30 * 86_400),
  checkpoint: bool('--checkpoint'),
  revert: { kind: 'internal', doc: 'set by --revert' },
  skipPortValidation: bool('--skip-port-validation'),
  allowSetupMetadataLockInstruments: bool('--allow-setup-metadata-lock-instruments'),
  forceTableNames: str('--force-table-names'),
  timestampOldTable: bool('--timestamp-old-table'),
  triggers: { kind: 'internal', doc: '--include-triggers and its suffix' },
  discardForeignKeys: bool('--discard-foreign-keys'),
  attemptInstantDdl: bool('--attempt-instant-ddl'),
  allowNullableUniqueKey: bool('--allow-nullable-unique-key'),
  analyzeGhostTable: bool('--gcp / --analyze-ghost-table'),
  checksum: bool('verify the ghost against the original before the cut-over (default: on, off with allowDataLoss)'),
  allowZeroInDate: bool('--allow-zero-in-date'),
  allowOnMaster: bool('--allow-on-master'),
  migrateOnReplica: bool('--migrate-on-replica'),
  testOnReplica: bool('--test-on-replica'),
  assumeMasterHost: str('--assume-master-host'),
  masterUser: str('--master-user'),
  testOnReplicaSkipReplicaStop: bool('--test-on-replica-skip-replica-stop'),
  skipForeignKeyChecks: bool('--skip-foreign-key-checks'),
  concurrentRowcount: bool('--concurrent-rowcount'),
  throttleControlReplicas: { kind: 'string-list', doc: '--throttle-control-replicas (host:port each)' },
  heartbeatIntervalMillis: int('--heartbeat-interval-millis', 10, 60_000),
  assumeRbr: bool('--assume-rbr'),
  switchToRbr: bool('--switch-to-rbr'),
  throttleFlagFile: str('--throttle-flag-file'),
  throttleAdditionalFlagFile: str('--throttle-additional-flag-file'),
  panicFlagFile: str('--panic-flag-file'),
  hooksPath: str('--hooks-path'),
  hooksHint: str('--hooks-hint'),
  hooksHintOwner: str('--hooks-hint-owner'),
  hooksHintToken: str('--hooks-hint-token'),
  cutOverWindows: {
    kind: 'string-list',
    doc: `--cut-over-window (repeatable): when the cut-over may run, ${WINDOW_FORMAT}`,
    problem: windowProblem,
  },
  forceCutOverMaxRows: int(
    'spare a blocker whose transaction modified more rows than this (default 1,000,000)',
    0,
    Number.MAX_SAFE_INTEGER,
  ),
  forceCutOverKillLarge: bool('--force-cut-over-kill-large: kill blockers however many rows they modified'),
  startAt: {
    kind: 'string',
    doc: '--start-at: the copy begins at this instant (ISO 8601 with its zone); inspection runs at once',
    problem: startAtProblem,
  },
};

/** The input refused: names the field and what it takes. */
export class InputRefused extends Error {}

const describe = (spec: FieldSpec): string => {
  switch (spec.kind) {
    case 'integer':
      return `an integer from ${spec.min} to ${spec.max}`;
    case 'number':
      return `a number from ${spec.min} to ${spec.max}`;
    case 'string':
      return spec.nonEmpty ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'string-list':
      return 'a list of strings';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'object-list':
      return 'a non-empty list of objects';
    case 'name-or-names':
      return 'a non-empty string or a non-empty list of them';
    default:
      return 'an object';
  }
};

function check(value: unknown, spec: FieldSpec, path: string): void {
  const refuse = () => {
    throw new InputRefused(`input field ${path}: ${JSON.stringify(value)} is not ${describe(spec)} (${spec.doc})`);
  };
  const explain = (problem: string | undefined) => {
    if (problem) throw new InputRefused(`input field ${path}: ${problem}`);
  };
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string' || (spec.nonEmpty && value === '')) refuse();
      explain(spec.problem?.(value as string));
      return;
    case 'boolean':
      if (typeof value !== 'boolean') refuse();
      return;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.min || value > spec.max) refuse();
      if (spec.kind === 'integer' && !Number.isInteger(value)) refuse();
      return;
    case 'string-list':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) refuse();
      for (const item of value as string[]) explain(spec.problem?.(item));
      return;
    case 'internal':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse();
      return;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse();
      checkFields(value as Record<string, unknown>, spec.fields, `${path}.`);
      return;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) refuse();
      return;
    case 'object-list':
      if (!Array.isArray(value) || value.length === 0) refuse();
      (value as unknown[]).forEach((item, i) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) refuse();
        checkFields(item as Record<string, unknown>, spec.fields, `${path}[${i}].`);
      });
      return;
    case 'name-or-names': {
      const names = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n !== ''))
        refuse();
    }
  }
}

export function checkFields(obj: Record<string, unknown>, fields: Record<string, FieldSpec>, prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!(key in fields))
      throw new InputRefused(
        `input field ${prefix}${key} is unknown (known: ${Object.keys(fields).join(', ')}); gh-ost's flag --a-b is field aB`,
      );
  }
  for (const [key, spec] of Object.entries(fields)) {
    const value = obj[key];
    if (value === undefined || value === null) {
      if ('required' in spec && spec.required)
        throw new InputRefused(`input field ${prefix}${key} is required: ${describe(spec)} (${spec.doc})`);
      continue;
    }
    check(value, spec, `${prefix}${key}`);
  }
}

/** The given fields, and the defaults of those not given, objects' own fields (the server's port) too. */
export function withDefaults(
  given: Record<string, unknown>,
  fields: Record<string, FieldSpec>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(fields)) {
    const value = given[key];
    if (value !== undefined && value !== null)
      out[key] =
        spec.kind === 'object'
          ? withDefaults(value as Record<string, unknown>, spec.fields)
          : spec.kind === 'object-list'
            ? (value as Record<string, unknown>[]).map((item) => withDefaults(item, spec.fields))
            : value;
    else if ('default' in spec && spec.default !== undefined) out[key] = spec.default;
  }
  return out;
}

/**
 * The input with every default filled in, after checking each field given: an unknown field,
 * a wrong type or a value out of range is refused (InputRefused), naming the field.
 */
export function completeInput(raw: unknown): MigrationInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InputRefused('the input must be one JSON object: {"server": {"host": …}, "database", "table", "alter"}');
  const given = raw as Record<string, unknown>;
  checkFields(given, INPUT_FIELDS, '');
  const input = withDefaults(given, INPUT_FIELDS) as unknown as MigrationInput;
  // As the CLI: without --chunk-size, chunks adapt to take about 100 ms; the checksum is on
  // unless rows are dropped on purpose (allowDataLoss).
  if (given.chunkSize === undefined && given.chunkTargetMillis === undefined)
    input.chunkTargetMillis = INPUT_DEFAULTS.chunkTargetMillis;
  if (given.checksum === undefined) input.checksum = !input.allowDataLoss;
  return input;
}

/** A field's JSON Schema (draft 2020-12). */
function schemaOf(spec: FieldSpec): Record<string, unknown> {
  const base = { description: spec.doc };
  switch (spec.kind) {
    case 'string':
      return { ...base, type: 'string', ...(spec.nonEmpty ? { minLength: 1 } : {}) };
    case 'boolean':
      return { ...base, type: 'boolean', ...(spec.default !== undefined ? { default: spec.default } : {}) };
    case 'integer':
    case 'number':
      return {
        ...base,
        type: spec.kind,
        minimum: spec.min,
        maximum: spec.max,
        ...(spec.default !== undefined ? { default: spec.default } : {}),
      };
    case 'string-list':
      return { ...base, type: 'array', items: { type: 'string' } };
    case 'internal':
      return { ...base, type: 'object' };
    case 'object':
      return objectOf(spec.fields, base);
    case 'enum':
      return { ...base, enum: spec.values, ...(spec.default !== undefined ? { default: spec.default } : {}) };
    case 'object-list':
      return { ...base, type: 'array', minItems: 1, items: objectOf(spec.fields, {}) };
    case 'name-or-names':
      return {
        ...base,
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        ],
      };
  }
}

/** The JSON Schema of an object of these fields, and no others. */
export function objectOf(fields: Record<string, FieldSpec>, base: Record<string, unknown>): Record<string, unknown> {
  return {
    ...base,
    type: 'object',
    additionalProperties: false,
    required: Object.entries(fields)
      .filter(([, s]) => 'required' in s && s.required)
      .map(([k]) => k),
    properties: Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, schemaOf(s)])),
  };
}

/** The JSON Schema (draft 2020-12) of the input, from the same table. */
export function inputJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: "revenant's migrateTable input",
    ...objectOf(INPUT_FIELDS, {
      description:
        'The input of the migrateTable workflow: server, database, table and alter are required; every other field takes its default.',
    }),
  };
}
