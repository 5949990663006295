// Every flag of `revenant migrate`, declared once: its name, kind, group and meaning. The
// flags an operator may change while the migration runs (`revenant set`, the socket's
// commands) are declared in the settings' table (model/settings.ts) and joined in here. The
// parser's kinds (client/flags.ts), `--help` (client/help.ts) and the unit tests' checks are
// derived from here. Groups follow the order of gh-ost's main.go; a meaning starting with
// "revenant:" is a flag gh-ost does not have. What a flag sets in the workflow's input, with
// its bounds and default, is the input's own table (model/migration-input.ts).
import { SETTING_TABLE } from '../model/settings';

/** `list`: repeatable, each value kept (in order). */
export type FlagKind = 'string' | 'int' | 'float' | 'bool' | 'list';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  help: string;
  /** Changeable while the migration runs (model/settings.ts holds the rules). */
  settable?: true;
}

const DECLARED: { group: string; flags: FlagSpec[] }[] = [
  {
    group: 'Connection',
    flags: [
      {
        name: 'host',
        kind: 'string',
        help: 'MySQL or MariaDB server to connect to, preferably a replica (default 127.0.0.1)',
      },
      { name: 'port', kind: 'int', help: 'its port (default 3306)' },
      { name: 'user', kind: 'string', help: 'MySQL user' },
      {
        name: 'password',
        kind: 'string',
        help: 'MySQL password (it stays with the worker: it never enters the workflow)',
      },
      { name: 'ask-pass', kind: 'bool', help: 'prompt for the password' },
      {
        name: 'master-user',
        kind: 'string',
        help: 'the user on the master, when not --user; requires --assume-master-host',
      },
      {
        name: 'master-password',
        kind: 'string',
        help: 'the password on the master, when not --password; requires --assume-master-host, and goes to that server only',
      },
      {
        name: 'conf',
        kind: 'string',
        help: 'a gh-ost config file: [client] user and password, [osc] chunk_size, max_load, max_lag_millis',
      },
      {
        name: 'mysql-timeout',
        kind: 'float',
        help: 'seconds to connect, and for each statement to be answered (default 0: no limit)',
      },
      {
        name: 'ssl',
        kind: 'bool',
        help: "TLS to every server the migration connects to; the server is verified against the system's CAs unless --ssl-ca",
      },
      {
        name: 'ssl-ca',
        kind: 'string',
        help: "CA certificate (PEM) the servers' certificates must be signed by; requires --ssl",
      },
      { name: 'ssl-cert', kind: 'string', help: 'client certificate (PEM); requires --ssl and --ssl-key' },
      { name: 'ssl-key', kind: 'string', help: "client certificate's key (PEM); requires --ssl and --ssl-cert" },
      {
        name: 'ssl-allow-insecure',
        kind: 'bool',
        help: "do not verify the servers' certificates or their host names; requires --ssl",
      },
      {
        name: 'skip-port-validation',
        kind: 'bool',
        help: 'do not check that the server answers on the port it says it has (proxies, forwarded ports)',
      },
      {
        name: 'mysql-connection',
        kind: 'string',
        help: "revenant: a connection named in the worker's REVENANT_CONFIG (its address, user, password and TLS are the worker's)",
      },
    ],
  },
  {
    group: 'What to migrate',
    flags: [
      { name: 'database', kind: 'string', help: 'database name (required)' },
      { name: 'table', kind: 'string', help: 'table name (required)' },
      {
        name: 'alter',
        kind: 'string',
        help: 'the ALTER TABLE clauses, e.g. "ADD COLUMN c INT NOT NULL DEFAULT 0" (required)',
      },
      {
        name: 'execute',
        kind: 'bool',
        help: 'migrate for real; without it, a dry run: the ghost table is created, altered and dropped',
      },
      {
        name: 'attempt-instant-ddl',
        kind: 'bool',
        help: 'first try ALTER … ALGORITHM=INSTANT; the copy runs only if the server refuses it',
      },
      { name: 'storage-engine', kind: 'string', help: 'innodb (the only engine revenant migrates)' },
      {
        name: 'exact-rowcount',
        kind: 'bool',
        help: "count the table's rows (SELECT COUNT(*)) for the progress estimate, instead of the statistics' estimate",
      },
      {
        name: 'concurrent-rowcount',
        kind: 'bool',
        help: 'with --exact-rowcount: count while the copy runs (default true); false counts before it starts',
      },
      {
        name: 'allow-on-master',
        kind: 'bool',
        help: 'read and write the master itself (the server given is a master)',
      },
      {
        name: 'allow-nullable-unique-key',
        kind: 'bool',
        help: "allow a unique key over nullable columns as the copy's key (NULLs in it would be lost)",
      },
      {
        name: 'approve-renamed-columns',
        kind: 'bool',
        help: 'the ALTER renames columns: copy their data under the new names',
      },
      {
        name: 'discard-foreign-keys',
        kind: 'bool',
        help: 'DANGER: migrate a table with foreign keys, creating the new table without them',
      },
      {
        name: 'skip-foreign-key-checks',
        kind: 'bool',
        help: 'you know no other table references this one: information_schema is not searched for such keys',
      },
      {
        name: 'allow-zero-in-date',
        kind: 'bool',
        help: 'create and fill the new table without NO_ZERO_DATE and NO_ZERO_IN_DATE',
      },
      { name: 'aliyun-rds', kind: 'bool', help: 'the server is Aliyun RDS (no port check)' },
      { name: 'gcp', kind: 'bool', help: 'the server is Google Cloud SQL (no port check)' },
      { name: 'azure', kind: 'bool', help: 'the server is Azure Database for MySQL (no port check)' },
      { name: 'gtid', kind: 'bool', help: 'resume by GTID: revenant does wherever the server has GTIDs' },
      { name: 'include-triggers', kind: 'bool', help: "create the table's triggers on the new table" },
      {
        name: 'trigger-suffix',
        kind: 'string',
        help: "suffix of the new table's trigger names (e.g. _v2); requires --include-triggers",
      },
      {
        name: 'remove-trigger-suffix-if-exists',
        kind: 'bool',
        help: 'a trigger whose name ends in the suffix gets it removed instead; requires --trigger-suffix',
      },
      {
        name: 'allow-data-loss',
        kind: 'bool',
        help: 'revenant: accept an ALTER that drops, truncates or converts values (without it the migration stops before the cut-over)',
      },
      {
        name: 'allow-non-atomic-instant',
        kind: 'bool',
        help: 'revenant: in a cut-over together, let --attempt-instant-ddl alter a table in place, outside the one RENAME of the others',
      },
      {
        name: 'panic-on-warnings',
        kind: 'bool',
        help: 'stop when a copied chunk raises a warning (a value changed on its way)',
      },
    ],
  },
  {
    group: 'Topology',
    flags: [
      {
        name: 'assume-master-host',
        kind: 'string',
        help: "the master to write to, host[:port], instead of the replica's own",
      },
      {
        name: 'migrate-on-replica',
        kind: 'bool',
        help: "migrate the replica's table, cut-over included; the master is not touched",
      },
      {
        name: 'test-on-replica',
        kind: 'bool',
        help: 'migrate on the replica, then stop replication, swap the tables and swap them back, for comparison',
      },
      {
        name: 'test-on-replica-skip-replica-stop',
        kind: 'bool',
        help: 'with --test-on-replica: do not stop replication (your own tooling does); requires --test-on-replica',
      },
      {
        name: 'switch-to-rbr',
        kind: 'bool',
        help: 'switch the replica to binlog_format=ROW if it is not (restarts its replication)',
      },
      { name: 'assume-rbr', kind: 'bool', help: 'do not check binlog_format: you know the server logs ROW' },
      {
        name: 'allow-setup-metadata-lock-instruments',
        kind: 'bool',
        help: "enable performance_schema's metadata lock instrument for the cut-over's lock check",
      },
    ],
  },
  {
    group: 'Tables and cut-over',
    flags: [
      { name: 'ok-to-drop-table', kind: 'bool', help: 'drop the old table (_<table>_del) after the cut-over' },
      {
        name: 'initially-drop-old-table',
        kind: 'bool',
        help: 'drop an old table left by an earlier migration before starting',
      },
      {
        name: 'initially-drop-ghost-table',
        kind: 'bool',
        help: 'drop a ghost table left by an earlier migration before starting',
      },
      {
        name: 'timestamp-old-table',
        kind: 'bool',
        help: "a timestamp in the old table's name, so that migrations do not collide",
      },
      {
        name: 'force-table-names',
        kind: 'string',
        help: "the base of the ghost, changelog and old table names, instead of the table's",
      },
      {
        name: 'cut-over',
        kind: 'string',
        help: 'atomic (or default): the only cut-over revenant has; with --fleet, together: every target copies and holds, and all cut over at once',
      },
      {
        name: 'cut-over-lock-timeout-seconds',
        kind: 'int',
        help: 'seconds the cut-over may hold or wait for its locks before it gives up and tries again (default 3)',
      },
      {
        name: 'cut-over-exponential-backoff',
        kind: 'bool',
        help: 'wait longer between failed cut-over attempts each time: revenant always does',
      },
      { name: 'force-named-cut-over', kind: 'bool', help: 'the interactive cut-over command must name the table' },
      { name: 'force-named-panic', kind: 'bool', help: 'the interactive panic command must name the table' },
      {
        name: 'postpone-cut-over-flag-file',
        kind: 'string',
        help: 'while this file exists, the cut-over waits and the new table is kept in sync',
      },
      {
        name: 'postpone-cut-over',
        kind: 'bool',
        help: 'revenant: wait for the operator (revenant cut-over, or unpostpone) before cutting over',
      },
      {
        name: 'analyze-ghost-table-before-cutover',
        kind: 'bool',
        help: 'ANALYZE TABLE the new table just before the cut-over',
      },
      {
        name: 'checksum',
        kind: 'bool',
        help: 'revenant: compare the new table with the original row for row before the cut-over (default on; --checksum=false skips)',
      },
      {
        name: 'revert-window',
        kind: 'string',
        help: 'revenant: after the cut-over, keep the old table in sync for this long (90s, 30m, 24h, 7d) so that revert swaps back',
      },
      {
        name: 'cut-over-window',
        kind: 'list',
        help: 'revenant (repeatable): cut over only inside this window, e.g. "Mon-Fri 02:00-04:00 Europe/Berlin"; ready outside it, the migration waits postponed, applying the binlog (revenant cut-over overrides)',
      },
      {
        name: 'force-cut-over-kill-large',
        kind: 'bool',
        help: 'revenant: with --force-cut-over-after, kill blockers however many rows they modified',
      },
      {
        name: 'start-at',
        kind: 'string',
        help: 'revenant: inspect now, begin the copy at this time: an ISO 8601 instant (2026-12-24T02:00:00Z), HH:MM (its next occurrence, local time) or a delay (90s, 30m, 24h)',
      },
    ],
  },
  {
    group: 'Copy and apply',
    flags: [
      {
        name: 'defer-secondary-indexes',
        kind: 'bool',
        help: 'revenant: build the non-unique indexes after the copy (default when no replica reads the binlog)',
      },
      {
        name: 'default-retries',
        kind: 'int',
        help: 'tries of a statement that keeps failing the same way before the migration stops (default 60)',
      },
      {
        name: 'heartbeat-interval-millis',
        kind: 'int',
        help: "how often the master's heartbeat is written, for replica lag (default 100)",
      },
      {
        name: 'checkpoint-seconds',
        kind: 'int',
        help: 'seconds between checkpoints: revenant checkpoints with every chunk and every applied batch',
      },
      { name: 'copy-start-delay-millis', kind: 'int', help: 'revenant: wait this long before the first chunk' },
    ],
  },
  {
    group: 'Throttling',
    flags: [
      { name: 'throttle-control-replicas', kind: 'string', help: 'more replicas whose lag throttles, host[:port],…' },
      { name: 'throttle-http-interval-millis', kind: 'int', help: 'milliseconds between HTTP checks (default 100)' },
      { name: 'throttle-http-timeout-millis', kind: 'int', help: 'milliseconds an HTTP check may take (default 1000)' },
      { name: 'ignore-http-errors', kind: 'bool', help: 'an HTTP check that fails to connect does not throttle' },
      {
        name: 'critical-load-interval-millis',
        kind: 'int',
        help: 'confirm a critical load after this long before acting on it (0: at once)',
      },
      {
        name: 'critical-load-hibernate-seconds',
        kind: 'int',
        help: 'on a critical load, hibernate this long instead of stopping, then go on',
      },
      { name: 'throttle-flag-file', kind: 'string', help: 'copy and apply hold while this file exists' },
      {
        name: 'throttle-additional-flag-file',
        kind: 'string',
        help: 'a second throttle file (for several migrations at once)',
      },
      { name: 'panic-flag-file', kind: 'string', help: 'stop at once, tables kept, when this file appears' },
    ],
  },
  {
    group: 'Interactive control',
    flags: [
      {
        name: 'serve-socket-file',
        kind: 'string',
        help: "serve gh-ost's interactive commands on this Unix socket while the command runs",
      },
      {
        name: 'serve-tcp-port',
        kind: 'int',
        help: 'serve them on this TCP port (on 127.0.0.1: they are unauthenticated)',
      },
      {
        name: 'serve-tcp-host',
        kind: 'string',
        help: 'the address --serve-tcp-port listens on (default 127.0.0.1; 0.0.0.0 for every interface)',
      },
      {
        name: 'initially-drop-socket-file',
        kind: 'bool',
        help: 'replace an existing socket file, even one a migration answers on',
      },
    ],
  },
  {
    group: 'Hooks',
    flags: [
      {
        name: 'hooks-path',
        kind: 'string',
        help: 'directory of gh-ost hook executables (gh-ost-on-startup, gh-ost-on-success, …)',
      },
      { name: 'hooks-hint', kind: 'string', help: 'text passed to hooks as GH_OST_HOOKS_HINT' },
      { name: 'hooks-hint-owner', kind: 'string', help: 'text passed to hooks as GH_OST_HOOKS_HINT_OWNER' },
      { name: 'hooks-hint-token', kind: 'string', help: 'text passed to hooks as GH_OST_HOOKS_HINT_TOKEN' },
    ],
  },
  {
    group: 'Resume, checkpoint and revert',
    flags: [
      { name: 'resurrect', kind: 'bool', help: 'continue a failed or terminated migration from its checkpoint' },
      { name: 'resume', kind: 'bool', help: "gh-ost's name for --resurrect" },
      { name: 'checkpoint', kind: 'bool', help: 'after the cut-over, keep the checkpoint (_<table>_ghk) for --revert' },
      {
        name: 'revert',
        kind: 'bool',
        help: 'swap back a finished migration (needs --old-table), applying what changed since',
      },
      { name: 'old-table', kind: 'string', help: 'the old table to revert to, e.g. _<table>_del' },
    ],
  },
  {
    group: 'Fleets: one ALTER on many servers and databases',
    flags: [
      {
        name: 'fleet',
        kind: 'string',
        help: 'revenant: a fleet file (JSON or YAML): {"targets": [{"host": "db1", "port": 3306, "databases": "shard_%"}]}; --table in each database it names',
      },
      {
        name: 'alter-table',
        kind: 'list',
        help: 'revenant (repeatable): T="ALTER": several tables of --database migrated as one workflow and cut over together in one RENAME (instead of --table and --alter)',
      },
      {
        name: 'fleet-name',
        kind: 'string',
        help: "revenant: the fleet's name (default: the file's name); status, pause, set, cut-over and abort take --fleet NAME",
      },
      { name: 'max-concurrent', kind: 'int', help: 'revenant: targets copying at once, overall (default 4)' },
      {
        name: 'max-per-server',
        kind: 'int',
        help: 'revenant: targets copying at once on any one server (default: --max-concurrent)',
      },
      {
        name: 'canary',
        kind: 'int',
        help: 'revenant: the first N targets complete, cut-over included, before any other starts (default 0)',
      },
      {
        name: 'on-failure',
        kind: 'string',
        help: 'revenant: stop (default: nothing new starts; running targets finish) or continue',
      },
    ],
  },
  {
    group: 'Temporal and output',
    flags: [
      {
        name: 'detach',
        kind: 'bool',
        help: 'revenant: start the migration and return; follow it with revenant status',
      },
      { name: 'task-queue', kind: 'string', help: 'revenant: the Temporal task queue of the workers to run it' },
      { name: 'namespace', kind: 'string', help: 'revenant: the Temporal namespace' },
      {
        name: 'no-search-attributes',
        kind: 'bool',
        help: "revenant: do not set revenant's search attributes (a server without them registered)",
      },
      { name: 'cleanup', kind: 'bool', help: 'revenant: with abort, drop the ghost table and changelog' },
      { name: 'quiet', kind: 'bool', help: 'print the outcome only' },
      { name: 'verbose', kind: 'bool', help: 'the embedded worker logs at INFO' },
      { name: 'debug', kind: 'bool', help: 'the embedded worker logs at DEBUG' },
      { name: 'check-flag', kind: 'bool', help: 'say whether every flag given is supported, and exit' },
      { name: 'version', kind: 'bool', help: 'print the version and exit' },
      { name: 'help', kind: 'bool', help: 'print every flag with its meaning (this text)' },
    ],
  },
];

/** Flags gh-ost does not have. */
export const isOurs = (f: FlagSpec) => f.help.startsWith('revenant');

/** A group's settable flags, from the settings' own table (model/settings.ts). */
function settableFlags(group: string): FlagSpec[] {
  return SETTING_TABLE.filter((row) => row.group === group).map((row) => ({
    name: row.flag,
    // A duration is written with its unit (5s, 2m).
    kind: row.kind === 'integer' ? 'int' : row.kind === 'number' ? 'float' : 'string',
    help: row.help,
    settable: true,
  }));
}

/** Every flag, each group's settable ones first. */
export const FLAG_TABLE: { group: string; flags: FlagSpec[] }[] = DECLARED.map(({ group, flags }) => ({
  group,
  flags: [...settableFlags(group), ...flags],
}));
