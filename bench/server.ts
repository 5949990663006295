// The benchmark's database server: one private MariaDB 10.11 or MySQL 9.7 started for the run
// (scripts/mariadb.sh, scripts/mysql.sh), its sysbench table, the restore between runs, and the
// counters the costs are read from (the server process's CPU time). What differs between the
// two servers for the benchmark is here and nowhere else.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';

const run = promisify(execFile);
export const ROOT = join(__dirname, '..', '..');
export const DB = 'bench';
export const TABLE = 'sbtest1';
export const ALTER = 'ADD COLUMN bench_col INT NOT NULL DEFAULT 0';

/** settle(): done once this few pages are dirty, or after this long (a server that never gets there is measured as it is). */
const SETTLED_DIRTY_PAGES = 100;
const SETTLE_LIMIT_MS = 60_000;

export type ServerKind = 'mariadb' | 'mysql';

/** `revenant migrate`'s flags for the benchmark's migration on the server at `port`. */
export const migrateFlags = (port: number): string[] => [
  '--host',
  '127.0.0.1',
  '--port',
  String(port),
  '--user',
  'revenant',
  '--database',
  DB,
  '--table',
  TABLE,
  '--alter',
  ALTER,
  '--allow-on-master',
];

export const exited = (p: ChildProcess) =>
  new Promise<number>((r) => (p.exitCode !== null ? r(p.exitCode) : p.on('exit', (code) => r(code ?? 1))));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's user + system CPU seconds so far (/proc/PID/stat, 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** A process's peak RSS (VmHWM), in MB. */
