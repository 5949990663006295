// Every difference between the servers revenant migrates on, in one place (gh-ost keeps its
// in go/mysql): MariaDB 10.6+ and Oracle MySQL 8.0, 8.4 and 9.x. The flavor is detected once
// per connection from @@version and @@version_comment, MariaDB first: "10.11" would compare as
// newer than "8.4", and a MariaDB's @@version may carry a "5.5.5-" prefix.
//
// Tested here on MariaDB 10.11 and MySQL 9.7. MySQL 8.0 and 8.4 are coded from the manual:
//   SHOW MASTER STATUS            → SHOW BINARY LOG STATUS (8.2+; the old form is gone in 8.4)
//   SHOW SLAVE STATUS, START/STOP SLAVE, Master_Host, Slave_SQL_Running
//                                 → SHOW REPLICA STATUS, START/STOP REPLICA, Source_Host,
//                                   Replica_SQL_Running (8.0.22+; the old forms gone in 8.4)
//   @@log_slave_updates           → @@log_replica_updates (8.0.26+)
//   information_schema.TABLES     → cached statistics unless information_schema_stats_expiry=0 (8.0+)
//   GTIDs                         MariaDB: domain-server-sequence positions (@@gtid_binlog_pos,
//                                 BINLOG_GTID_POS); MySQL: uuid:interval sets (@@gtid_mode,
//                                 @@gtid_executed, @@gtid_purged, Executed_Gtid_Set, GTID_SUBSET)
import { rows, type Conn } from './query';
import { qualified, type Statement } from './statements';

export type ServerKind = 'mariadb' | 'mysql';

export interface Flavor {
  kind: ServerKind;
  major: number;
  minor: number;
  patch: number;
  /** "MySQL 9.7.0", "MariaDB 10.11.6": how errors and the status name the server. */
  name: string;
}

/** The flavor of a server from its @@version and @@version_comment. */
export function detectFlavor(version: string, comment = ''): Flavor {
  const mariadb = /mariadb/i.test(version) || /mariadb/i.test(comment);
  // MariaDB before 11 may report "5.5.5-10.11.6-MariaDB" to old clients.
  const numbers = mariadb ? version.replace(/^5\.5\.5-/, '') : version;
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(numbers) ?? /^(\d+)\.(\d+)/.exec(numbers);
  const [major, minor, patch] = m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [0, 0, 0];
  const kind: ServerKind = mariadb ? 'mariadb' : 'mysql';
  return { kind, major, minor, patch, name: `${mariadb ? 'MariaDB' : 'MySQL'} ${major}.${minor}.${patch}` };
}

/** Whether the server is at least major.minor.patch of its own line. */
export function atLeast(f: Flavor, major: number, minor = 0, patch = 0): boolean {
  if (f.major !== major) return f.major > major;
  if (f.minor !== minor) return f.minor > minor;
  return f.patch >= patch;
}

export const isMysql = (f: Flavor) => f.kind === 'mysql';
/** MySQL's REPLICA / SOURCE vocabulary (8.0.22+), which 8.4 makes the only one. MariaDB keeps SLAVE/MASTER. */
const replicaWords = (f: Flavor) => isMysql(f) && atLeast(f, 8, 0, 22);

export const versionQuery = (): Statement => ({
  sql: 'SELECT @@version AS version, @@version_comment AS comment, @@session.sql_mode AS sql_mode',
  params: [],
});

/**
 * Modes under which a value revenant sends could mean something else than it says.
 * NO_BACKSLASH_ESCAPES: mysql2 escapes values with backslashes, so under it a value holding
 * \' would end its string literal early and the rest be read as SQL.
 */
const UNSAFE_SQL_MODES = ['NO_BACKSLASH_ESCAPES'];

/**
 * The session's sql_mode without the unsafe modes, or null when it has none of them. Built
 * from the mode's own names (letters and underscores only, checked), never from a value.
 */
export function safeSqlMode(mode: string): Statement | null {
  const modes = mode
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (!modes.some((m) => UNSAFE_SQL_MODES.includes(m.toUpperCase()))) return null;
  const kept = modes.filter((m) => !UNSAFE_SQL_MODES.includes(m.toUpperCase()));
  if (!kept.every((m) => /^[A-Z_]+$/i.test(m))) throw new Error(`unexpected sql_mode ${JSON.stringify(mode)}`);
  return { sql: `SET SESSION sql_mode = '${kept.join(',')}'`, params: [] };
}

