// gh-ost's command line, parsed into a migration request. Flag names and meanings are
// gh-ost's (users script them); `-flag` and `--flag`, `--flag value` and `--flag=value`
// all work. Secrets (the password) are returned apart and never enter MigrationInput.
import { MAX_COPY_THREADS, parseThresholds, validateChange } from '../workflows/settings';
import { DEFAULTS, type MigrationInput } from '../workflows/types';

export class UsageError extends Error {}

type Kind = 'string' | 'int' | 'float' | 'bool';
const FLAGS: Record<string, Kind> = {
  host: 'string', port: 'int', user: 'string', password: 'string', 'ask-pass': 'bool',
  database: 'string', table: 'string', alter: 'string', execute: 'bool',
  'chunk-size': 'int', 'dml-batch-size': 'int', 'approve-renamed-columns': 'bool', 'ok-to-drop-table': 'bool',
  'initially-drop-ghost-table': 'bool', 'initially-drop-old-table': 'bool', 'exact-rowcount': 'bool',
  'postpone-cut-over-flag-file': 'string', 'cut-over-lock-timeout-seconds': 'int',
  resurrect: 'bool', resume: 'bool', 'nice-ratio': 'float', 'max-lag-millis': 'int', 'max-load': 'string', 'throttle-query': 'string',
  cleanup: 'bool', 'no-search-attributes': 'bool',
  'critical-load': 'string', 'critical-load-interval-millis': 'int', 'critical-load-hibernate-seconds': 'int',
  'panic-on-warnings': 'bool', 'allow-data-loss': 'bool', 'include-triggers': 'bool', 'trigger-suffix': 'string', 'remove-trigger-suffix-if-exists': 'bool',
  'discard-foreign-keys': 'bool', 'attempt-instant-ddl': 'bool', 'allow-nullable-unique-key': 'bool',
  'analyze-ghost-table-before-cutover': 'bool', 'allow-zero-in-date': 'bool',
  'migrate-on-replica': 'bool', 'test-on-replica': 'bool', 'assume-master-host': 'string', 'throttle-control-replicas': 'string',
  'heartbeat-interval-millis': 'int', 'switch-to-rbr': 'bool', 'throttle-flag-file': 'string', 'throttle-additional-flag-file': 'string',
  'panic-flag-file': 'string', 'hooks-path': 'string', 'hooks-hint': 'string', 'hooks-hint-owner': 'string', 'hooks-hint-token': 'string',
  checkpoint: 'bool', revert: 'bool', 'old-table': 'string', 'serve-socket-file': 'string', 'serve-tcp-port': 'int',
  // revenant's own
  'mysql-connection': 'string', 'chunk-target-millis': 'int', 'copy-threads': 'int', 'defer-secondary-indexes': 'bool', 'postpone-cut-over': 'bool', 'copy-start-delay-millis': 'int', detach: 'bool', 'task-queue': 'string', namespace: 'string',
  'allow-on-master': 'bool', 'assume-rbr': 'bool', checksum: 'bool', 'revert-window': 'string',
  // accepted for gh-ost compatibility, no effect on revenant
  verbose: 'bool', debug: 'bool', 'concurrent-rowcount': 'bool',
  'cut-over': 'string', 'storage-engine': 'string', 'skip-foreign-key-checks': 'bool',
  // revenant always resumes by GTID on MariaDB, and checkpoints with every chunk and batch
  gtid: 'bool', 'checkpoint-seconds': 'int', 'default-retries': 'int',
};

/** A duration: seconds, or a number with s, m, h or d (90, 90s, 30m, 24h, 7d); at most 30 days. */
function durationSeconds(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`--${flag} takes a duration such as 90s, 30m, 24h or 7d, not "${raw}"`);
  const seconds = Math.round(Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd']);
  if (seconds > 30 * 86_400) throw new UsageError(`--${flag} is at most 30d, not "${raw}"`);
  return seconds;
}

export interface ParsedFlags {
  values: Record<string, string | number | boolean>;
  positional: string[];
}

export function parseFlags(argv: string[]): ParsedFlags {
  const values: Record<string, string | number | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/is.exec(arg);
    if (!m || arg === '-' || arg === '--') { positional.push(arg); continue; }
    const name = m[1];
    const kind = FLAGS[name];
    if (!kind) throw new UsageError(`unknown flag --${name} (see revenant --help)`);
    let raw = m[2];
    if (kind === 'bool') {
      if (raw === undefined) { values[name] = true; continue; }
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
    } else values[name] = raw;
  }
  return { values, positional };
}

