// gh-ost's command line, parsed into a migration request. Flag names and meanings are
// gh-ost's (users script them); `-flag` and `--flag`, `--flag value` and `--flag=value`
// all work. Secrets (the password) are returned apart and never enter MigrationInput.
import { readFileSync } from 'node:fs';
import { FLAG_TABLE, type FlagKind } from './flag-table';
import { AlterRefused, parseAlter } from '../table/alter-text';
import { durationSeconds as durationOf, SETTING_TABLE, validateChange } from '../model/settings';
import { DEFAULTS, type MigrationInput } from '../model/types';
import { INPUT_FIELDS, startAtProblem } from '../model/migration-input';
import { windowProblem } from '../model/cut-over-window';

export class UsageError extends Error {}

/** Each flag's kind, from the one flag table (client/flag-table.ts). */
export const FLAG_KINDS: Record<string, FlagKind> = Object.fromEntries(
  FLAG_TABLE.flatMap((g) => g.flags.map((f) => [f.name, f.kind])),
);

/**
 * gh-ost's flags that revenant refuses, each with its reason: none is accepted and ignored
 * (a user's script that relies on one learns so at once, before anything is changed).
 */
export const REFUSED_FLAGS: Record<string, { kind: FlagKind; why: string }> = {
  'allow-master-master': {
    kind: 'bool',
    why: `revenant finds the master by following replication upwards and does not migrate on master-master topologies`,
  },
  tungsten: {
    kind: 'bool',
    why: `revenant reads MySQL's own replication status to find master and replicas; Tungsten replication is not supported`,
  },
  'replica-server-id': {
    kind: 'int',
    why: `each of revenant's binlog readers takes a random server id of its own (a migration runs several, and two readers of one id cut each other off)`,
  },
  'binlogsyncer-max-reconnect-attempts': {
    kind: 'int',
    why: `revenant's binlog reader reconnects through its activity's retries, from the committed checkpoint (about an hour and a half of attempts); --default-retries bounds statements that keep failing`,
  },
  charset: {
    kind: 'string',
    why: `revenant's connections always use utf8mb4, which holds every character, and rows are copied server-side (INSERT … SELECT)`,
  },
  'exponential-backoff-max-interval': {
    kind: 'int',
    why: `revenant's retries back off exponentially to at most 30 s (60 s for the cut-over), Temporal retry policies that cannot be changed from the command line`,
  },
  'hooks-status-interval': {
    kind: 'int',
    why: `revenant runs the on-status hook at every tenth of the copy (each run is a history event), not on a timer`,
  },
  'runtime-metrics-interval': {
    kind: 'string',
    why: `revenant's worker exports Prometheus metrics continuously (REVENANT_METRICS_ADDRESS)`,
  },
  'statsd-addr': {
    kind: 'string',
    why: `revenant's worker exports Prometheus metrics (REVENANT_METRICS_ADDRESS), not statsd`,
  },
  'statsd-tags': {
    kind: 'string',
    why: `revenant's worker exports Prometheus metrics (REVENANT_METRICS_ADDRESS), not statsd`,
  },
  stack: {
    kind: 'bool',
    why: `revenant is not a Go program; its worker logs a failing activity's stack (REVENANT_LOG_LEVEL=DEBUG)`,
  },
  'skip-renamed-columns': {
    kind: 'bool',
    why: `revenant will not drop renamed columns' values silently: confirm the renames with --approve-renamed-columns, or write the ALTER as DROP and ADD`,
  },
  'skip-strict-mode': {
    kind: 'bool',
    why: `revenant applies in a strict session on purpose: a value the ghost cannot hold stops the migration instead of being truncated (accept such losses with --allow-data-loss)`,
  },
  'replication-lag-query': {
    kind: 'string',
    why: `deprecated by gh-ost itself; revenant measures replica lag with its own heartbeat (--max-lag-millis, --throttle-control-replicas)`,
  },
  'skip-metadata-lock-check': {
    kind: 'bool',
    why: `revenant never unlocks the table at the cut-over before its RENAME is queued on it (gh-ost's data-loss fix, its PR 1536); without that check writes can be lost`,
  },
};