/**
 * Session settings every revenant connection needs on this server. MySQL 8.0+ answers
 * information_schema.TABLES (AUTO_INCREMENT, TABLE_ROWS) from a cache up to a day old
 * unless told otherwise: a stale AUTO_INCREMENT carried to the ghost would hand out ids again.
 */
export function sessionSetup(f: Flavor): Statement | null {
  if (isMysql(f) && atLeast(f, 8)) return { sql: 'SET SESSION information_schema_stats_expiry = 0', params: [] };
  return null;
}

// ---- Binlog position and GTIDs ----------------------------------------------------------

/** The binlog's current file and offset (and, on MySQL, Executed_Gtid_Set). */
export const binlogStatus = (f: Flavor): Statement => ({
  sql: isMysql(f) && atLeast(f, 8, 2) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS',
  params: [],
});

/** Variables that say whether and how the server numbers its transactions. */
export const gtidVariables = (f: Flavor): Statement =>
  isMysql(f)
    ? {
        sql: 'SELECT @@global.gtid_mode AS mode, @@global.server_uuid AS uuid, @@global.gtid_executed AS executed, @@global.gtid_purged AS purged',
        params: [],
      }
    : {
        sql: "SELECT 'ON' AS mode, @@global.server_id AS uuid, @@global.gtid_binlog_pos AS executed, '' AS purged",
        params: [],
      };

/**
 * MySQL GTID modes a checkpoint can be trusted with. ON: every transaction has a GTID, and a
 * resume from a GTID set is exact. OFF: none has one; file and offset it is. The transitional
 * modes mix both: a stream started from a GTID set would skip anonymous transactions.
 */
export function gtidModeProblem(f: Flavor, mode: string): string | null {
  if (!isMysql(f)) return null;
  const m = mode.toUpperCase();
  if (m === 'ON' || m === 'OFF') return null;
  return (
    `gtid_mode is ${mode}: in a transitional GTID mode some transactions have GTIDs and some do not, ` +
    `and a migration's checkpoint cannot be trusted across both; finish the change (SET GLOBAL gtid_mode = ON, ` +
    `step by step as MySQL's manual describes) or go back to OFF before migrating`
  );
}

/** Whether checkpoints on this server carry a GTID position to resume from. */
export function usesGtids(f: Flavor, mode: string): boolean {
  return f.kind === 'mariadb' || mode.toUpperCase() === 'ON';
}

/**
 * Where a migration's stream starts: the GTID state at exactly the binlog's current offset.
 * MySQL reports both in one row of SHOW BINARY LOG STATUS (Executed_Gtid_Set); MariaDB
 * maps the offset to a GTID position with BINLOG_GTID_POS, which reads the binlog file up to
 * it: once per migration, not for polling.
 */
export async function gtidAt(conn: Conn, f: Flavor, status: Record<string, unknown>): Promise<string> {
  if (isMysql(f)) return String(status.Executed_Gtid_Set ?? '').replace(/\s+/g, '');
  const r = await rows(conn, {
    sql: 'SELECT BINLOG_GTID_POS(?, ?) AS gtid',
    params: [status.File, Number(status.Position)],
  }).catch(() => []);
  return String(r[0]?.gtid ?? '');
}

/**
 * Why the binlog after a GTID checkpoint cannot be streamed from this server, or null when it
 * can. MySQL: everything after the checkpoint is there if every purged GTID is in it
 * (GTID_SUBSET(@@gtid_purged, checkpoint)), and the server has not gone back in time if the
 * checkpoint is in what it executed (GTID_SUBSET(checkpoint, @@gtid_executed)). MariaDB: the
 * oldest binlog file's Gtid_list (the GTIDs before it) is no further than the checkpoint in
 * any replication domain.
 */
