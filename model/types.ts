// Types shared by the workflow, the activities and the client. Pure data: everything here
// crosses Temporal's boundary as JSON, so it must never hold a secret.
import type { SettingsInput } from './settings';

/** Where the table lives. Credentials are not here: the worker resolves them itself. */
export interface ServerRef {
  host: string;
  port: number;
  /** MySQL user name; the password for it is looked up by the worker. */
  user?: string;
  /** A connection defined in the worker's config (REVENANT_CONFIG): its address, user, password and TLS are the worker's. */
  name?: string;
  /** TLS asked for on the command line (gh-ost's --ssl…): paths of PEM files, read on the worker's host. */
  tls?: TlsRef;
  /** gh-ost's --mysql-timeout: seconds to connect, and for each statement's answer (absent: no limit). */
  timeoutSeconds?: number;
}

/** gh-ost's --ssl, --ssl-ca, --ssl-cert, --ssl-key and --ssl-allow-insecure. Paths only: a key's contents never enter a workflow. */
export interface TlsRef {
  ca?: string;
  cert?: string;
  key?: string;
  /** Skip verifying the server's certificate chain and host name. */
  allowInsecure?: boolean;
}

/** What the operator asked for: gh-ost's flags, minus anything secret; the settable ones are model/settings.ts's. */
export interface MigrationInput extends SettingsInput {
  server: ServerRef;
  database: string;
  table: string;
  /** The ALTER clauses, e.g. "ADD COLUMN c INT NOT NULL DEFAULT 0" (an "ALTER TABLE t" prefix is accepted). */
  alter: string;
  /** Without it the migration is a dry run: validate, create and alter the ghost, drop it. */
  execute: boolean;
  /** Build non-unique indexes after the copy (revenant's --defer-secondary-indexes); absent: when no replica reads the binlog. */
  deferSecondaryIndexes?: boolean;
  approveRenamedColumns: boolean;
  okToDropTable: boolean;
  initiallyDropGhostTable: boolean;
  initiallyDropOldTable: boolean;
  exactRowcount: boolean;
  /** Cut-over waits for an operator's signal (or the flag file to disappear). */
  postponeCutOver: boolean;
  postponeCutOverFlagFile?: string;
  cutOverLockTimeoutSeconds: number;
  /** Milliseconds the row copy waits before its first chunk (lets binlog events pile up: tests). */
  copyStartDelayMillis?: number;
  /** Continue as new once the run's history reaches this many events (default 10,000; tests lower it). */
  historyLimit?: number;
  /** Set by a run that continued as new: what the runs before it did (workflows/renewal.ts). */
  renewal?: Renewal;
  /**
   * A fleet's target (workflows/fleet.ts): the fleet's workflow id, told when this one holds for
   * a cut-over together. oneRename: the fleet swaps this table with the others of its server in
   * one RENAME (activities/cutover-together.ts); this migration never renames it alone.
   */
  fleet?: { workflowId: string; together: boolean; oneRename?: boolean };
  /** Confirm a critical load after this many milliseconds before acting on it (0: act at once). */
  criticalLoadIntervalMillis?: number;
  /** Hibernate this long on critical load and carry on; 0 stops the migration (resurrectable). */
  criticalLoadHibernateSeconds?: number;
  /** Continue a failed or terminated migration from its changelog checkpoint (--resurrect / --resume). */
  resurrect?: boolean;
  /** gh-ost's --throttle-http-interval-millis (100) and --throttle-http-timeout-millis (1000). */
  throttleHttpIntervalMillis?: number;
  throttleHttpTimeoutMillis?: number;
  /** gh-ost's --ignore-http-errors: a URL that cannot be reached does not throttle. */
  ignoreHttpErrors?: boolean;
  /** Keep the Revenant* search attributes current (they must be registered on the server). Default true. */
  searchAttributes?: boolean;
  /** gh-ost's --default-retries: how often a failing statement is tried before the migration fails. */
  defaultRetries?: number;
  /** gh-ost's --panic-on-warnings: a warning while copying or applying (a row lost to a new unique key, a truncated value) fails the migration. */
  panicOnWarnings?: boolean;
  /**
   * revenant's --allow-data-loss: the ALTER may drop rows (a new unique key over duplicates),
   * truncate or convert values (narrower types, another charset), and the migration goes on.
   * Without it such a loss fails the migration before the cut-over, naming example rows.
   */
  allowDataLoss?: boolean;
  /**
   * revenant's --allow-non-atomic-instant: in a cut-over together, an ALTER the server can do
   * in place (--attempt-instant-ddl) is done so, outside the others' one RENAME.
   */
  allowNonAtomicInstant?: boolean;
  /**
   * revenant's --revert-window: after the cut-over the migration stays revertible this long
   * (workflows/revert.ts): the table put aside is kept up to date with every change, and
   * `revenant revert` swaps it back. 0 or absent: none, and the migration ends at the cut-over.
   */
  revertWindowSeconds?: number;
  /**
   * gh-ost's --checkpoint: at its end the migration keeps its changelog, with the binlog
   * checkpoint of its cut-over, as _<t>_ghk, so that `--revert --old-table` can undo it later
   * (revenant checkpoints every chunk and batch whatever this says).
   */
  checkpoint?: boolean;
  /**
   * gh-ost's --revert --old-table: undo a finished migration that kept its checkpoint
   * (--checkpoint): `oldTable`, the table it put aside, is brought up to date from the binlog
   * of its cut-over and swapped back in.
   */
  revert?: { oldTable: string };
  /**
   * gh-ost's --skip-port-validation (and what --aliyun-rds, --gcp and --azure imply): the server
   * need not report the port it was reached on (@@port, or MariaDB's @@extra_port); without it
   * a proxy or a port forwarded elsewhere is refused before anything is changed.
   */
  skipPortValidation?: boolean;
  /** gh-ost's --allow-setup-metadata-lock-instruments: turn MySQL's metadata lock instrument on, which the cut-over reads. */
  allowSetupMetadataLockInstruments?: boolean;
  /** gh-ost's --force-table-names: the ghost, changelog and old tables are named after this instead of the table. */
  forceTableNames?: string;
  /** gh-ost's --timestamp-old-table: the old table is _<t>_<YYYYMMDDhhmmss>_del, so that earlier ones need not be dropped. */
  timestampOldTable?: boolean;
  /** gh-ost's --include-triggers: the original's triggers are created on the ghost at cut-over, under new names. */
  triggers?: { suffix: string; removeSuffixIfExists: boolean };
  /** gh-ost's --discard-foreign-keys: child-side foreign keys are dropped (the ghost is created without them). */
  discardForeignKeys?: boolean;
  /** gh-ost's --attempt-instant-ddl: try ALTER … ALGORITHM=INSTANT on the original first. */
  attemptInstantDdl?: boolean;
  /** gh-ost's --allow-nullable-unique-key: a unique key with nullable columns may be the shared key. */
  allowNullableUniqueKey?: boolean;
  /** gh-ost's --analyze-ghost-table-before-cutover. */
  analyzeGhostTable?: boolean;
  /** --checksum: before the cut-over, compare the ghost with the original row for row (activities/checksum.ts). */
  checksum?: boolean;
  /** gh-ost's --allow-zero-in-date: the ghost is created and altered without NO_ZERO_DATE/NO_ZERO_IN_DATE. */
  allowZeroInDate?: boolean;
  /** --cut-over-window (repeatable): the cut-over runs only inside one (model/cut-over-window.ts). */
  cutOverWindows?: string[];
  /** --start-at: an ISO 8601 instant; the copy waits for it (inspection does not). */
  startAt?: string;
  /** Sessions whose transaction modified more rows than this are never killed (default 1,000,000)... */
  forceCutOverMaxRows?: number;
  /** ...unless --force-cut-over-kill-large. */
  forceCutOverKillLarge?: boolean;
  // Topology (mysql/topology.ts). Without any: connected to a replica, writing its master.
  allowOnMaster?: boolean;
  migrateOnReplica?: boolean;
  testOnReplica?: boolean;
  /** gh-ost's --assume-master-host "host:port": the master to write to, instead of the replica's own. */
  assumeMasterHost?: string;
  /** gh-ost's --master-user: the login on the --assume-master-host server, when not the replica's (its password is the worker's). */
  masterUser?: string;
  /** gh-ost's --test-on-replica-skip-replica-stop: the test cut-over leaves replication running (something else stops it). */
  testOnReplicaSkipReplicaStop?: boolean;
  /** gh-ost's --skip-foreign-key-checks: the user vouches no other table references this one (information_schema is not searched). */
  skipForeignKeyChecks?: boolean;
  /** gh-ost's --concurrent-rowcount (with --exact-rowcount): false counts before the copy; absent or true, while it runs. */
  concurrentRowcount?: boolean;
  /** gh-ost's --throttle-control-replicas: "host:port" of replicas whose lag throttles too. */
  throttleControlReplicas?: string[];
  /** How often the master's heartbeat (for lag on replicas) is written; default 100. */
  heartbeatIntervalMillis?: number;
  /** gh-ost's --assume-rbr: do not check binlog_format on the inspected server. */
  assumeRbr?: boolean;
  /** gh-ost's --switch-to-rbr: on a replica not logging ROW, switch it (and restart its replication). */
  switchToRbr?: boolean;
  /** gh-ost's flag files, on the worker's host: throttle while either throttle file exists; stop at once when the panic file appears. */
  throttleFlagFile?: string;
  throttleAdditionalFlagFile?: string;
  panicFlagFile?: string;
  /** gh-ost's --hooks-path (a directory on the worker's host) and --hooks-hint. */
  hooksPath?: string;
  hooksHint?: string;
  hooksHintOwner?: string;
  hooksHintToken?: string;
}

