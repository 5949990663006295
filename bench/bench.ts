// The side-by-side benchmark (bench/run.sh installs the peers and calls this): one MariaDB (or,
// with --server mysql, MySQL 9.7)
// started for the run, a sysbench table of N rows, the same ALTER by each tool in turn with
// the table restored between runs, idle and under the same sysbench write load, several runs,
// medians; then the highest sustained write rate each online tool keeps its apply lag under
// 1 s at. Writes bench/RESULTS.md. Ratios, never absolute timings, are what it judges.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import mysql from 'mysql2/promise';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
/** The server benchmarked: mariadb (10.11, Debian's) or mysql (9.7, scripts/mysql.sh). */
const SERVER = arg('server', 'mariadb');
if (SERVER !== 'mariadb' && SERVER !== 'mysql') throw new Error(`--server is mariadb or mysql, not ${SERVER}`);
const ROWS = Number(arg('rows', '1000000'));
const RUNS = Number(arg('runs', '3'));
const RATE = Number(arg('rate', '200'));
const RATES = arg('rates', '250,500,1000,2000,4000').split(',').map(Number).filter((x) => x > 0);
const WORK = arg('work', '/tmp/revenant-bench');
/** Where the results go (a partial run, e.g. --tools revenant, should not replace bench/RESULTS.md). */
const OUT = arg('out', join(ROOT, 'bench', SERVER === 'mysql' ? 'RESULTS-mysql.md' : 'RESULTS.md'));
/** A run that takes longer is stopped and counts as failed (a tool that cannot keep up never ends). */
const RUN_TIMEOUT_S = Number(arg('timeout', '300'));
const TOOLS = arg('tools', 'alter-copy,pt-osc,gh-ost,revenant').split(',') as Tool[];
/**
 * A second table size for the memory target (worker peak RSS within 10% between N and this):
 * revenant alone, idle and under the same load, once each, after the sustained-rate search.
 * 0: not measured.
 */
const RSS_ROWS = Number(arg('rss-rows', '0'));
/** Extra flags for revenant's migrate (tuning experiments), e.g. --revenant-flags "--copy-threads 3". */
const REVENANT_FLAGS = arg('revenant-flags', '').split(/\s+/).filter(Boolean);
const PORT = SERVER === 'mysql' ? 24406 : 24306;
/** "MySQL 9.7.4-2 (Debian)", read from the server once it runs. */
let serverVersion = SERVER;
const TEMPORAL = '127.0.0.1:24233';
const DB = 'bench';
const TABLE = 'sbtest1';
const ALTER = 'ADD COLUMN bench_col INT NOT NULL DEFAULT 0';
const GHOST_UNPATCHED = join(ROOT, 'bench', '.bin', 'gh-ost');
/** gh-ost v1.1.10 as released, unless it cannot connect to this server (see run.sh): then the tx_isolation build. */
let GHOST = process.env.GH_OST ?? GHOST_UNPATCHED;
let ghostNote = 'gh-ost v1.1.10 as released';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Tool = 'alter-copy' | 'pt-osc' | 'gh-ost' | 'revenant';
interface Measure {
  tool: Tool;
  load: boolean;
  seconds: number;
  copySeconds?: number;
  peakLagSeconds?: number;
  /** revenant: its workflow's history length. */
  historyEvents?: number;
  ok: boolean;
  note?: string;
}

async function sql(query: string, database?: string): Promise<any[]> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: PORT, user: 'revenant', password: 'revenant', database, multipleStatements: true });
  try {
    const [r] = await c.query(query);
    return r as any[];
  } finally {
    await c.end();
  }
}