export async function gtidCheckpointProblem(
  conn: Conn,
  f: Flavor,
  checkpoint: string,
  oldestFile: string,
): Promise<string | null> {
  if (isMysql(f)) {
    const [r] = await rows(conn, {
      sql: 'SELECT GTID_SUBSET(@@global.gtid_purged, ?) AS kept, GTID_SUBSET(?, @@global.gtid_executed) AS known, @@global.gtid_purged AS purged',
      params: [checkpoint, checkpoint],
    });
    if (Number(r.kept) !== 1)
      return `GTIDs the migration has not read were purged (gtid_purged ${String(r.purged).replace(/\s+/g, '')} is not within the checkpoint)`;
    if (Number(r.known) !== 1)
      return 'the checkpoint holds GTIDs this server never executed: it is not the server (or a replica of the server) the migration ran on, or it went back in time';
    return null;
  }
  const head = await rows(conn, { sql: 'SHOW BINLOG EVENTS IN ? LIMIT 5', params: [oldestFile] });
  const list = head.find((e) => e.Event_type === 'Gtid_list');
  const before = parseMariadbGtidPos(list ? String(list.Info).replace(/^\[|\]$/g, '') : '');
  const at = parseMariadbGtidPos(checkpoint);
  for (const [domain, seq] of before) {
    const mine = at.get(domain);
    if (mine === undefined || mine < seq) return `oldest binlog ${oldestFile} begins after GTID ${domain}-…-${seq}`;
  }
  return null;
}

/** MariaDB GTID position "d-s-n,d-s-n" as domain -> sequence. */
export function parseMariadbGtidPos(pos: string): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const part of pos
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(part);
    if (m) out.set(Number(m[1]), BigInt(m[3]));
  }
  return out;
}

// ---- Replication ------------------------------------------------------------------------

export const replicaStatusQuery = (f: Flavor): Statement => ({
  sql: replicaWords(f) ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS',
  params: [],
});
export const stopReplica = (f: Flavor, sqlThreadOnly = false): Statement => ({
  sql: `${replicaWords(f) ? 'STOP REPLICA' : 'STOP SLAVE'}${sqlThreadOnly ? ' SQL_THREAD' : ''}`,
  params: [],
});
export const startReplica = (f: Flavor, sqlThreadOnly = false): Statement => ({
  sql: `${replicaWords(f) ? 'START REPLICA' : 'START SLAVE'}${sqlThreadOnly ? ' SQL_THREAD' : ''}`,
  params: [],
});
/** The statement a user runs to start replication again, for messages. */
export const startReplicaWords = (f: Flavor) => startReplica(f).sql;

/** A replica's source and threads, whichever vocabulary the server answers in. */
export interface ReplicaStatus {
  sourceHost: string;
  sourcePort: number;
  ioRunning: boolean;
  sqlRunning: boolean;
}

export async function replicaStatus(conn: Conn, f: Flavor): Promise<ReplicaStatus | null> {
  const [r] = await rows(conn, replicaStatusQuery(f));
  if (!r) return null;
  const pick = (...names: string[]) => names.map((n) => r[n]).find((v) => v !== undefined);
  return {
    sourceHost: String(pick('Source_Host', 'Master_Host') ?? ''),
    sourcePort: Number(pick('Source_Port', 'Master_Port') ?? 3306),
    ioRunning: String(pick('Replica_IO_Running', 'Slave_IO_Running')) === 'Yes',
    sqlRunning: String(pick('Replica_SQL_Running', 'Slave_SQL_Running')) === 'Yes',
  };
}

/** Whether the server writes what it replicates into its own binlog (revenant reads it there). */
export const replicaLogsUpdates = (f: Flavor): Statement => ({
  sql: `SELECT @@global.${isMysql(f) && atLeast(f, 8, 0, 26) ? 'log_replica_updates' : 'log_slave_updates'} AS on_, @@global.read_only AS read_only`,
  params: [],
});
export const replicaLogsUpdatesFlag = (f: Flavor) =>
  isMysql(f) && atLeast(f, 8, 0, 26) ? '--log-replica-updates' : '--log-slave-updates';

// ---- Server settings revenant cannot work with --------------------------------------------

/**
 * MySQL-only binlog settings that hide row changes from a binlog reader, each with the
 * statement that fixes it. binlog_transaction_compression (8.0.20+) wraps transactions in a
 * Transaction_payload event the reader cannot unpack; binlog_row_value_options=PARTIAL_JSON
 * (8.0.3+) logs JSON updates as diffs, not whole values. MariaDB has neither variable. And
 * the metadata lock instrument the cut-over needs (renameQueuedOnTable).
 */