export { INPUT_DEFAULTS as DEFAULTS } from './migration-input';

export type Phase =
  | 'inspecting'
  | 'scheduled'
  | 'preparing'
  | 'migrating'
  | 'indexing'
  | 'checksumming'
  | 'postponed'
  | 'hibernating'
  | 'cutting-over'
  | 'revertible'
  | 'cleaning-up'
  | 'aborted'
  | 'completed'
  | 'dry-run-completed'
  | 'failed';

/** A column of the original table and its name in the ghost table. */
export interface ColumnMapping {
  source: string;
  ghost: string;
  /**
   * A STORED generated column in both tables: the server computes it in the ghost, so it is
   * never written, but its value in the binlog's images still finds rows when the shared key
   * includes it (gh-ost's generated-columns-unique).
   */
  generated?: boolean;
}

/** The columns revenant writes into the ghost (not the generated ones, which the server computes). */
export const writtenColumns = (columns: ColumnMapping[]) => columns.filter((c) => !c.generated);

/** The unique key both tables share; rows are copied in its order, events find rows by it. */
export interface SharedKey {
  name: string;
  /** Source-table column names, in key order. */
  columns: string[];
  /** Per key column: true when it is an integer type (bounds travel as BigInt). */
  integer: boolean[];
  /**
   * Per key column: ENUM or SET, ordered by ordinal (their index order), so copy bounds are
   * read and compared as numbers: compared as strings they would skip rows.
   */
  ordinal?: boolean[];
}