function sysbench(command: 'prepare' | 'run', rate = 0, rows = ROWS): ChildProcess {
  return spawn('sysbench', ['oltp_write_only', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${PORT}`,
    '--mysql-user=revenant', '--mysql-password=revenant', `--mysql-db=${DB}`, '--tables=1', `--table-size=${rows}`,
    ...(command === 'run' ? ['--threads=4', `--rate=${rate}`, '--time=0', '--report-interval=0', '--mysql-ignore-errors=all'] : ['--threads=2']), command],
  { stdio: 'ignore' });
}

const exited = (p: ChildProcess) => new Promise<number>((r) => p.on('exit', (code) => r(code ?? 1)));

/** A process's peak RSS (VmHWM), in MB. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** --worker-log FILE keeps the worker's log (INFO) for a look at what a run did. */
const WORKER_LOG = arg('worker-log', '');

/**
 * A worker of its own for each group of runs (main, sustained-rate, --rss-rows), so that each
 * group's peak RSS is its own and not what an earlier, heavier group left in the heap.
 * Returns once it polls the task queue: its start-up is not part of any run's time.
 */
async function startWorker(): Promise<ChildProcess> {
  const worker = spawn('node', [join(ROOT, 'bin', 'revenant.js'), 'worker'], {
    // MALLOC_ARENA_MAX as the worker image (Dockerfile) runs it.
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', TEMPORAL_ADDRESS: TEMPORAL, REVENANT_TASK_QUEUE: 'bench', REVENANT_MYSQL_PASSWORD: 'revenant', REVENANT_LOG_LEVEL: WORKER_LOG ? 'INFO' : 'WARN' },
    stdio: WORKER_LOG ? ((fd) => ['ignore', fd, fd])(openSync(WORKER_LOG, 'a')) as any : 'ignore',
  });
  for (let i = 0; i < 150; i++) {
    const r = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: 'bench' }, taskQueueType: 2 });
    if (r.pollers?.some((p) => p.identity?.startsWith(`${worker.pid}@`))) return worker;
    await sleep(200);
  }
  throw new Error('the benchmark\'s worker did not start polling within 30 s');
}

async function stopWorker(worker: ChildProcess | undefined): Promise<void> {
  if (!worker || worker.exitCode !== null) return;
  const done = exited(worker);
  worker.kill('SIGTERM');
  await done;
}

/** A sysbench table of `rows` rows, and the copy of it that restore() puts back before each run. */
async function prepareTable(rows: number): Promise<void> {
  await sql(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_base`, DB);
  if ((await exited(sysbench('prepare', 0, rows))) !== 0) throw new Error('sysbench prepare failed');
  await sql(`CREATE TABLE ${TABLE}_base LIKE ${TABLE}; INSERT INTO ${TABLE}_base SELECT * FROM ${TABLE}`, DB);
}

async function restore(): Promise<void> {
  // Each run writes gigabytes of binlog; none of it is needed once the run is over.
  await sql('FLUSH BINARY LOGS');
  const [{ File: current }] = await sql(SERVER === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
  await sql(`PURGE BINARY LOGS TO '${current}'`);
  await sql(`DROP TABLE IF EXISTS ${TABLE}, _${TABLE}_gho, _${TABLE}_ghc, _${TABLE}_del, _${TABLE}_new, _${TABLE}_old, bench_floor;
    CREATE TABLE ${TABLE} LIKE ${TABLE}_base; INSERT INTO ${TABLE} SELECT * FROM ${TABLE}_base`, DB);
  for (const t of await sql(`SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${DB}'`)) {
    await sql(`DROP TRIGGER IF EXISTS \`${t.TRIGGER_NAME}\``, DB);
  }
}

/** Runs a command, following its output for "Lag: x" figures; wall time and the peak. */
async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, lagRe?: RegExp, stopAboveLag = Infinity): Promise<{ seconds: number; peakLag?: number; ok: boolean; out: string }> {
  const started = Date.now();
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let peakLag: number | undefined;
  const watch = (d: Buffer) => {
    out += d;
    if (!lagRe) return;
    for (const m of String(d).matchAll(lagRe)) peakLag = Math.max(peakLag ?? 0, Number(m[1]));
    // The sustained-rate search: a run whose lag passed the bar has failed already.
    if ((peakLag ?? 0) > stopAboveLag && !stopped) { stopped = true; child.kill('SIGKILL'); }
  };
  let stopped = false;
  child.stdout!.on('data', watch);
  child.stderr!.on('data', watch);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, RUN_TIMEOUT_S * 1000);
  const code = await exited(child);
  clearTimeout(timer);
  if (timedOut) out += `\ndid not finish within ${RUN_TIMEOUT_S}s (stopped)`;
  if (stopped) out += `\nstopped: apply lag above ${stopAboveLag}s`;
  return { seconds: (Date.now() - started) / 1000, peakLag, ok: code === 0 && !timedOut && !stopped, out };
}