export async function binlogSettingProblems(conn: Conn, f: Flavor): Promise<string[]> {
  if (!isMysql(f)) return [];
  const [v] = await rows(conn, {
    sql: 'SELECT @@global.binlog_transaction_compression AS compression, @@global.binlog_row_value_options AS value_options',
    params: [],
  }).catch(() => [{} as Record<string, unknown>]);
  const out: string[] = [];
  const compression = String(v?.compression ?? '');
  if (compression === '1' || compression.toUpperCase() === 'ON') {
    out.push(
      'binlog_transaction_compression is ON: revenant cannot read compressed binlog transactions; SET GLOBAL binlog_transaction_compression = OFF (and SET SESSION for running sessions) before migrating',
    );
  }
  if (/PARTIAL_JSON/i.test(String(v?.value_options ?? ''))) {
    out.push(
      "binlog_row_value_options is PARTIAL_JSON: JSON updates reach the binlog as diffs, not whole values, and revenant needs whole rows; SET GLOBAL binlog_row_value_options = ''",
    );
  }
  // The cut-over reads the RENAME's metadata lock here before it unlocks (renameQueuedOnTable).
  const [ps] = await rows(conn, {
    sql: `SELECT @@global.performance_schema AS on_, (SELECT ENABLED FROM performance_schema.setup_instruments WHERE NAME = 'wait/lock/metadata/sql/mdl') AS mdl`,
    params: [],
  }).catch(() => [{ on_: 0, mdl: null } as Record<string, unknown>]);
  if (Number(ps.on_) !== 1 || ps.mdl !== 'YES') {
    out.push(
      'performance_schema or its metadata lock instrument is off (or this user cannot read performance_schema: GRANT SELECT ON performance_schema.* TO …): the cut-over reads performance_schema.metadata_locks to be sure no write ' +
        "slips in between its unlock and its RENAME; start the server with performance_schema=ON and UPDATE performance_schema.setup_instruments SET ENABLED = 'YES' " +
        "WHERE NAME = 'wait/lock/metadata/sql/mdl' (both the defaults of MySQL 8.0 and later)",
    );
  }
  return out;
}

/** The ports a server answers on besides @@port: MariaDB's extra_port (MySQL has none). */
export const otherPorts = (f: Flavor): Statement | undefined =>
  f.kind === 'mariadb' ? { sql: 'SELECT @@global.extra_port AS port', params: [] } : undefined;

/**
 * gh-ost's --allow-setup-metadata-lock-instruments: MySQL's cut-over reads metadata_locks
 * (renameQueuedOnTable); MariaDB's probes with LOCK TABLES and needs no instrument.
 */
export const enableMetadataLockInstrument = (f: Flavor): Statement | undefined =>
  f.kind === 'mysql'
    ? {
        sql: "UPDATE performance_schema.setup_instruments SET ENABLED = 'YES', TIMED = 'YES' WHERE NAME = 'wait/lock/metadata/sql/mdl'",
        params: [],
      }
    : undefined;

/**
 * The row writes since the server started that tell how busy the table is: MySQL counts each
 * table's (performance_schema's table I/O summary: an insert, update or delete a row).
 * MariaDB's performance_schema is off by default, its per-table statistics need userstat and
 * 10.11 no longer counts InnoDB's rows, so there the server's row writes by its storage
 * engines (the Handler_ counters, internal temporary tables apart) stand for the table's:
 * more than the table's own, never fewer, and what the applier competes with all the same.
 */
export const rowWrites = (f: Flavor, database: string, table: string): Statement =>
  isMysql(f)
    ? {
        sql: `SELECT COALESCE(SUM(COUNT_INSERT + COUNT_UPDATE + COUNT_DELETE), 0) AS n
                FROM performance_schema.table_io_waits_summary_by_table
               WHERE OBJECT_TYPE = 'TABLE' AND OBJECT_SCHEMA = ? AND OBJECT_NAME = ?`,
        params: [database, table],
      }
    : {
        sql: `SELECT COALESCE(SUM(VARIABLE_VALUE), 0) AS n FROM information_schema.GLOBAL_STATUS
               WHERE VARIABLE_NAME IN ('HANDLER_WRITE', 'HANDLER_UPDATE', 'HANDLER_DELETE')`,
        params: [],
      };

/**
 * Whether an online ADD INDEX stalls a busy table's writers at its end. MySQL's holds them for
 * a moment that grows with their rate (the ghost's applier stalled 176, 508 and 1,025 ms at
 * 735, 3,000 and 5,150 rows a second), so a busy table's ghost keeps its indexes through the
 * copy (table/indexes.ts). MariaDB's build kept the applier under 1 s of lag at the
 * benchmark's highest rate.
 */
export const indexBuildStallsBusyWriters = (f: Flavor): boolean => isMysql(f);