/** A duration: seconds, or a number with s, m, h or d (90, 90s, 30m, 24h, 7d); at most 30 days. */
function durationSeconds(flag: string, raw: string): number {
  const seconds = durationOf(raw);
  if (seconds === undefined)
    throw new UsageError(`--${flag} takes a duration such as 90s, 30m, 24h or 7d, not "${raw}"`);
  if (seconds > 30 * 86_400) throw new UsageError(`--${flag} is at most 30d, not "${raw}"`);
  return seconds;
}

/** Between the values of a repeatable flag, as parsed (no value holds a newline). */
export const LIST_SEPARATOR = '\n';

/**
 * --start-at as an instant: ISO 8601 with its zone as given; HH:MM[:SS], its next occurrence
 * in this machine's local time; or a delay from now (90s, 30m, 24h).
 */
export function startAtInstant(raw: string, now: number = Date.now()): string {
  const text = raw.trim();
  const problem = startAtProblem(text);
  if (!problem) return text;
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (clock && Number(clock[1]) < 24 && Number(clock[2]) < 60 && Number(clock[3] ?? 0) < 60) {
    const at = new Date(now);
    at.setHours(Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0), 0);
    if (at.getTime() <= now) at.setDate(at.getDate() + 1);
    return at.toISOString();
  }
  if (/^\d+(\.\d+)?[smhd]?$/.test(text)) return new Date(now + durationSeconds('start-at', text) * 1000).toISOString();
  throw new UsageError(
    `--start-at takes an ISO 8601 instant with its zone (2026-12-24T02:00:00Z), HH:MM, or a delay (30m), not "${raw}"`,
  );
}

export interface ParsedFlags {
  values: Record<string, string | number | boolean>;
  positional: string[];
  /** Flags given that revenant refuses (REFUSED_FLAGS), when parsed with allowRefused. */
  refused?: string[];
}

export function parseFlags(argv: string[], opts: { allowRefused?: boolean } = {}): ParsedFlags {
  const values: Record<string, string | number | boolean> = {};
  const refused: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/is.exec(arg);
    if (!m || arg === '-' || arg === '--') {
      positional.push(arg);
      continue;
    }
    const name = m[1];
    const kind = FLAG_KINDS[name] ?? REFUSED_FLAGS[name]?.kind;
    if (!kind) throw new UsageError(`unknown flag --${name} (see revenant --help)`);
    if (REFUSED_FLAGS[name]) refused.push(name);
    let raw = m[2];
    if (kind === 'bool') {
      if (raw === undefined) {
        values[name] = true;
        continue;
      }
      if (!/^(true|false|1|0)$/i.test(raw)) throw new UsageError(`--${name} takes true or false, not "${raw}"`);
      values[name] = /^(true|1)$/i.test(raw);
      continue;
    }
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      raw = argv[++i];
    }
    if (kind === 'int') {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`--${name} takes a whole number, not "${raw}"`);
      values[name] = Number(raw);
    } else if (kind === 'float') {
      if (!/^\d+(\.\d+)?$/.test(raw)) throw new UsageError(`--${name} takes a number, not "${raw}"`);
      values[name] = Number(raw);
    } else if (kind === 'list') {
      values[name] = values[name] === undefined ? raw : `${values[name]}${LIST_SEPARATOR}${raw}`;
    } else values[name] = raw;
  }
  if (refused.length && !opts.allowRefused) {
    throw new UsageError(refused.map((f) => `--${f} is not supported by revenant: ${REFUSED_FLAGS[f].why}`).join('\n'));
  }
  return { values, positional, refused };
}

/**
 * gh-ost's --check-flag: whether every other flag given is supported (cross-version
 * scripting): the flags revenant refuses, each with its reason; none, and they all are.
 */