/** What inspection learned; everything later phases need to build their statements. */
export interface TablePlan {
  database: string;
  table: string;
  ghostTable: string;
  changelogTable: string;
  oldTable: string;
  /** Columns copied: present in both tables (after renames), not generated in the ghost. */
  columns: ColumnMapping[];
  /** Where the ghost, changelog and cut-over are, when not the server connected to (the replica's master). */
  applier?: ServerRef;
  /** Replicas whose heartbeat lag throttles (see mysql/topology.ts). */
  lagReplicas?: ServerRef[];
  topology?: 'master' | 'replica' | 'migrate-on-replica' | 'test-on-replica';
  /** The key rows are found by in the ghost (binlog apply): unique in both tables. */
  key: SharedKey;
  /**
   * A revert window's plan (workflows/revert.ts): the number of cut-overs so far. Its applier
   * starts right after the RENAME of the last one (found in the binlog) and applies the
   * table's changes in order, updates as UPDATEs, so the kept table's own columns keep their values.
   */
  window?: number;
  /** When that window ends by itself (epoch ms): the metrics' time left. */
  windowEndsAt?: number;
  /**
   * The original's unique key the copy walks, when not `key` itself: `key` then extends it
   * (e.g. PRIMARY KEY (id) becomes (id, i)), so it is unique in the original too.
   */
  copyKey?: SharedKey;
  /** Secondary indexes dropped from the empty ghost, added back after the copy (table/indexes.ts). */
  deferredIndexes?: DeferredIndex[];
  /** The table's row writes a second as prepare measured them (MySQL only: table/indexes.ts). */
  writesPerSecond?: number;
  estimatedRows: number;
  serverVersion: string;
  serverUuid: string;
}