/**
 * Whether a checksum's hash takes a value without a character set of its own (a number, a
 * date, a bit string) cast to binary even where the row's text goes in as it is: the same
 * bytes either way (test/integration/checksum.test.ts), at different costs. MySQL 9.7 turns a
 * bare number into text in the connection's charset first: 1,000,000 rows of sysbench's table
 * hashed in 0.52 s with its two INT columns cast, 0.63 s bare; three columns of DATETIME,
 * DECIMAL and DOUBLE 0.73 s against 0.90. MariaDB 10.11 is slower cast (0.28 s against 0.24).
 */
export const hashCastsValuesWithoutCharset = (f: Flavor): boolean => isMysql(f);

// ---- Cut-over ---------------------------------------------------------------------------

/** Sessions that are never a cut-over's blocker to kill: the server's own and replication's. */
const NOT_BLOCKERS =
  "('Daemon', 'Binlog Dump', 'Binlog Dump GTID', 'Slave_IO', 'Slave_SQL', 'Slave_worker', 'Connect')";

/**
 * The sessions that keep the cut-over from locking the original (--force-cut-over-after):
 * each one's id, user, host, command, seconds in its state, statement, and its open
 * transaction's age and rows modified (none: NULL). `exclude`: the cut-over's own sessions.
 *
 * MySQL: who holds a granted metadata lock on the table (performance_schema.metadata_locks,
 * which inspect requires for the cut-over already). MariaDB: the same from
 * information_schema.METADATA_LOCK_INFO where the metadata_lock_info plugin is loaded
 * (`mdlInfo`); without it the server cannot say who holds a table's metadata lock, and every
 * session of the schema with an open transaction, or whose statement names the table, counts.
 */
export function cutOverBlockers(f: Flavor, db: string, table: string, exclude: number[], mdlInfo: boolean): Statement {
  const ids = exclude.length ? exclude : [0];
  const columns = `p.ID AS id, p.USER AS user, p.HOST AS host, p.COMMAND AS command, p.TIME AS seconds,
      LEFT(p.INFO, 200) AS query, x.trx_rows_modified AS rowsModified,
      TIMESTAMPDIFF(SECOND, x.trx_started, NOW()) AS trxSeconds`;
  const joins = `FROM information_schema.PROCESSLIST p
      LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = p.ID`;
  const common = `p.ID <> CONNECTION_ID() AND p.ID NOT IN (${ids.map(() => '?').join(', ')})
      AND p.COMMAND NOT IN ${NOT_BLOCKERS} AND p.USER <> 'system user'`;
  if (isMysql(f))
    return {
      sql: `SELECT ${columns} ${joins}
        WHERE ${common} AND p.ID IN (
          SELECT t.PROCESSLIST_ID FROM performance_schema.metadata_locks m
          JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID
          WHERE m.OBJECT_TYPE = 'TABLE' AND m.OBJECT_SCHEMA = ? AND m.OBJECT_NAME = ? AND m.LOCK_STATUS = 'GRANTED')
        ORDER BY p.ID`,
      params: [...ids, db, table],
    };
  if (mdlInfo)
    return {
      sql: `SELECT ${columns} ${joins}
        WHERE ${common} AND p.ID IN (
          SELECT THREAD_ID FROM information_schema.METADATA_LOCK_INFO WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?)
        ORDER BY p.ID`,
      params: [...ids, db, table],
    };
  // An open transaction of a second or more (the applier's own last milliseconds), or a
  // statement that names the table as a word.
  const word = `\\b${table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`;
  return {
    sql: `SELECT ${columns} ${joins}
      WHERE ${common} AND ((x.trx_id IS NOT NULL AND p.DB = ? AND x.trx_started <= NOW() - INTERVAL 1 SECOND)
        OR p.INFO REGEXP ?)
      ORDER BY p.ID`,
    params: [...ids, db, word],
  };
}

/** Whether MariaDB's metadata_lock_info plugin answers (MySQL: not needed). */
export const metadataLockInfoQuery = (): Statement => ({
  sql: "SELECT COUNT(*) AS n FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE'",
  params: [],
});