export function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export class BenchServer {
  /** "MariaDB 10.11.19-MariaDB-0+deb12u1 (Debian 12)", read once the server runs. */
  version = '';
  bufferPoolMb = 0;
  private pid = 0;

  constructor(
    readonly kind: ServerKind,
    readonly port: number,
    readonly dir: string,
  ) {}

  get name(): string {
    return this.kind === 'mysql' ? 'MySQL 9.7' : 'MariaDB 10.11';
  }

  async start(): Promise<void> {
    await run('bash', [join(ROOT, 'scripts', `${this.kind}.sh`), 'start', this.dir, String(this.port), '21']);
    const [v] = await this.sql('SELECT @@version AS v, @@version_comment AS c, @@innodb_buffer_pool_size AS bp');
    this.version = `${this.kind === 'mysql' ? 'MySQL' : 'MariaDB'} ${v.v} (${v.c})`;
    this.bufferPoolMb = Number(v.bp) / 2 ** 20;
    // The server process, for its CPU time: the one listening on this port (MySQL runs through
    // chroot, which execs mysqld, so its pid is the server's too).
    const pids = execFileSync('pgrep', ['-f', '--', `--port=${this.port}( |$)`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    this.pid = pids.find((p) => /^(mariadbd|mysqld)$/.test(readFileSync(`/proc/${p}/comm`, 'utf8').trim())) ?? 0;
    if (!this.pid) throw new Error(`no ${this.kind} server process found on port ${this.port}`);
  }

  async stop(): Promise<void> {
    await run('bash', [
      join(ROOT, 'scripts', `${this.kind}.sh`),
      this.kind === 'mysql' ? 'remove' : 'stop',
      this.dir,
    ]).catch(() => {});
  }

  /** The server process's CPU seconds so far. */
  cpu(): number {
    return cpuSeconds(this.pid);
  }

  async sql(query: string, database?: string): Promise<any[]> {
    const c = await mysql.createConnection({
      host: '127.0.0.1',
      port: this.port,
      user: 'revenant',
      password: 'revenant',
      database,
      multipleStatements: true,
    });
    try {
      const [r] = await c.query(query);
      return r as any[];
    } finally {
      await c.end();
    }
  }

  /** The shared lock clause of a consistent read: MariaDB 10.11 knows only the older spelling. */
  get shareLock(): string {
    return this.kind === 'mysql' ? 'FOR SHARE' : 'LOCK IN SHARE MODE';
  }

  /**
   * sysbench oltp_write_only on the table: `prepare` it, or `run` it at `rate` tx/s (0: as fast
   * as it goes) with `threads` connections, for `seconds` (0: until killed). With
   * --report-interval=1 it prints "tps: N" each second, which the caller may read.
   */
  sysbench(
    command: 'prepare' | 'run',
    opts: { rows: number; rate?: number; threads?: number; seconds?: number },
  ): ChildProcess {
    const args = [
      'oltp_write_only',
      '--db-driver=mysql',
      '--mysql-host=127.0.0.1',
      `--mysql-port=${this.port}`,
      '--mysql-user=revenant',
      '--mysql-password=revenant',
      `--mysql-db=${DB}`,
      '--tables=1',
      `--table-size=${opts.rows}`,
    ];
    if (command === 'run') {
      args.push(
        `--threads=${opts.threads ?? 4}`,
        `--rate=${opts.rate ?? 0}`,
        `--time=${opts.seconds ?? 0}`,
        '--report-interval=1',
        '--mysql-ignore-errors=all',
      );
    } else {
      args.push('--threads=1');
    }
    return spawn('sysbench', [...args, command], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /**
   * A sysbench table of `rows` rows; with `base`, a copy of it that restore() puts back before
   * each run. Nothing of an earlier table stays: restoreFromOld() would take a kept old table
   * for this one's.
   */
  async prepareTable(rows: number, base: boolean): Promise<void> {
    await this.dropLeftovers();
    await this.sql(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_base, _${TABLE}_del`, DB);
    const p = this.sysbench('prepare', { rows });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    p.stdout!.resume();
    if ((await exited(p)) !== 0) throw new Error(`sysbench prepare failed: ${err.slice(-400)}`);
    if (base)
      await this.sql(`CREATE TABLE ${TABLE}_base LIKE ${TABLE}; INSERT INTO ${TABLE}_base SELECT * FROM ${TABLE}`, DB);
    await this.purgeBinlogs();
    await this.settle();
  }

  /**
   * Dirty pages flushed, so that each run starts on a server at rest, the same for every tool.
   * A restore's bulk insert leaves most of the table dirty in the buffer pool (11,800 pages of
   * 16 KB on MariaDB) and the redo log 80 % full (212 of 256 MB), which the page cleaner works
   * off at innodb_io_capacity, 200 pages a second: for a minute. A run started meanwhile fills
   * the rest of the log with its own writes within seconds, and InnoDB stalls every writer while
   * it flushes at once (the full run of 671734d: MariaDB's ceiling at 50 % failed 8 s in, the
   * applier 1.6 s behind with the copy holding, where three runs at that rate kept under 0.5 s).
   * With the flushing's limits lifted for the while, it takes a second.
   */
  async settle(): Promise<void> {
    const [was] = await this.sql(
      'SELECT @@innodb_io_capacity AS io, @@innodb_io_capacity_max AS ioMax, @@innodb_max_dirty_pages_pct AS pct, @@innodb_max_dirty_pages_pct_lwm AS lwm',
    );
    await this.sql(
      'SET GLOBAL innodb_io_capacity_max = 40000; SET GLOBAL innodb_io_capacity = 20000; SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0; SET GLOBAL innodb_max_dirty_pages_pct = 0',
    );
    try {
      const until = Date.now() + SETTLE_LIMIT_MS;
      while ((await this.dirtyPages()) > SETTLED_DIRTY_PAGES && Date.now() < until) await sleep(200);
    } finally {
      await this.sql(
        `SET GLOBAL innodb_max_dirty_pages_pct = ${Number(was.pct)}; SET GLOBAL innodb_max_dirty_pages_pct_lwm = ${Number(was.lwm)}; ` +
          `SET GLOBAL innodb_io_capacity = ${Number(was.io)}; SET GLOBAL innodb_io_capacity_max = ${Number(was.ioMax)}`,
      );
    }
  }

  private async dirtyPages(): Promise<number> {
    const [r] = await this.sql("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'");
    return Number(r.Value);
  }

  /** Each run writes gigabytes of binlog; none of it is needed once the run is over. */
  async purgeBinlogs(): Promise<void> {
    await this.sql('FLUSH BINARY LOGS');
    const [{ File: current }] = await this.sql(this.kind === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
    await this.sql(`PURGE BINARY LOGS TO '${current}'`);
  }

  /** Every tool's leftovers dropped (tables, pt-osc's triggers). */
  async dropLeftovers(): Promise<void> {
    await this.sql(`DROP TABLE IF EXISTS _${TABLE}_gho, _${TABLE}_ghc, _${TABLE}_new, _${TABLE}_old, bench_floor`, DB);
    for (const t of await this.sql(
      `SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${DB}'`,
    )) {
      await this.sql(`DROP TRIGGER IF EXISTS \`${t.TRIGGER_NAME}\``, DB);
    }
  }

  /** The table as prepared, from its base copy. */
  async restore(): Promise<void> {
    await this.purgeBinlogs();
    await this.dropLeftovers();
    await this.sql(
      `DROP TABLE IF EXISTS ${TABLE}, _${TABLE}_del; CREATE TABLE ${TABLE} LIKE ${TABLE}_base; INSERT INTO ${TABLE} SELECT * FROM ${TABLE}_base`,
      DB,
    );
    await this.settle();
  }

  /**
   * The table as it was before an idle online migration, without a base copy (the large table
   * has none: copying it back would take longer than the run): the old table the tool kept as
   * `_<t>_del` is renamed back. A run that left none (a failed one) has its column dropped again.
   */
  async restoreFromOld(): Promise<void> {
    await this.purgeBinlogs();
    await this.dropLeftovers();
    const [{ n }] = await this.sql(
      `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = '_${TABLE}_del'`,
    );
    if (Number(n) > 0) await this.sql(`DROP TABLE ${TABLE}; RENAME TABLE _${TABLE}_del TO ${TABLE}`, DB);
    else {
      const [{ c }] = await this.sql(
        `SELECT COUNT(*) AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = '${TABLE}' AND COLUMN_NAME = 'bench_col'`,
      );
      if (Number(c) > 0) await this.sql(`ALTER TABLE ${TABLE} DROP COLUMN bench_col`, DB);
    }
    // The last run's writes (the ghost's ten million rows) are still dirty in the pool.
    await this.settle();
  }

  async innodbAutoincLockMode(): Promise<string> {
    const [{ mode }] = await this.sql('SELECT @@innodb_autoinc_lock_mode AS mode');
    return String(mode);
  }

  async tableMb(): Promise<number> {
    const [{ mb }] = await this.sql(
      `SELECT (DATA_LENGTH + INDEX_LENGTH) / 1048576 AS mb FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = '${TABLE}'`,
    );
    return Number(mb);
  }
}