/**
 * Row writes a second above which a table is busy: MySQL's ghost keeps its indexes through the
 * copy (table/indexes.ts), and the copy starts at a fraction of its pace (control/copy-pacer.ts).
 */
export const BUSY_TABLE_WRITES_PER_SECOND = 1000;

/** Whether a table measured at `writesPerSecond` is busy (unmeasured: not). */
export const busyTable = (writesPerSecond: number | undefined) => (writesPerSecond ?? 0) > BUSY_TABLE_WRITES_PER_SECOND;

/** A secondary index built after the copy: its name, and its definition as SHOW CREATE TABLE prints it. */
export interface DeferredIndex {
  name: string;
  definition: string;
}

/** A binlog coordinate; gtid is the server's GTID position where it has one. */
export interface BinlogPosition {
  file: string;
  position: number;
  gtid?: string;
}

export interface CopyProgress {
  rowsCopied: number;
  /** The copy stopped at its checkpoint to be started again at attempt 1 (see LongRunTerms), not because it is done. */
  handedBack?: boolean;
  /** --exact-rowcount counted while the copy runs (gh-ost's --concurrent-rowcount): the table's rows, once known. */
  rowsCounted?: number;
  chunksCopied: number;
  done: boolean;
  /** The chunk size the last chunk was copied with. */
  chunkSize?: number;
  /** The share of the time the copy works, in percent, set by the applier's lag (control/copy-pacer.ts). */
  pacePercent?: number;
}

export interface ApplyProgress {
  eventsApplied: number;
  /** The applier stopped at its checkpoint to be started again at attempt 1 (see LongRunTerms). */
  handedBack?: boolean;
  position: BinlogPosition;
  /** Seconds between the last applied event's commit and now (0 when caught up). */
  lagSeconds: number;
  /** Bytes of binlog between the applied position and the server's (same file only). */
  backlogBytes: number;
  /** In the activity's result only: the binlog it read, by whose transactions (see BinlogRead). */
  binlogRead?: BinlogRead;
}

/**
 * Bytes of binlog an applier read, by the transactions that held them: the table's own changes
 * (the work), the copy's chunks (what the copy costs the applier: it reads them to skip them),
 * its own batches, the changelog's other writes (heartbeats, lag), and the rest (other tables).
 */
export interface BinlogRead {
  source: number;
  copy: number;
  applier: number;
  changelog: number;
  other: number;
}

/** An activity attempt that picked up from a checkpoint, and how much committed work it redid. */
export interface ResumeReport {
  kind: 'resume';
  phase: 'copy' | 'apply';
  attempt: number;
  checkpoint: string;
  /** Chunks (copy) or events (apply) already committed that this attempt does again. */
  redone: number;
}

/**
 * Copy or apply started or stopped holding off, and why; with the phase's progress at that
 * moment, so a held migration's status shows where it holds, not the last periodic report.
 */
export interface ThrottleReport {
  kind: 'throttle';
  phase: 'copy' | 'apply';
  reason: string | null;
  copy?: CopyProgress;
  apply?: ApplyProgress;
}

/** Progress an activity reports to its workflow (signal `progress`). */
export type ProgressReport =
  | { kind: 'copy'; copy: CopyProgress }
  | { kind: 'apply'; apply: ApplyProgress }
  | ResumeReport
  | ThrottleReport
  | CutOverBlockedReport;