export function checkFlags(argv: string[]): string[] {
  return (parseFlags(argv, { allowRefused: true }).refused ?? []).map((f) => `--${f}: ${REFUSED_FLAGS[f].why}`);
}

export interface ServeOptions {
  socketFile?: string;
  tcpPort?: number;
  /** Where the TCP port listens: 127.0.0.1 unless --serve-tcp-host says otherwise (the commands are unauthenticated). */
  tcpHost?: string;
  /** gh-ost's --initially-drop-socket-file: replace the socket file even if a process answers on it. */
  dropSocketFile?: boolean;
  /** gh-ost's --force-named-cut-over and --force-named-panic: the command must name the table. */
  namedCutOver?: boolean;
  namedPanic?: boolean;
}

/**
 * gh-ost's --conf file: [client] user and password (either may be "${VARIABLE}", read from the
 * environment), [osc] chunk_size, max_load and max_lag_millis; as flags, under the command line's.
 */
export function ghostConf(path: string, env: NodeJS.ProcessEnv): Record<string, string | number | boolean> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--conf ${path}: ${(e as Error).message}`);
  }
  const out: Record<string, string | number | boolean> = {};
  const keys: Record<string, [string, 'string' | 'int']> = {
    'client.user': ['user', 'string'],
    'client.password': ['password', 'string'],
    'osc.chunk_size': ['chunk-size', 'int'],
    'osc.max_load': ['max-load', 'string'],
    'osc.max_lag_millis': ['max-lag-millis', 'int'],
  };
  let section = '';
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      section = head[1].trim().toLowerCase();
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new UsageError(`--conf ${path}, line ${i + 1}: not "key = value": ${line}`);
    let value = kv[2].replace(/^(["'])(.*)\1$/, '$2');
    const key = `${section}.${kv[1].trim().toLowerCase()}`;
    if (key === 'osc.replication_lag_query')
      throw new UsageError(
        `--conf ${path}: replication_lag_query is not supported by revenant: ${REFUSED_FLAGS['replication-lag-query'].why}`,
      );
    const flag = keys[key];
    if (!flag) continue;
    const fromEnv = /^\$\{(\w+)\}$/.exec(value);
    if (fromEnv) value = env[fromEnv[1]] ?? '';
    if (flag[1] === 'int') {
      if (!/^\d+$/.test(value))
        throw new UsageError(`--conf ${path}: ${kv[1].trim()} takes a whole number, not "${value}"`);
      out[flag[0]] = Number(value);
    } else out[flag[0]] = value;
  }
  return out;
}

export interface MigrateRequest {
  input: MigrationInput;
  password?: string;
  /** gh-ost's --master-password: for the --assume-master-host server only. */
  masterPassword?: string;
  askPass: boolean;
  detach: boolean;
  taskQueue?: string;
  namespace?: string;
  /** gh-ost's interactive commands (client/interactive.ts), served while the command follows the migration. */
  serve: ServeOptions;
  /** --verbose, --debug: the embedded worker's log level (REVENANT_LOG_LEVEL wins). */
  logLevel?: 'INFO' | 'DEBUG';
  /** gh-ost's --quiet: no status line while the migration runs; its outcome only. */
  quiet?: boolean;
}

export function migrateRequest(flags: ParsedFlags, env: NodeJS.ProcessEnv = process.env): MigrateRequest {
  // gh-ost's --conf: its [client] login and [osc] settings, under the command line's.
  const v = { ...(flags.values.conf !== undefined ? ghostConf(String(flags.values.conf), env) : {}), ...flags.values };
  if (v['cut-over'] === 'together' && v.fleet === undefined && v['alter-table'] === undefined)
    throw new UsageError(
      '--cut-over together is for a fleet (--fleet FILE) or several tables (--alter-table): one table has one cut-over',
    );
  if (v['cut-over'] !== undefined && !['atomic', 'default', 'together'].includes(String(v['cut-over']))) {
    throw new UsageError(
      `--cut-over=${v['cut-over']} is not supported by revenant: its cut-over is gh-ost's atomic one (--cut-over=atomic, the default)`,
    );
  }
  if (v['storage-engine'] !== undefined && String(v['storage-engine']).toLowerCase() !== 'innodb') {
    throw new UsageError(
      `--storage-engine=${v['storage-engine']} is not supported by revenant: it migrates InnoDB tables only`,
    );
  }
  if (v['cut-over-exponential-backoff'] === false) {
    throw new UsageError(
      '--cut-over-exponential-backoff=false is not supported by revenant: its cut-over attempts always back off exponentially (2 s, ×1.5, at most 60 s)',
    );
  }
  const need = (name: string) => {
    const x = v[name];
    if (x === undefined || x === '') throw new UsageError(`--${name} is required`);
    return String(x);
  };
  const int = (name: string, dflt: number, min: number, max: number) => {
    const x = v[name] === undefined ? dflt : Number(v[name]);
    if (x < min || x > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${x}`);
    return x;
  };
  /** An input field's flag: its bounds are the input model's (model/migration-input.ts). */
  const field = (name: string, key: keyof MigrationInput, dflt: number) => {
    const spec = INPUT_FIELDS[key];
    if (spec.kind !== 'integer') throw new Error(`internal: input field ${key} is not an integer`);
    return int(name, dflt, spec.min, spec.max);
  };
  const bool = (name: string) => v[name] === true;
  const input: MigrationInput = {
    server: {
      host: String(v.host ?? env.REVENANT_MYSQL_HOST ?? '127.0.0.1'),
      port: int('port', Number(env.REVENANT_MYSQL_PORT ?? 3306), 1, 65535),
    },
    database: need('database'),
    table: need('table'),
    // --revert finds the ALTER in the checkpoint (and checks it against --alter when given).
    alter: bool('revert') ? String(v.alter ?? '') : need('alter'),
    execute: bool('execute'),
    chunkSize: DEFAULTS.chunkSize,
    dmlBatchSize: DEFAULTS.dmlBatchSize,
    approveRenamedColumns: bool('approve-renamed-columns'),
    okToDropTable: bool('ok-to-drop-table'),
    initiallyDropGhostTable: bool('initially-drop-ghost-table'),
    initiallyDropOldTable: bool('initially-drop-old-table'),
    exactRowcount: bool('exact-rowcount'),
    postponeCutOver: bool('postpone-cut-over'),
    cutOverLockTimeoutSeconds: field(
      'cut-over-lock-timeout-seconds',
      'cutOverLockTimeoutSeconds',
      DEFAULTS.cutOverLockTimeoutSeconds,
    ),
  };
  // The ALTER is read here as the worker will read it: anything riding along with it is
  // refused before a workflow starts (the worker refuses it again).
  // ('-' is the placeholder of commands that name a running migration, not start one: serve, set.)
  if (input.alter && input.alter !== '-') {
    try {
      parseAlter(input.alter, input);
    } catch (e) {
      if (e instanceof AlterRefused) throw new UsageError(`--alter: ${e.message}`);
      throw e;
    }
  }
  if (v['mysql-connection'] !== undefined) input.server.name = String(v['mysql-connection']);
  if (v.user !== undefined) input.server.user = String(v.user);
  else if (env.REVENANT_MYSQL_USER) input.server.user = env.REVENANT_MYSQL_USER;
  if (v['postpone-cut-over-flag-file'] !== undefined)
    input.postponeCutOverFlagFile = String(v['postpone-cut-over-flag-file']);
  if (bool('resurrect') || bool('resume')) input.resurrect = true;
  // The settable flags, checked as `revenant set` checks them (model/settings.ts).
  const settings = SETTING_TABLE.filter((row) => v[row.flag] !== undefined).map((row) => [row.flag, v[row.flag]]);
  if (settings.length > 0) {
    try {
      Object.assign(input, validateChange(Object.fromEntries(settings)));
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
  }
  if (bool('no-search-attributes')) input.searchAttributes = false;
  // On by default (a migration that lost a row must not cut over); --checksum=false skips it.
  // Rows an accepted lossy ALTER drops (--allow-data-loss) would fail it: then only on request.
  input.checksum = v.checksum === undefined ? !bool('allow-data-loss') : v.checksum === true;
  if (v['critical-load-interval-millis'] !== undefined)
    input.criticalLoadIntervalMillis = field('critical-load-interval-millis', 'criticalLoadIntervalMillis', 0);
  if (v['critical-load-hibernate-seconds'] !== undefined)
    input.criticalLoadHibernateSeconds = field('critical-load-hibernate-seconds', 'criticalLoadHibernateSeconds', 0);
  // --chunk-size keeps gh-ost's meaning: given alone, no chunk has more rows (a dense integer
  // key's chunks are that many key values, fewer rows where rows were deleted). Without
  // it, chunks start at 1000 rows and adapt to take about --chunk-target-millis each: short
  // enough that the rows a chunk locks are soon free, long enough that a chunk's fixed cost
  // (claim, checkpoint, commit) does not dominate (bench/RESULTS.md).
  if (v['chunk-target-millis'] === undefined) {
    delete input.chunkTargetMillis;
    if (v['chunk-size'] === undefined) input.chunkTargetMillis = DEFAULTS.chunkTargetMillis;
  }
  if (v['defer-secondary-indexes'] !== undefined) input.deferSecondaryIndexes = v['defer-secondary-indexes'] === true;
  if (v['default-retries'] !== undefined)
    input.defaultRetries = field('default-retries', 'defaultRetries', DEFAULTS.defaultRetries);
  if (bool('panic-on-warnings')) input.panicOnWarnings = true;
  if (bool('allow-data-loss')) input.allowDataLoss = true;
  if (bool('allow-non-atomic-instant')) input.allowNonAtomicInstant = true;
  if (bool('include-triggers')) {
    const suffix = v['trigger-suffix'] === undefined ? DEFAULTS.triggerSuffix : String(v['trigger-suffix']);
    if (!/^[A-Za-z0-9_$]{1,32}$/.test(suffix))
      throw new UsageError(`--trigger-suffix must be 1 to 32 letters, digits, _ or $, got "${suffix}"`);
    input.triggers = { suffix, removeSuffixIfExists: bool('remove-trigger-suffix-if-exists') };
  } else if (v['trigger-suffix'] !== undefined || bool('remove-trigger-suffix-if-exists')) {
    throw new UsageError('--trigger-suffix and --remove-trigger-suffix-if-exists need --include-triggers');
  }
  if (bool('discard-foreign-keys')) input.discardForeignKeys = true;
  if (bool('attempt-instant-ddl')) input.attemptInstantDdl = true;
  if (bool('allow-nullable-unique-key')) input.allowNullableUniqueKey = true;
  if (bool('analyze-ghost-table-before-cutover')) input.analyzeGhostTable = true;
  if (bool('allow-zero-in-date')) input.allowZeroInDate = true;
  const topologies = ['allow-on-master', 'migrate-on-replica', 'test-on-replica'].filter(bool);
  if (topologies.length > 1)
    throw new UsageError(`--${topologies.join(' and --')} exclude each other: pick one topology`);
  if (bool('allow-on-master')) input.allowOnMaster = true;
  if (bool('migrate-on-replica')) input.migrateOnReplica = true;
  if (bool('test-on-replica')) input.testOnReplica = true;
  if (v['assume-master-host'] !== undefined) {
    if (!/^[^:\s]+(:\d+)?$/.test(String(v['assume-master-host'])))
      throw new UsageError(`--assume-master-host takes host[:port], not "${v['assume-master-host']}"`);
    input.assumeMasterHost = String(v['assume-master-host']);
  }
  // gh-ost's --master-user and --master-password: the master's own login, for the master it was told of.
  for (const f of ['master-user', 'master-password']) {
    if (v[f] !== undefined && input.assumeMasterHost === undefined)
      throw new UsageError(`--${f} requires --assume-master-host`);
  }
  if (v['master-user'] !== undefined) input.masterUser = String(v['master-user']);
  // gh-ost's TLS flags: every connection (inspected server, master, replicas, binlog) uses them.
  for (const f of ['ssl-ca', 'ssl-cert', 'ssl-key', 'ssl-allow-insecure']) {
    if (v[f] !== undefined && v[f] !== false && !bool('ssl')) throw new UsageError(`--${f} requires --ssl`);
  }
  if ((v['ssl-cert'] === undefined) !== (v['ssl-key'] === undefined))
    throw new UsageError('--ssl-cert and --ssl-key go together: a client certificate and its key');
  if (bool('ssl')) {
    input.server.tls = {
      ...(v['ssl-ca'] !== undefined ? { ca: String(v['ssl-ca']) } : {}),
      ...(v['ssl-cert'] !== undefined ? { cert: String(v['ssl-cert']), key: String(v['ssl-key']) } : {}),
      ...(bool('ssl-allow-insecure') ? { allowInsecure: true } : {}),
    };
  }
  if (v['mysql-timeout'] !== undefined) {
    const t = Number(v['mysql-timeout']);
    if (!Number.isFinite(t) || t < 0 || t > 86_400)
      throw new UsageError(`--mysql-timeout takes seconds between 0 and 86400, got ${v['mysql-timeout']}`);
    if (t > 0) input.server.timeoutSeconds = t;
  }
  if (bool('test-on-replica-skip-replica-stop')) {
    if (!input.testOnReplica) throw new UsageError('--test-on-replica-skip-replica-stop requires --test-on-replica');
    input.testOnReplicaSkipReplicaStop = true;
  }
  if (bool('skip-foreign-key-checks')) input.skipForeignKeyChecks = true;
  if (v['concurrent-rowcount'] === false) input.concurrentRowcount = false;
  if (v['throttle-control-replicas'] !== undefined) {
    const list = String(v['throttle-control-replicas'])
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const bad = list.find((x) => !/^[^:\s]+(:\d+)?$/.test(x));
    if (bad) throw new UsageError(`--throttle-control-replicas takes host[:port],…; "${bad}" is not one`);
    input.throttleControlReplicas = list;
  }
  if (v['heartbeat-interval-millis'] !== undefined)
    input.heartbeatIntervalMillis = field('heartbeat-interval-millis', 'heartbeatIntervalMillis', 100);
  if (bool('assume-rbr')) input.assumeRbr = true;
  if (bool('switch-to-rbr')) input.switchToRbr = true;
  for (const [flag, key] of [
    ['throttle-flag-file', 'throttleFlagFile'],
    ['throttle-additional-flag-file', 'throttleAdditionalFlagFile'],
    ['panic-flag-file', 'panicFlagFile'],
    ['hooks-path', 'hooksPath'],
    ['hooks-hint', 'hooksHint'],
    ['hooks-hint-owner', 'hooksHintOwner'],
    ['hooks-hint-token', 'hooksHintToken'],
  ] as const) {
    if (v[flag] !== undefined) input[key] = String(v[flag]);
  }
  if (v['cut-over-window'] !== undefined) {
    const windows = String(v['cut-over-window']).split(LIST_SEPARATOR);
    for (const w of windows) {
      const problem = windowProblem(w);
      if (problem) throw new UsageError(`--${problem}`);
    }
    input.cutOverWindows = windows;
  }
  if (v['start-at'] !== undefined) input.startAt = startAtInstant(String(v['start-at']));
  if (bool('force-cut-over-kill-large')) {
    if (!input.forceCutOverAfterSeconds)
      throw new UsageError(
        '--force-cut-over-kill-large needs --force-cut-over-after (how long before blockers are killed)',
      );
    input.forceCutOverKillLarge = true;
  }
  if (v['revert-window'] !== undefined) {
    input.revertWindowSeconds = durationSeconds('revert-window', String(v['revert-window']));
  }
  if (bool('checkpoint')) input.checkpoint = true;
  if (bool('timestamp-old-table')) input.timestampOldTable = true;
  if (v['force-table-names'] !== undefined) {
    if (!/^[A-Za-z0-9_$]{1,58}$/.test(String(v['force-table-names'])))
      throw new UsageError(
        `--force-table-names takes 1 to 58 letters, digits, _ or $, not "${v['force-table-names']}"`,
      );
    input.forceTableNames = String(v['force-table-names']);
  }
  if (v['throttle-http-interval-millis'] !== undefined)
    input.throttleHttpIntervalMillis = field('throttle-http-interval-millis', 'throttleHttpIntervalMillis', 100);
  if (v['throttle-http-timeout-millis'] !== undefined)
    input.throttleHttpTimeoutMillis = field('throttle-http-timeout-millis', 'throttleHttpTimeoutMillis', 1000);
  if (bool('ignore-http-errors')) input.ignoreHttpErrors = true;
  // gh-ost's cloud flags all skip its port check (those services report another port, or none).
  if (['skip-port-validation', 'aliyun-rds', 'gcp', 'azure'].some(bool)) input.skipPortValidation = true;
  if (bool('allow-setup-metadata-lock-instruments')) input.allowSetupMetadataLockInstruments = true;
  if (bool('revert')) {
    if (v['old-table'] === undefined)
      throw new UsageError(
        '--revert needs --old-table: the table the migration put aside, e.g. --old-table _<table>_del',
      );
    if (input.resurrect) throw new UsageError('--revert and --resurrect exclude each other');
    input.revert = { oldTable: String(v['old-table']) };
  } else if (v['old-table'] !== undefined) {
    throw new UsageError('--old-table names the table to revert to: it needs --revert');
  }
  // A revert's applier and cut-over (a window's, or --revert's) work on the master's table alone.
  if (
    (input.revert || input.revertWindowSeconds) &&
    (input.testOnReplica || input.migrateOnReplica || input.triggers)
  ) {
    throw new UsageError(
      `${input.revert ? '--revert' : '--revert-window'} works on the master only, without --include-triggers`,
    );
  }
  if (v['copy-start-delay-millis'] !== undefined)
    input.copyStartDelayMillis = field('copy-start-delay-millis', 'copyStartDelayMillis', 0);
  const serve = {
    ...(v['serve-socket-file'] !== undefined ? { socketFile: String(v['serve-socket-file']) } : {}),
    ...(v['serve-tcp-port'] !== undefined ? { tcpPort: int('serve-tcp-port', 0, 1, 65535) } : {}),
    ...(v['serve-tcp-host'] !== undefined ? { tcpHost: String(v['serve-tcp-host']) } : {}),
    dropSocketFile: bool('initially-drop-socket-file'),
    namedCutOver: bool('force-named-cut-over'),
    namedPanic: bool('force-named-panic'),
  };
  if ((serve.socketFile || serve.tcpPort) && bool('detach')) {
    throw new UsageError(
      '--serve-socket-file and --serve-tcp-port are served by the command while it follows the migration: ' +
        'without --detach, or run revenant serve --serve-socket-file … for a detached one',
    );
  }
  return {
    input,
    serve,
    password: v.password === undefined ? undefined : String(v.password),
    masterPassword: v['master-password'] === undefined ? undefined : String(v['master-password']),
    logLevel: bool('debug') ? 'DEBUG' : bool('verbose') ? 'INFO' : undefined,
    quiet: bool('quiet'),
    askPass: bool('ask-pass'),
    detach: bool('detach'),
    taskQueue: v['task-queue'] === undefined ? undefined : String(v['task-queue']),
    namespace: v.namespace === undefined ? undefined : String(v.namespace),
  };
}