/** How long `work` takes, in seconds. */
async function secondsOf(work: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await work();
  return (Date.now() - started) / 1000;
}

/**
 * What any online copy of this table costs on this server, measured without revenant: the
 * ghost's shape (the ALTER done, the secondary index `k_1` left out as revenant defers it),
 * filled by one INSERT … SELECT … LOCK IN SHARE MODE of every row (binlogged, as an online copy
 * must be for the replicas), then the index added. Also the same copy as two statements at
 * once over the two halves of the key, which shows whether a second copier can help here.
 */
interface Floor { copy: number; parallelCopy: number; index: number; autoincLockMode: string }

async function measureFloor(): Promise<Floor> {
  await restore();
  const [{ mode }] = await sql('SELECT @@innodb_autoinc_lock_mode AS mode');
  const shape = () => sql(`DROP TABLE IF EXISTS bench_floor; CREATE TABLE bench_floor LIKE ${TABLE};
    ALTER TABLE bench_floor DROP INDEX k_1, ${ALTER}`, DB);
  const fill = (where: string) => sql(`START TRANSACTION; INSERT INTO bench_floor (id, k, c, pad) SELECT id, k, c, pad FROM ${TABLE}
    ${where} LOCK IN SHARE MODE; COMMIT`, DB);
  await shape();
  const copy = await secondsOf(() => fill(''));
  const index = await secondsOf(() => sql('ALTER TABLE bench_floor ADD INDEX k_1 (k)', DB));
  await shape();
  const [{ half }] = await sql(`SELECT (MIN(id) + MAX(id)) DIV 2 AS half FROM ${TABLE}`, DB);
  const parallelCopy = await secondsOf(() => Promise.all([fill(`WHERE id <= ${Number(half)}`), fill(`WHERE id > ${Number(half)}`)]));
  await sql('DROP TABLE bench_floor', DB);
  return { copy, parallelCopy, index, autoincLockMode: String(mode) };
}

let client: Client;

/** Worker peak RSS (MB): the main runs, the sustained-rate search, the --rss-rows runs. */
interface RssPeaks { main: number; sustained: number; larger: number }

/** `stopAboveLag`: the sustained-rate search stops a run as soon as its apply lag passes it. */
async function runTool(tool: Tool, load: boolean, rate = RATE, stopAboveLag = Infinity, rows = ROWS): Promise<Measure> {
  await restore();
  const writer = load ? sysbench('run', rate, rows) : undefined;
  if (writer) await sleep(2000);
  try {
    switch (tool) {
      case 'alter-copy':
        return { tool, load, seconds: await secondsOf(() => sql(`ALTER TABLE ${TABLE} ${ALTER}, ALGORITHM=COPY`, DB)), ok: true };
      case 'pt-osc': {
        const r = await timed('pt-online-schema-change', ['--alter', ALTER, `D=${DB},t=${TABLE},h=127.0.0.1,P=${PORT},u=revenant,p=revenant`,
          '--execute', '--recursion-method=none', '--no-check-replication-filters', '--no-drop-old-table', '--set-vars', 'lock_wait_timeout=5']);
        return { tool, load, seconds: r.seconds, ok: r.ok, note: r.ok ? undefined : r.out.slice(-400) };
      }
      case 'gh-ost': {
        const r = await timed(GHOST, [`--host=127.0.0.1`, `--port=${PORT}`, '--user=revenant', '--password=revenant', `--database=${DB}`, `--table=${TABLE}`,
          `--alter=${ALTER}`, '--allow-on-master', '--assume-rbr', '--initially-drop-ghost-table', '--initially-drop-old-table', '--chunk-size=1000',
          '--default-retries=120', '--skip-metadata-lock-check', '--initially-drop-socket-file', '--execute'], process.env, /Lag: (\d+(?:\.\d+)?)s/g, stopAboveLag);
        return { tool, load, seconds: r.seconds, peakLagSeconds: r.peakLag, ok: r.ok, note: r.ok ? undefined : r.out.slice(-400) };
      }
      case 'revenant': {
        const r = await timed('node', [join(ROOT, 'bin', 'revenant.js'), 'migrate', '--host', '127.0.0.1', '--port', String(PORT), '--user', 'revenant',
          '--database', DB, '--table', TABLE, '--alter', ALTER, '--allow-on-master', '--initially-drop-old-table', '--execute', '--no-search-attributes', ...REVENANT_FLAGS],
        { ...process.env, TEMPORAL_ADDRESS: TEMPORAL, REVENANT_TASK_QUEUE: 'bench' }, /Lag: (\d+(?:\.\d+)?)s/g, stopAboveLag);
        const last = r.out.split('\n').filter((l) => l.startsWith('Copy:')).pop() ?? '';
        console.log(`bench:   revenant's last status: ${last}`);
        const copy = /Time: [^;]*?(\d+)s\(copy\)/.exec(last);
        const h = client.workflow.getHandle(`revenant:127.0.0.1:${PORT}:${DB}.${TABLE}`);
        // A stopped CLI leaves its migration running: end it before the table is restored.
        if (!r.ok) await h.terminate('benchmark run stopped').catch(() => {});
        const history = await h.fetchHistory();
        console.log(`bench:   revenant's phases: ${activityTimes(history)}`);
        return { tool, load, seconds: r.seconds, copySeconds: copy ? Number(copy[1]) : undefined, peakLagSeconds: r.peakLag ?? 0,
          historyEvents: history.events?.length ?? 0, ok: r.ok, note: r.ok ? undefined : r.out.slice(-400) };
      }
    }
    throw new Error(`unknown tool ${tool}`);
  } finally {
    writer?.kill('SIGTERM');
    if (writer) await exited(writer);
  }
}