/** The cut-over could not lock the original: who holds it, and what --force-cut-over-after did or spared. */
export interface CutOverBlockedReport {
  kind: 'cut-over';
  blockers: string;
}

export interface MigrationStatus {
  workflowId: string;
  phase: Phase;
  database: string;
  table: string;
  alter: string;
  rowsCopied: number;
  rowsEstimate: number;
  percent: number;
  eventsApplied: number;
  binlogPosition?: BinlogPosition;
  lagSeconds: number;
  backlogBytes: number;
  /** Seconds until the copy completes, by its rate so far; undefined before there is a rate. */
  etaSeconds?: number;
  elapsedSeconds: number;
  copyElapsedSeconds: number;
  cutOverPostponed: boolean;
  /** While a ready migration waits for its cut-over window: when the next opens and closes (ISO 8601), and which. */
  cutOverWindow?: { opensAt: string; closesAt: string; window: string };
  cutOverAttempts: number;
  /** Sessions that kept the last cut-over attempt from locking the original, and why any was spared. */
  cutOverBlockers?: string;
  /** Sessions --force-cut-over-after killed so that the cut-over could lock the original. */
  cutOverKills?: string[];
  /** When the RENAME ran (epoch ms, the worker's clock). */
  renamedAt?: number;
  /** Activity attempts that resumed from a checkpoint, and the committed work they redid. */
  resumes: number;
  /** The latest resume, e.g. "copy attempt 3: chunk 120 committed (last heartbeat: chunk 118); redid 0". */
  lastResume?: string;
  redoneChunks: number;
  redoneEvents: number;
  hibernations: number;
  /** Why copy or apply hold off now (gh-ost's throttle reason), if they do. */
  throttled?: string;
  /** The settings in force, and whether the operator paused the migration. */
  settings: import('./settings').Control;
  /** The chunk size the copy used last. */
  chunkSizeInUse?: number;
  /** The copy's pace, in percent, while its applier's lag holds it under full speed. */
  copyPacePercent?: number;
  /** Secondary indexes left out of the copy and built after it (--defer-secondary-indexes). */
  deferredIndexes?: string[];
  /** Set when this run continues an earlier one (--resurrect). */
  resurrected: boolean;
  /** Runs before this one that continued as new to keep the history bounded (workflows/renewal.ts). */
  renewals?: number;
  /** --checksum's outcome, once the ghost was found equal to the original. */
  checksum?: ChecksumResult;
  /** The revert window, once the cut-over opened one (--revert-window). */
  revert?: RevertWindowStatus;
  message?: string;
}

/** What a run hands the next when it continues as new: the operator's view goes on unbroken. */
export interface Renewal {
  /** Runs before the next one. */
  runs: number;
  /** The migration's start, and its copy's (epoch ms): elapsed times count from them. */
  startedAt: number;
  copyStartedAt: number;
  copyEndedAt: number;
  /** The status as the last run left it: counters, settings, checksum, whether the cut-over is still postponed. */
  status: MigrationStatus;
  /** gh-ost's one-time hooks already run (on-startup, on-before-row-copy, …): not run again. */
  hooksRun: string[];
}

export interface RevertWindowStatus {
  /** Which structure the table has now: the ALTER's, or the original's after a revert. */
  tableHas: 'migrated' | 'original';
  /** The table kept up to date beside it, which a revert swaps in. */
  keptTable: string;
  /** When the window ends by itself (epoch ms), and the seconds left now. */
  endsAt: number;
  secondsLeft: number;
  /** Cut-overs done in the window: reverts, and reverts of reverts. */
  reverts: number;
  /**
   * Row changes applied to the kept table since the window opened, and how far behind it is:
   * as of the window's last cut-over or its end. While it is open they are in its applier's
   * heartbeat details (no history event), which `revenant status` reads.
   */
  eventsApplied: number;
  lagSeconds: number;
  /** What will stop the window's applier, said when it opens (keptTableProblems). */
  warning?: string;
  /** Why the window closed: finalized, its time was up, or failed: the reason. */
  closed?: string;
}