export interface MigrateRequest {
  input: MigrationInput;
  password?: string;
  askPass: boolean;
  detach: boolean;
  taskQueue?: string;
  namespace?: string;
  /** gh-ost's interactive commands (client/interactive.ts), served while the command follows the migration. */
  serve: { socketFile?: string; tcpPort?: number };
}

export function migrateRequest(flags: ParsedFlags, env: NodeJS.ProcessEnv = process.env): MigrateRequest {
  const v = flags.values;
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
  const bool = (name: string) => v[name] === true;
  const input: MigrationInput = {
    server: { host: String(v.host ?? env.REVENANT_MYSQL_HOST ?? '127.0.0.1'), port: int('port', Number(env.REVENANT_MYSQL_PORT ?? 3306), 1, 65535) },
    database: need('database'),
    table: need('table'),
    // --revert finds the ALTER in the checkpoint (and checks it against --alter when given).
    alter: bool('revert') ? String(v.alter ?? '') : need('alter'),
    execute: bool('execute'),
    chunkSize: int('chunk-size', DEFAULTS.chunkSize, 10, 100_000),
    dmlBatchSize: int('dml-batch-size', DEFAULTS.dmlBatchSize, 1, 100),
    approveRenamedColumns: bool('approve-renamed-columns'),
    okToDropTable: bool('ok-to-drop-table'),
    initiallyDropGhostTable: bool('initially-drop-ghost-table'),
    initiallyDropOldTable: bool('initially-drop-old-table'),
    exactRowcount: bool('exact-rowcount'),
    postponeCutOver: bool('postpone-cut-over'),
    cutOverLockTimeoutSeconds: int('cut-over-lock-timeout-seconds', DEFAULTS.cutOverLockTimeoutSeconds, 1, 60),
  };
  if (v['mysql-connection'] !== undefined) input.server.name = String(v['mysql-connection']);
  if (v.user !== undefined) input.server.user = String(v.user);
  else if (env.REVENANT_MYSQL_USER) input.server.user = env.REVENANT_MYSQL_USER;
  if (v['postpone-cut-over-flag-file'] !== undefined) input.postponeCutOverFlagFile = String(v['postpone-cut-over-flag-file']);
  if (bool('resurrect') || bool('resume')) input.resurrect = true;
  if (v['nice-ratio'] !== undefined) input.niceRatio = Number(v['nice-ratio']);
  if (v['critical-load'] !== undefined) {
    input.criticalLoad = String(v['critical-load']);
    try {
      parseThresholds(input.criticalLoad, '--critical-load');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  try {
    const tuned = validateChange(Object.fromEntries(['max-load', 'throttle-query', 'max-lag-millis'].filter((k) => v[k] !== undefined).map((k) => [k, v[k]])));
    Object.assign(input, tuned);
  } catch (e) {
    if ((e as Error).message !== 'no setting to change') throw new UsageError(`--${(e as Error).message}`);
  }
  if (bool('no-search-attributes')) input.searchAttributes = false;
  // On by default (a migration that lost a row must not cut over); --checksum=false skips it.
  // Rows an accepted lossy ALTER drops (--allow-data-loss) would fail it: then only on request.
  input.checksum = v.checksum === undefined ? !bool('allow-data-loss') : v.checksum === true;
  if (v['critical-load-interval-millis'] !== undefined) input.criticalLoadIntervalMillis = int('critical-load-interval-millis', 0, 0, 3_600_000);
  if (v['critical-load-hibernate-seconds'] !== undefined) input.criticalLoadHibernateSeconds = int('critical-load-hibernate-seconds', 0, 0, 86_400);
  // --chunk-size keeps gh-ost's meaning: given alone, every chunk has that many rows. Without
  // it, chunks start at 1000 rows and adapt to take about --chunk-target-millis each: short
  // enough that the rows a chunk locks are soon free, long enough that a chunk's fixed cost
  // (claim, checkpoint, commit) does not dominate (bench/RESULTS.md).
  if (v['chunk-target-millis'] !== undefined) input.chunkTargetMillis = int('chunk-target-millis', DEFAULTS.chunkTargetMillis, 0, 60_000);
  else if (v['chunk-size'] === undefined) input.chunkTargetMillis = DEFAULTS.chunkTargetMillis;
  if (v['copy-threads'] !== undefined) input.copyThreads = int('copy-threads', DEFAULTS.copyThreads, 1, MAX_COPY_THREADS);
  if (v['defer-secondary-indexes'] !== undefined) input.deferSecondaryIndexes = v['defer-secondary-indexes'] === true;
  if (v['default-retries'] !== undefined) input.defaultRetries = int('default-retries', DEFAULTS.defaultRetries, 1, 10_000);
  if (bool('panic-on-warnings')) input.panicOnWarnings = true;
  if (bool('allow-data-loss')) input.allowDataLoss = true;
  if (bool('include-triggers')) {
    const suffix = v['trigger-suffix'] === undefined ? DEFAULTS.triggerSuffix : String(v['trigger-suffix']);
    if (!/^[A-Za-z0-9_$]{1,32}$/.test(suffix)) throw new UsageError(`--trigger-suffix must be 1 to 32 letters, digits, _ or $, got "${suffix}"`);
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
  if (topologies.length > 1) throw new UsageError(`--${topologies.join(' and --')} exclude each other: pick one topology`);
  if (bool('allow-on-master')) input.allowOnMaster = true;
  if (bool('migrate-on-replica')) input.migrateOnReplica = true;
  if (bool('test-on-replica')) input.testOnReplica = true;
  if (v['assume-master-host'] !== undefined) {
    if (!/^[^:\s]+(:\d+)?$/.test(String(v['assume-master-host']))) throw new UsageError(`--assume-master-host takes host[:port], not "${v['assume-master-host']}"`);
    input.assumeMasterHost = String(v['assume-master-host']);
  }
  if (v['throttle-control-replicas'] !== undefined) {
    const list = String(v['throttle-control-replicas']).split(',').map((x) => x.trim()).filter(Boolean);
    const bad = list.find((x) => !/^[^:\s]+(:\d+)?$/.test(x));
    if (bad) throw new UsageError(`--throttle-control-replicas takes host[:port],…; "${bad}" is not one`);
    input.throttleControlReplicas = list;
  }
  if (v['heartbeat-interval-millis'] !== undefined) input.heartbeatIntervalMillis = int('heartbeat-interval-millis', 100, 10, 60_000);
  if (bool('assume-rbr')) input.assumeRbr = true;
  if (bool('switch-to-rbr')) input.switchToRbr = true;
  for (const [flag, key] of [['throttle-flag-file', 'throttleFlagFile'], ['throttle-additional-flag-file', 'throttleAdditionalFlagFile'],
    ['panic-flag-file', 'panicFlagFile'], ['hooks-path', 'hooksPath'], ['hooks-hint', 'hooksHint'], ['hooks-hint-owner', 'hooksHintOwner'],
    ['hooks-hint-token', 'hooksHintToken']] as const) {
    if (v[flag] !== undefined) input[key] = String(v[flag]);
  }
  if (v['revert-window'] !== undefined) {
    input.revertWindowSeconds = durationSeconds('revert-window', String(v['revert-window']));
    if (input.revertWindowSeconds > 0 && (input.testOnReplica || input.migrateOnReplica || input.triggers)) {
      throw new UsageError(`--revert-window works on the master only, without --include-triggers`);
    }
  }
  if (bool('checkpoint')) input.checkpoint = true;
  if (bool('revert')) {
    if (v['old-table'] === undefined) throw new UsageError('--revert needs --old-table: the table the migration put aside, e.g. --old-table _<table>_del');
    if (input.resurrect) throw new UsageError('--revert and --resurrect exclude each other');
    if (input.testOnReplica || input.migrateOnReplica || input.triggers) throw new UsageError('--revert works on the master only, without --include-triggers');
    input.revert = { oldTable: String(v['old-table']) };
  } else if (v['old-table'] !== undefined) {
    throw new UsageError('--old-table names the table to revert to: it needs --revert');
  }
  if (v['copy-start-delay-millis'] !== undefined) input.copyStartDelayMillis = int('copy-start-delay-millis', 0, 0, 3_600_000);
  const serve = {
    ...(v['serve-socket-file'] !== undefined ? { socketFile: String(v['serve-socket-file']) } : {}),
    ...(v['serve-tcp-port'] !== undefined ? { tcpPort: int('serve-tcp-port', 0, 1, 65535) } : {}),
  };
  if ((serve.socketFile || serve.tcpPort) && bool('detach')) {
    throw new UsageError('--serve-socket-file and --serve-tcp-port are served by the command while it follows the migration: ' +
      'without --detach, or run revenant serve --serve-socket-file … for a detached one');
  }
  return {
    input,
    serve,
    password: v.password === undefined ? undefined : String(v.password),
    askPass: bool('ask-pass'),
    detach: bool('detach'),
    taskQueue: v['task-queue'] === undefined ? undefined : String(v['task-queue']),
    namespace: v.namespace === undefined ? undefined : String(v.namespace),
  };
}