/**
 * The cut-over's last check before it unlocks the original (cutover.ts): the RENAME must be
 * queued on the original table itself. It takes its metadata locks in name order, and
 * _<t>_del and _<t>_gho sort before <t>: once the sentry is dropped it takes those two, then
 * queues on <t>. Unlocked before it queues there, writes already waiting on <t> go first and
 * land in the old table after the last change was applied to the ghost: lost (gh-ost's
 * issue 887, fixed in its PR 1536 the same way on MySQL).
 * MySQL: performance_schema.metadata_locks shows the RENAME's PENDING EXCLUSIVE lock on <t>.
 * MariaDB (performance_schema off by default): the RENAME is past _<t>_gho once another
 * session cannot lock _<t>_gho at once (LOCK TABLES … NOWAIT), no other session having held it
 * before the RENAME was issued (renameLockProbe, before and after).
 */
export const renameQueuedOnTable = (
  f: Flavor,
  database: string,
  table: string,
  renameConnectionId: number,
): Statement | null =>
  isMysql(f)
    ? {
        sql: `SELECT COUNT(*) AS n FROM performance_schema.metadata_locks m JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID
        WHERE t.PROCESSLIST_ID = ? AND m.OBJECT_TYPE = 'TABLE' AND m.OBJECT_SCHEMA = ? AND m.OBJECT_NAME = ?
          AND m.LOCK_TYPE = 'EXCLUSIVE' AND m.LOCK_STATUS = 'PENDING'`,
        params: [renameConnectionId, database, table],
      }
    : null;

/** MariaDB's probe of renameQueuedOnTable: a read lock that fails at once if another session holds the name. */
export const renameLockProbe = (database: string, name: string): Statement => ({
  sql: `LOCK TABLES ${qualified(database, name)} READ NOWAIT`,
  params: [],
});

// ---- Privileges ---------------------------------------------------------------------------

/**
 * Global privileges that let a user read the binlog's coordinates, by server: MySQL's
 * REPLICATION CLIENT; MariaDB 10.5+ split it into BINLOG MONITOR (and kept the old name as
 * an alias that SHOW GRANTS prints as the new one).
 */
export const binlogMonitorPrivileges = (f: Flavor): string[] =>
  isMysql(f) ? ['REPLICATION CLIENT', 'SUPER'] : ['BINLOG MONITOR', 'REPLICATION CLIENT', 'SUPER'];
export const binlogMonitorPrivilegeName = (f: Flavor) =>
  isMysql(f) ? 'REPLICATION CLIENT' : 'BINLOG MONITOR (REPLICATION CLIENT)';

/**
 * Global privileges that let a user read the replica status (every migration does, to learn
 * its topology): MySQL's REPLICATION CLIENT; MariaDB 10.5.8+ moved SHOW SLAVE STATUS to SLAVE
 * MONITOR (REPLICA MONITOR is its alias), outside REPLICATION CLIENT.
 */
export const replicaMonitorPrivileges = (f: Flavor): string[] =>
  isMysql(f) || !atLeast(f, 10, 5, 8) ? ['REPLICATION CLIENT', 'SUPER'] : ['SLAVE MONITOR', 'REPLICA MONITOR', 'SUPER'];
export const replicaMonitorPrivilegeName = (f: Flavor) =>
  isMysql(f) || !atLeast(f, 10, 5, 8) ? 'REPLICATION CLIENT' : 'SLAVE MONITOR';

// ---- Per-connection detection --------------------------------------------------------------

const flavors = new WeakMap<object, Flavor>();

/** Detects a fresh connection's flavor, applies its session settings, and remembers it. */
export async function initConnection(conn: Conn): Promise<Flavor> {
  const [v] = await rows(conn, versionQuery());
  const f = detectFlavor(String(v.version), String(v.comment ?? ''));
  // The server's default mode is the application's business; this session's is revenant's:
  // values keep their meaning whatever the global sql_mode (only the unsafe modes go; the
  // copy's semantics, strictness and zero dates, are the server's as before).
  const mode = safeSqlMode(String(v.sql_mode ?? ''));
  if (mode) {
    await rows(conn, mode);
    const [after] = await rows(conn, { sql: 'SELECT @@session.sql_mode AS sql_mode', params: [] });
    if (safeSqlMode(String(after.sql_mode)))
      throw new Error(`the session's sql_mode kept NO_BACKSLASH_ESCAPES: ${after.sql_mode}`);
  }
  const setup = sessionSetup(f);
  if (setup) await conn.query(setup.sql, setup.params);
  flavors.set(conn, f);
  return f;
}

/** The flavor of a connection made by connect(). */
export function flavorOf(conn: Conn): Flavor {
  const f = flavors.get(conn);
  if (!f) throw new Error('connection was not made by connect(): its server flavor is unknown');
  return f;
}