/** What --checksum compared, on one consistent snapshot of both tables. */
export interface ChecksumResult {
  rowsCompared: number;
  ranges: number;
  /** The original's columns compared, and those left out (their type changed with the ALTER). */
  columns: string[];
  skippedColumns: string[];
  /** How long the original was read-locked to open the snapshot (the longest, when it was taken again after a repair). */
  lockMillis: number;
  /** Ranges that differed, were copied again from the original and then compared equal. */
  repairedRanges?: number;
}

export const checksumSummary = (c: ChecksumResult): string =>
  `${c.rowsCompared} rows equal in ${c.ranges} range${c.ranges === 1 ? '' : 's'} on ${c.columns.length} columns` +
  (c.skippedColumns.length ? ` (not compared, type changed by the ALTER: ${c.skippedColumns.join(', ')})` : '') +
  (c.repairedRanges
    ? `; ${c.repairedRanges} differing range${c.repairedRanges === 1 ? '' : 's'} copied again and found equal`
    : '') +
  `; original read-locked ${c.lockMillis} ms for the snapshot`;

export interface MigrationResult {
  status: MigrationStatus;
  dryRun: boolean;
}

/** One migration per table: the workflow id says which server, database and table. */
/** "host[:port]" (gh-ost's --assume-master-host, --throttle-control-replicas) as host and port; undefined when it is not that. */
export function hostAndPort(spec: string, defaultPort = 3306): { host: string; port: number } | undefined {
  const m = /^\s*([^:\s]+)(?::(\d+))?\s*$/.exec(spec);
  return m ? { host: m[1], port: m[2] ? Number(m[2]) : defaultPort } : undefined;
}