/** Where a migration's time went: each activity's scheduled-to-closed seconds, in order. */
function activityTimes(history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>): string {
  const seconds = (t: any) => Number(t?.seconds ?? 0) + Number(t?.nanos ?? 0) / 1e9;
  const events = history.events ?? [];
  const first = seconds(events[0]?.eventTime);
  const scheduled = new Map<string, { name: string; at: number }>();
  const out: string[] = [];
  for (const e of events) {
    const at = seconds(e.eventTime);
    if (e.activityTaskScheduledEventAttributes) {
      scheduled.set(String(e.eventId), { name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
    }
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskCanceledEventAttributes;
    const s = closed ? scheduled.get(String(closed.scheduledEventId)) : undefined;
    if (s) out.push(`${s.name} ${(s.at - first).toFixed(2)}+${(at - s.at).toFixed(2)}`);
  }
  return `${out.join(', ')}; closed at ${(seconds(events[events.length - 1]?.eventTime) - first).toFixed(2)} s`;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

async function main(): Promise<void> {
  await run('bash', [join(ROOT, 'scripts', `${SERVER}.sh`), 'start', join(WORK, SERVER), String(PORT), '21']);
  const [v] = await sql('SELECT @@version AS v, @@version_comment AS c');
  serverVersion = `${SERVER === 'mysql' ? 'MySQL' : 'MariaDB'} ${v.v} (${v.c})`;
  await run('bash', [join(ROOT, 'scripts', 'temporal.sh'), 'start', join(WORK, 'temporal'), TEMPORAL.split(':')[1], '25233']);
  const connection = await Connection.connect({ address: TEMPORAL });
  client = new Client({ connection });
  if (WORKER_LOG) writeFileSync(WORKER_LOG, '');
  let worker: ChildProcess | undefined;
  try {
    worker = await startWorker();
    await sql(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
    console.log(`bench: preparing ${ROWS} rows`);
    await prepareTable(ROWS);

    const probe = TOOLS.includes('gh-ost') ? await runTool('gh-ost', false) : { ok: true, note: '' };
    if (!probe.ok && /Unknown system variable 'transaction_isolation'/.test(probe.note ?? '')) {
      GHOST = join(ROOT, 'bench', '.bin', 'gh-ost-mariadb');
      ghostNote = 'gh-ost v1.1.10 as released fails on this server (`Error 1193: Unknown system variable \'transaction_isolation\'`: MariaDB 10.11 has only `tx_isolation`; ' +
        'past that, it takes "10.11" for newer than MySQL 8.4 and sends `SHOW BINARY LOG STATUS`: Error 1064). The figures are of the same source built with those two ' +
        'constants changed (bench/run.sh), nothing else';
      console.log(`bench: ${ghostNote}`);
    }

    const tools = TOOLS;
    const all: Measure[] = [];
    const rss: RssPeaks = { main: NaN, sustained: NaN, larger: NaN };
    /** revenant's runs on the --rss-rows table. */
    const larger: Measure[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const load of [false, true]) {
        for (const tool of tools) {
          const m = await runTool(tool, load);
          all.push(m);
          console.log(`bench: run ${i + 1}/${RUNS} ${tool}${load ? ` under ${RATE} tx/s` : ' idle'}: ${m.seconds.toFixed(1)}s` +
            `${m.peakLagSeconds !== undefined ? `, peak lag ${m.peakLagSeconds.toFixed(2)}s` : ''}${m.ok ? '' : ` FAILED ${m.note}`}`);
        }
      }
    }

    rss.main = peakRss(worker.pid!);

    const floors: Floor[] = [];
    for (let i = 0; i < RUNS; i++) floors.push(await measureFloor());
    const floor = { copy: median(floors.map((f) => f.copy)), parallelCopy: median(floors.map((f) => f.parallelCopy)),
      index: median(floors.map((f) => f.index)), autoincLockMode: floors[0].autoincLockMode };
    console.log(`bench: floor of a logged copy: ${JSON.stringify(floor)}`);
    await stopWorker(worker);
    worker = await startWorker();

    // The highest write rate at which each online tool finishes with its apply lag under 1 s.
    const sustained: Record<string, number> = {};
    const sustainedRuns: Measure[] = [];
    for (const tool of (['gh-ost', 'revenant'] as Tool[]).filter((t) => TOOLS.includes(t))) {
      sustained[tool] = 0;
      for (const rate of RATES) {
        const m = await runTool(tool, true, rate, 1);
        sustainedRuns.push(m);
        console.log(`bench: sustained ${tool} at ${rate} tx/s: ${m.seconds.toFixed(1)}s, peak lag ${(m.peakLagSeconds ?? NaN).toFixed(2)}s${m.ok ? '' : ' FAILED'}`);
        if (!m.ok || (m.peakLagSeconds ?? Infinity) >= 1) break;
        sustained[tool] = rate;
      }
    }
    rss.sustained = peakRss(worker.pid!);

    if (RSS_ROWS > 0 && TOOLS.includes('revenant')) {
      // The same migrations on a larger table: the worker's memory must not grow with it.
      console.log(`bench: preparing ${RSS_ROWS} rows for the memory comparison`);
      await prepareTable(RSS_ROWS);
      await stopWorker(worker);
      worker = await startWorker();
      for (const load of [false, true]) {
        const m = await runTool('revenant', load, RATE, Infinity, RSS_ROWS);
        larger.push(m);
        console.log(`bench: ${RSS_ROWS} rows, revenant${load ? ` under ${RATE} tx/s` : ' idle'}: ${m.seconds.toFixed(1)}s` +
          `, peak lag ${(m.peakLagSeconds ?? NaN).toFixed(2)}s${m.ok ? '' : ` FAILED ${m.note}`}`);
      }
      rss.larger = peakRss(worker.pid!);
    }
    writeResults(all, sustained, sustainedRuns, larger, rss, floor);
  } finally {
    await stopWorker(worker);
    await connection.close();
    await run('bash', [join(ROOT, 'scripts', 'temporal.sh'), 'stop', join(WORK, 'temporal')]).catch(() => {});
    await run('bash', [join(ROOT, 'scripts', `${SERVER}.sh`), SERVER === 'mysql' ? 'remove' : 'stop', join(WORK, SERVER)]).catch(() => {});
    rmSync(WORK, { recursive: true, force: true });
  }
}

function writeResults(all: Measure[], sustained: Record<string, number>, sustainedRuns: Measure[], larger: Measure[], rss: RssPeaks, floor: Floor): void {
  const histories = (ms: Measure[]) => ms.map((m) => m.historyEvents).filter((x): x is number => x !== undefined);
  const span = (xs: number[]) => (xs.length ? `${Math.min(...xs)}–${Math.max(...xs)}` : 'n/a');
  const judged = histories([...all, ...larger]);
  const pick = (tool: Tool, load: boolean) => all.filter((m) => m.tool === tool && m.load === load && m.ok);
  const med = (tool: Tool, load: boolean) => median(pick(tool, load).map((m) => m.seconds));
  const lag = (tool: Tool, load: boolean) => {
    const xs = pick(tool, load).map((m) => m.peakLagSeconds).filter((x): x is number => x !== undefined);
    return xs.length ? Math.max(...xs).toFixed(2) : 'n/a';
  };
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'failed');
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '–');
  const lines: string[] = [];
  const version = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0]; } catch { return 'unavailable'; } };
  lines.push('# Benchmark results', '',
    `Command: \`npm run bench -- ${SERVER === 'mysql' ? '--server mysql ' : ''}--rows ${ROWS} --runs ${RUNS} --rate ${RATE} --rates ${RATES.join(',')}${RSS_ROWS > 0 ? ` --rss-rows ${RSS_ROWS}` : ''}` +
    `${REVENANT_FLAGS.length ? ` --revenant-flags "${REVENANT_FLAGS.join(' ')}"` : ''}\` (bench/run.sh), ${new Date().toISOString().slice(0, 10)}.`, '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${serverVersion}, sysbench and every tool on it.`,
    `Versions: ${serverVersion}; ${version('pt-online-schema-change', ['--version'])}; gh-ost ${version(GHOST, ['--version'])}; ` +
    `revenant ${version('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}; node ${process.version}.`, '',
    `gh-ost: ${ghostNote}.`, '',
    `Table: sysbench \`sbtest1\`, ${ROWS.toLocaleString('en')} rows; ALTER: \`${ALTER}\`; load: \`sysbench oltp_write_only --threads=4 --rate=${RATE}\`.`,
    `Each cell is the median of ${RUNS} runs (wall time, seconds). Ratios < 1 mean revenant is faster.`, '',
    '| tool | idle (s) | under load (s) | peak apply lag idle / load (s) | revenant ÷ tool, idle | revenant ÷ tool, load |',
    '|---|---|---|---|---|---|');
  const rev = { idle: med('revenant', false), load: med('revenant', true) };
  for (const tool of (['alter-copy', 'pt-osc', 'gh-ost', 'revenant'] as Tool[]).filter((t) => TOOLS.includes(t))) {
    const idle = med(tool, false);
    const load = med(tool, true);
    lines.push(`| ${tool} | ${fmt(idle)} | ${fmt(load)} | ${lag(tool, false)} / ${lag(tool, true)} | ${ratio(rev.idle, idle)} | ${ratio(rev.load, load)} |`);
  }
  const copy = median(pick('revenant', false).map((m) => m.copySeconds ?? NaN).filter((x) => Number.isFinite(x) && x > 0));
  lines.push('', `revenant: copy ${Number.isFinite(copy) ? `${copy}s, ${Math.round(ROWS / copy).toLocaleString('en')} rows/s` : 'n/a'} idle; ` +
    `worker peak RSS ${rss.main.toFixed(0)} MB over these runs, ${rss.sustained.toFixed(0)} MB over the sustained-rate runs below` +
    `${RSS_ROWS > 0 ? `, ${rss.larger.toFixed(0)} MB over the ${RSS_ROWS.toLocaleString('en')}-row runs` : ''}; ` +
    `workflow history ${span(histories(all))} events${larger.length ? ` (${span(histories(larger))} on the ${RSS_ROWS.toLocaleString('en')}-row runs)` : ''}, ` +
    `${span(histories(sustainedRuns))} in the sustained-rate runs.`, '',
    `Sustained write rate with apply lag < 1 s (tried ${RATES.join(', ')} tx/s): ` +
    Object.entries(sustained).map(([tool, rate]) => `${tool} ${rate || 'below ' + RATES[0]}`).join(', ') + '.');
  if (larger.length) {
    const l = (load: boolean) => larger.find((m) => m.load === load);
    const show = (m?: Measure) => (m?.ok ? `${m.seconds.toFixed(1)} s` : 'failed');
    lines.push('', `revenant on ${RSS_ROWS.toLocaleString('en')} rows (once each): idle ${show(l(false))}, under ${RATE} tx/s ${show(l(true))}` +
      `${l(true)?.peakLagSeconds !== undefined ? `, peak apply lag ${l(true)!.peakLagSeconds!.toFixed(2)} s` : ''}.`);
  }
  const alterIdle = med('alter-copy', false);
  const ghostIdle = med('gh-ost', false);
  const floorTotal = floor.copy + floor.index;
  lines.push('', `The floor of a logged online copy on this server (no tool, medians of ${RUNS}): one \`INSERT … SELECT … LOCK IN SHARE MODE\` of every row ` +
    `into the ghost's shape without \`k_1\` ${floor.copy.toFixed(2)} s, then \`ADD INDEX k_1\` ${floor.index.toFixed(2)} s: ` +
    `${floorTotal.toFixed(2)} s, ${ratio(floorTotal, alterIdle)}× ALTER COPY, ${ratio(floorTotal, ghostIdle)}× gh-ost idle. ` +
    `The same copy as two statements at once, a half of the key each: ${floor.parallelCopy.toFixed(2)} s (innodb_autoinc_lock_mode=${floor.autoincLockMode}).`);
  // The issue's targets, judged from this run's figures.
  const peakLoadLag = Math.max(...pick('revenant', true).map((m) => m.peakLagSeconds ?? Infinity));
  const target = (name: string, measured: string, met: boolean | undefined) => lines.push(`| ${name} | ${measured} | ${met === undefined ? 'not measured' : met ? 'yes' : 'no'} |`);
  const within = (a: number, b: number, limit: number) => (Number.isFinite(a) && Number.isFinite(b) ? a / b <= limit : undefined);
  const history = judged.length ? Math.max(...judged) : NaN;
  lines.push('', '## Targets', '', '| target | measured | met? |', '|---|---|---|');
  target('idle ≤ 1.2× ALTER COPY', `${ratio(rev.idle, alterIdle)}×`, within(rev.idle, alterIdle, 1.2));
  target('idle ≤ 0.9× pt-osc', `${ratio(rev.idle, med('pt-osc', false))}×`, within(rev.idle, med('pt-osc', false), 0.9));
  target('idle ≤ 0.33× gh-ost', `${ratio(rev.idle, ghostIdle)}×`, within(rev.idle, ghostIdle, 0.33));
  target('under load: apply lag < 1 s', `peak ${Number.isFinite(peakLoadLag) ? peakLoadLag.toFixed(2) : 'n/a'} s`, Number.isFinite(peakLoadLag) ? peakLoadLag < 1 : undefined);
  target('under load ≤ 0.25× gh-ost', `${ratio(rev.load, med('gh-ost', true))}×`, within(rev.load, med('gh-ost', true), 0.25));
  target('sustained rate (lag < 1 s) ≥ 2× gh-ost', `${sustained.revenant ?? 'n/a'} vs ${sustained['gh-ost'] ?? 'n/a'} tx/s`,
    sustained.revenant !== undefined && sustained['gh-ost'] !== undefined ? sustained.revenant >= 2 * sustained['gh-ost'] : undefined);
  target(`worker peak RSS ≤ 250 MB (${ROWS.toLocaleString('en')} rows, idle and under ${RATE} tx/s)`, `${rss.main.toFixed(0)} MB`, Number.isFinite(rss.main) ? rss.main <= 250 : undefined);
  if (RSS_ROWS > 0) {
    target(`worker peak RSS ≤ 250 MB (${RSS_ROWS.toLocaleString('en')} rows)`, `${rss.larger.toFixed(0)} MB`, Number.isFinite(rss.larger) ? rss.larger <= 250 : undefined);
    target(`worker peak RSS within 10% between ${ROWS.toLocaleString('en')} and ${RSS_ROWS.toLocaleString('en')} rows`,
      `${rss.main.toFixed(0)} vs ${rss.larger.toFixed(0)} MB`, Number.isFinite(rss.main) && Number.isFinite(rss.larger) ? Math.abs(rss.larger - rss.main) <= 0.1 * rss.main : undefined);
  }
  target(`history ≤ 200 events (${RSS_ROWS > 0 ? `${ROWS.toLocaleString('en')} and ${RSS_ROWS.toLocaleString('en')}` : ROWS.toLocaleString('en')} rows)`,
    `${Number.isFinite(history) ? history : 'n/a'}`, Number.isFinite(history) ? history <= 200 : undefined);
  lines.push('', '## Failures', '', ...all.filter((m) => !m.ok).map((m) => `- ${m.tool} ${m.load ? 'load' : 'idle'}: ${(m.note ?? '').replace(/\n/g, ' ').slice(0, 300)}`), '');
  writeFileSync(OUT, lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
