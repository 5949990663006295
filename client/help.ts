// `revenant migrate --help`: every flag with its meaning, grouped in the order gh-ost's own
// main.go declares them (connection, what to migrate, topology, tables and cut-over, copy,
// throttling, interactive control, hooks, checkpoints, load), revenant's own flags marked, and
// the gh-ost flags revenant refuses, each with its reason. test/flags.test.ts checks that no
// flag is missing here.
import { FLAG_KINDS, REFUSED_FLAGS } from './flags';

/** [flag, meaning]; a meaning starting with "revenant:" is a flag gh-ost does not have. */
export const FLAG_GROUPS: [string, [string, string][]][] = [
  [
    'Connection',
    [
      ['host', 'MySQL or MariaDB server to connect to, preferably a replica (default 127.0.0.1)'],
      ['port', 'its port (default 3306)'],
      ['user', 'MySQL user'],
      ['password', 'MySQL password (it stays with the worker: it never enters the workflow)'],
      ['ask-pass', 'prompt for the password'],
      ['master-user', 'the user on the master, when not --user; requires --assume-master-host'],
      [
        'master-password',
        'the password on the master, when not --password; requires --assume-master-host, and goes to that server only',
      ],
      ['conf', 'a gh-ost config file: [client] user and password, [osc] chunk_size, max_load, max_lag_millis'],
      ['mysql-timeout', 'seconds to connect, and for each statement to be answered (default 0: no limit)'],
      [
        'ssl',
        "TLS to every server the migration connects to; the server is verified against the system's CAs unless --ssl-ca",
      ],
      ['ssl-ca', "CA certificate (PEM) the servers' certificates must be signed by; requires --ssl"],
      ['ssl-cert', 'client certificate (PEM); requires --ssl and --ssl-key'],
      ['ssl-key', "client certificate's key (PEM); requires --ssl and --ssl-cert"],
      ['ssl-allow-insecure', "do not verify the servers' certificates or their host names; requires --ssl"],
      [
        'skip-port-validation',
        'do not check that the server answers on the port it says it has (proxies, forwarded ports)',
      ],
      [
        'mysql-connection',
        "revenant: a connection named in the worker's REVENANT_CONFIG (its address, user, password and TLS are the worker's)",
      ],
    ],
  ],
  [
    'What to migrate',
    [
      ['database', 'database name (required)'],
      ['table', 'table name (required)'],
      ['alter', 'the ALTER TABLE clauses, e.g. "ADD COLUMN c INT NOT NULL DEFAULT 0" (required)'],
      ['execute', 'migrate for real; without it, a dry run: the ghost table is created, altered and dropped'],
      ['attempt-instant-ddl', 'first try ALTER … ALGORITHM=INSTANT; the copy runs only if the server refuses it'],
      ['storage-engine', 'innodb (the only engine revenant migrates)'],
      [
        'exact-rowcount',
        "count the table's rows (SELECT COUNT(*)) for the progress estimate, instead of the statistics' estimate",
      ],
      [
        'concurrent-rowcount',
        'with --exact-rowcount: count while the copy runs (default true); false counts before it starts',
      ],
      ['allow-on-master', 'read and write the master itself (the server given is a master)'],
      [
        'allow-nullable-unique-key',
        "allow a unique key over nullable columns as the copy's key (NULLs in it would be lost)",
      ],
      ['approve-renamed-columns', 'the ALTER renames columns: copy their data under the new names'],
      ['discard-foreign-keys', 'DANGER: migrate a table with foreign keys, creating the new table without them'],
      [
        'skip-foreign-key-checks',
        'you know no other table references this one: information_schema is not searched for such keys',
      ],
      ['allow-zero-in-date', 'create and fill the new table without NO_ZERO_DATE and NO_ZERO_IN_DATE'],
      ['aliyun-rds', 'the server is Aliyun RDS (no port check)'],
      ['gcp', 'the server is Google Cloud SQL (no port check)'],
      ['azure', 'the server is Azure Database for MySQL (no port check)'],
      ['gtid', 'resume by GTID: revenant does wherever the server has GTIDs'],
      ['include-triggers', "create the table's triggers on the new table"],
      ['trigger-suffix', "suffix of the new table's trigger names (e.g. _v2); requires --include-triggers"],
      [
        'remove-trigger-suffix-if-exists',
        'a trigger whose name ends in the suffix gets it removed instead; requires --trigger-suffix',
      ],
      [
        'allow-data-loss',
        'revenant: accept an ALTER that drops, truncates or converts values (without it the migration stops before the cut-over)',
      ],
      ['panic-on-warnings', 'stop when a copied chunk raises a warning (a value changed on its way)'],
    ],
  ],
  [
    'Topology',
    [
      ['assume-master-host', "the master to write to, host[:port], instead of the replica's own"],
      ['migrate-on-replica', "migrate the replica's table, cut-over included; the master is not touched"],
      [
        'test-on-replica',
        'migrate on the replica, then stop replication, swap the tables and swap them back, for comparison',
      ],
      [
        'test-on-replica-skip-replica-stop',
        'with --test-on-replica: do not stop replication (your own tooling does); requires --test-on-replica',
      ],
      ['switch-to-rbr', 'switch the replica to binlog_format=ROW if it is not (restarts its replication)'],
      ['assume-rbr', 'do not check binlog_format: you know the server logs ROW'],
      [
        'allow-setup-metadata-lock-instruments',
        "enable performance_schema's metadata lock instrument for the cut-over's lock check",
      ],
    ],
  ],
  [
    'Tables and cut-over',
    [
      ['ok-to-drop-table', 'drop the old table (_<table>_del) after the cut-over'],
      ['initially-drop-old-table', 'drop an old table left by an earlier migration before starting'],
      ['initially-drop-ghost-table', 'drop a ghost table left by an earlier migration before starting'],
      ['timestamp-old-table', "a timestamp in the old table's name, so that migrations do not collide"],
      ['force-table-names', "the base of the ghost, changelog and old table names, instead of the table's"],
      [
        'cut-over',
        'atomic (or default): the only cut-over revenant has; with --fleet, together: every target copies and holds, and all cut over at once',
      ],
      [
        'cut-over-lock-timeout-seconds',
        'seconds the cut-over may hold or wait for its locks before it gives up and tries again (default 3)',
      ],
      ['cut-over-exponential-backoff', 'wait longer between failed cut-over attempts each time: revenant always does'],
      ['force-named-cut-over', 'the interactive cut-over command must name the table'],
      ['force-named-panic', 'the interactive panic command must name the table'],
      ['postpone-cut-over-flag-file', 'while this file exists, the cut-over waits and the new table is kept in sync'],
      ['postpone-cut-over', 'revenant: wait for the operator (revenant cut-over, or unpostpone) before cutting over'],
      ['analyze-ghost-table-before-cutover', 'ANALYZE TABLE the new table just before the cut-over'],
      [
        'checksum',
        'revenant: compare the new table with the original row for row before the cut-over (default on; --checksum=false skips)',
      ],
      [
        'revert-window',
        'revenant: after the cut-over, keep the old table in sync for this long (90s, 30m, 24h, 7d) so that revert swaps back',
      ],
      [
        'cut-over-window',
        'revenant (repeatable): cut over only inside this window, e.g. "Mon-Fri 02:00-04:00 Europe/Berlin"; ready outside it, the migration waits postponed, applying the binlog (revenant cut-over overrides)',
      ],
      [
        'force-cut-over-after',
        'revenant: once the cut-over has failed to lock the table this long (5s, 2m), kill the sessions that hold it (KILL for an open transaction, KILL QUERY otherwise), sparing a transaction that modified over a million rows; off by default',
      ],
      [
        'force-cut-over-kill-large',
        'revenant: with --force-cut-over-after, kill blockers however many rows they modified',
      ],
      [
        'start-at',
        'revenant: inspect now, begin the copy at this time: an ISO 8601 instant (2026-12-24T02:00:00Z), HH:MM (its next occurrence, local time) or a delay (90s, 30m, 24h)',
      ],
    ],
  ],
  [
    'Copy and apply',
    [
      [
        'chunk-size',
        'rows per copied chunk, 10 to 100,000 (given alone: every chunk has this many; default 1000, adapted)',
      ],
      [
        'chunk-target-millis',
        'revenant: chunks adapt to take about this long (default when --chunk-size is not given)',
      ],
      ['copy-threads', 'revenant: copiers working at once, each on its own chunk'],
      [
        'defer-secondary-indexes',
        'revenant: build the non-unique indexes after the copy (default when no replica reads the binlog)',
      ],
      ['dml-batch-size', 'binlog events applied per transaction, 1 to 100 (default 10)'],
      [
        'default-retries',
        'tries of a statement that keeps failing the same way before the migration stops (default 60)',
      ],
      ['nice-ratio', 'after each chunk, rest this many times as long as it took (0: no rest)'],
      ['heartbeat-interval-millis', "how often the master's heartbeat is written, for replica lag (default 100)"],
      [
        'checkpoint-seconds',
        'seconds between checkpoints: revenant checkpoints with every chunk and every applied batch',
      ],
      ['copy-start-delay-millis', 'revenant: wait this long before the first chunk'],
    ],
  ],
  [
    'Throttling',
    [
      ['max-lag-millis', 'replica lag at which copy and apply hold (default 1500)'],
      ['throttle-control-replicas', 'more replicas whose lag throttles, host[:port],…'],
      ['throttle-query', 'a query run every second on the server: a result above 0 throttles'],
      ['throttle-http', 'a URL checked with HEAD: any answer but 200 throttles'],
      ['throttle-http-interval-millis', 'milliseconds between HTTP checks (default 100)'],
      ['throttle-http-timeout-millis', 'milliseconds an HTTP check may take (default 1000)'],
      ['ignore-http-errors', 'an HTTP check that fails to connect does not throttle'],
      ['max-load', 'status=threshold,…: throttle while one is exceeded, e.g. Threads_running=50'],
      ['critical-load', 'status=threshold,…: stop the migration when one is exceeded'],
      ['critical-load-interval-millis', 'confirm a critical load after this long before acting on it (0: at once)'],
      ['critical-load-hibernate-seconds', 'on a critical load, hibernate this long instead of stopping, then go on'],
      ['throttle-flag-file', 'copy and apply hold while this file exists'],
      ['throttle-additional-flag-file', 'a second throttle file (for several migrations at once)'],
      ['panic-flag-file', 'stop at once, tables kept, when this file appears'],
    ],
  ],
  [
    'Interactive control',
    [
      ['serve-socket-file', "serve gh-ost's interactive commands on this Unix socket while the command runs"],
      ['serve-tcp-port', 'serve them on this TCP port (on 127.0.0.1: they are unauthenticated)'],
      ['serve-tcp-host', 'the address --serve-tcp-port listens on (default 127.0.0.1; 0.0.0.0 for every interface)'],
      ['initially-drop-socket-file', 'replace an existing socket file, even one a migration answers on'],
    ],
  ],
  [
    'Hooks',
    [
      ['hooks-path', 'directory of gh-ost hook executables (gh-ost-on-startup, gh-ost-on-success, …)'],
      ['hooks-hint', 'text passed to hooks as GH_OST_HOOKS_HINT'],
      ['hooks-hint-owner', 'text passed to hooks as GH_OST_HOOKS_HINT_OWNER'],
      ['hooks-hint-token', 'text passed to hooks as GH_OST_HOOKS_HINT_TOKEN'],
    ],
  ],
  [
    'Resume, checkpoint and revert',
    [
      ['resurrect', 'continue a failed or terminated migration from its checkpoint'],
      ['resume', "gh-ost's name for --resurrect"],
      ['checkpoint', 'after the cut-over, keep the checkpoint (_<table>_ghk) for --revert'],
      ['revert', 'swap back a finished migration (needs --old-table), applying what changed since'],
      ['old-table', 'the old table to revert to, e.g. _<table>_del'],
    ],
  ],
  [
    'Fleets: one ALTER on many servers and databases',
    [
      [
        'fleet',
        'revenant: a fleet file (JSON or YAML): {"targets": [{"host": "db1", "port": 3306, "databases": "shard_%"}]}; --table in each database it names',
      ],
      [
        'fleet-name',
        "revenant: the fleet's name (default: the file's name); status, pause, set, cut-over and abort take --fleet NAME",
      ],
      ['max-concurrent', 'revenant: targets copying at once, overall (default 4)'],
      ['max-per-server', 'revenant: targets copying at once on any one server (default: --max-concurrent)'],
      ['canary', 'revenant: the first N targets complete, cut-over included, before any other starts (default 0)'],
      ['on-failure', 'revenant: stop (default: nothing new starts; running targets finish) or continue'],
    ],
  ],
  [
    'Temporal and output',
    [
      ['detach', 'revenant: start the migration and return; follow it with revenant status'],
      ['task-queue', 'revenant: the Temporal task queue of the workers to run it'],
      ['namespace', 'revenant: the Temporal namespace'],
      ['no-search-attributes', "revenant: do not set revenant's search attributes (a server without them registered)"],
      ['cleanup', 'revenant: with abort, drop the ghost table and changelog'],
      ['quiet', 'print the outcome only'],
      ['verbose', 'the embedded worker logs at INFO'],
      ['debug', 'the embedded worker logs at DEBUG'],
      ['check-flag', 'say whether every flag given is supported, and exit'],
      ['version', 'print the version and exit'],
      ['help', 'print every flag with its meaning (this text)'],
    ],
  ],
];

export function migrateHelp(): string {
  const lines = [
    'usage: revenant migrate --host H --port P --user U --database D --table T --alter "…" [--execute] [flags…]',
    '',
    "gh-ost's flags, with gh-ost's names and meanings; those marked \"revenant:\" are revenant's own.",
  ];
  for (const [group, flags] of FLAG_GROUPS) {
    lines.push('', `${group}:`);
    for (const [flag, meaning] of flags) {
      const kind = FLAG_KINDS[flag];
      lines.push(
        `  --${flag}${kind === 'bool' ? '' : kind === 'list' ? ' string (repeatable)' : ` ${kind}`}`,
        `      ${meaning}`,
      );
    }
  }
  lines.push('', 'gh-ost flags revenant refuses, and why:');
  for (const [flag, r] of Object.entries(REFUSED_FLAGS)) lines.push(`  --${flag}`, `      ${r.why}`);
  return lines.join('\n');
}