export function migrationWorkflowId(server: ServerRef, database: string, table: string): string {
  // '.', ':' and '%' in a name are escaped, so that `a.b`.`c` and `a`.`b.c` cannot share an id;
  // names without them (nearly all) keep the id they always had. The readable names are in
  // the RevenantDatabase and RevenantTable search attributes.
  const name = (n: string) => n.replace(/[%.:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `revenant:${server.host}:${server.port}:${name(database)}.${name(table)}`;
}

export const TASK_QUEUE = 'revenant';

/**
 * The task queue of one migration started by an embedded CLI: its workflow and activity tasks
 * reach only the CLI processes of that same migration (a rerun attaches to it), never another
 * CLI's worker, which holds another user's password for another server.
 */
export const embeddedTaskQueue = (workflowId: string) => `${TASK_QUEUE}:${workflowId}`;

/** What the migration's own tables are named after: the table, or gh-ost's --force-table-names. */
export const tableNameBase = (input: Pick<MigrationInput, 'table' | 'forceTableNames'>) =>
  input.forceTableNames || input.table;
export const ghostTableName = (t: string) => `_${t}_gho`;
export const changelogTableName = (t: string) => `_${t}_ghc`;
/** The old table's name; with gh-ost's --timestamp-old-table, with the time of the migration's start (YYYYMMDDhhmmss, UTC). */
export const oldTableName = (t: string, timestamp?: string) => (timestamp ? `_${t}_${timestamp}_del` : `_${t}_del`);
/** The changelog kept after the migration by --checkpoint, for a later --revert. */
export const checkpointTableName = (t: string) => `_${t}_ghk`;

// ---- Fleets: one ALTER across many servers and databases (workflows/fleet.ts) ------------

/** One line of a fleet file: a server, and which of its databases hold the table. */
export interface FleetServerSpec {
  host: string;
  port: number;
  /** A LIKE pattern ("shard_%") or explicit names. */
  databases: string | string[];
  /** The table, when it is not --table's. */
  table?: string;
  user?: string;
  /** A connection in the worker's REVENANT_CONFIG (its address, login and TLS). */
  connection?: string;
}

export interface FleetTarget {
  server: ServerRef;
  database: string;
  table: string;
  /** Its own ALTER (a multi-table migration's --alter-table); absent: the template's. */
  alter?: string;
}

/** One table of a multi-table migration (revenant migrate --alter-table T=ALTER …). */
export interface TableAlter {
  table: string;
  alter: string;
}

export type FleetTargetState = 'pending' | 'copying' | 'holding' | 'cutting-over' | 'done' | 'failed' | 'skipped';

export interface FleetTargetStatus extends FleetTarget {
  workflowId: string;
  state: FleetTargetState;
  /** Canary targets complete, cut-over included, before any other starts. */
  canary?: boolean;
  /** Resurrected from the checkpoint its earlier migration left (a fleet's --resurrect). */
  resume?: boolean;
  message?: string;
  /** When its RENAME ran (epoch ms, the worker's clock), once cut over. */
  renamedAt?: number;
  rowsCopied?: number;
}

export interface FleetInput {
  name: string;
  servers: FleetServerSpec[];
  /** --table: the table in every database that names none of its own. */
  table: string;
  /**
   * A multi-table migration: these tables of the one database of the one server, each with its
   * own ALTER, cut over together in one RENAME (servers: one, with one database by name).
   */
  tables?: TableAlter[];
  /** The ALTER and every flag, for each target's migration (server, database and table are each target's). */
  template: Omit<MigrationInput, 'server' | 'database' | 'table'>;
  /** The command line's user, TLS and timeout, for every server of the file (a connection name there is the worker's instead). */
  login: Pick<ServerRef, 'user' | 'tls' | 'timeoutSeconds'>;
  maxConcurrent: number;
  /** Copying at once on one server (absent: maxConcurrent). */
  maxPerServer?: number;
  canary: number;
  onFailure: 'stop' | 'continue';
  /** 'together': every target copies and holds; all cut over at once when all are ready. */
  cutOver: 'each' | 'together';
  /** Continue what is not done: targets that completed are skipped, failed ones resurrected from their checkpoints. */
  resurrect?: boolean;
  /** Events a run of the parent may reach before it continues as new (default 10,000). */
  historyLimit?: number;
  /** Set by a run that continued as new: the targets and where each stands. */
  carried?: {
    targets: FleetTargetStatus[];
    runs: number;
    startedAt: number;
    settings: Record<string, unknown>;
    paused: boolean;
  };
}

export interface FleetStatus {
  name: string;
  phase: 'resolving' | 'canary' | 'rolling' | 'holding' | 'stopping' | 'completed' | 'failed' | 'aborted';
  message?: string;
  targets: FleetTargetStatus[];
  counts: Record<FleetTargetState, number>;
  /** The most targets seen copying at once. */
  maxCopying: number;
  paused: boolean;
  elapsedSeconds: number;
  renewals: number;
  /** Each server's cut-over together, as one RENAME: its tables and when it ran (or why not yet). */
  renames?: { server: string; tables: string[]; renamedAt?: number; killed?: string[] }[];
  /** Between the first and the last RENAME of a cut-over together (ms): 0 when it was one RENAME. */
  renameSpreadMs?: number;
  /** The revert window of a cut-over together: the cut-overs so far (1: migrated; 2: reverted once). */
  groupCutOvers?: number;
}

export interface FleetResult {
  status: FleetStatus;
}

/** What a child tells its fleet (input.fleet) when its copy is done and it holds for the fleet's cut-over. */
export interface FleetReady {
  workflowId: string;
  lagSeconds: number;
}

export function fleetWorkflowId(name: string): string {
  return `revenant-fleet:${name}`;
}

/**
 * What a workflow allows the copy and the applier, the activities that last a whole run: with
 * `handBack`, an attempt that follows a failure and then runs well for a while (a minute) stops
 * at its checkpoint and returns `handedBack`, for the workflow to start it again at attempt 1.
 * Temporal counts a retried activity's attempts for as long as it lasts, so without it each
 * interruption of a copy that runs for days waits longer than the last (1, 2, 4, … 30 s) and
 * the 200th, however far apart they come, ends the run. A workflow that does not say so (one
 * begun before it existed) gets no early return, which it would take for the end.
 */
export interface LongRunTerms {
  handBack?: boolean;
  /** This run goes on from a hand-back: its first attempt is no resume to report (the one before it was). */
  afterHandBack?: boolean;
}
