// How each contender runs on the benchmark's table, and what each run measures: wall time (the
// command's start to its exit), peak apply lag (from the tool's own status lines), the CPU the
// server and revenant's worker spent, and for revenant its workflow's history and where its time
// went. Also the floor (a logged online copy with no tool), the write load, and sysbench's
// ceiling on this server.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { type BinlogRead, migrationWorkflowId } from '../model/types';
import { ALTER, type BenchServer, cpuSeconds, DB, exited, migrateFlags, ROOT, sleep, TABLE } from './server';
import { statusQuery } from '../model/messages';
import { MIN_WINDOW_MS } from '../worker/progress-batcher';

export type Tool =
  | 'alter-copy'
  | 'alter-inplace'
  | 'pt-osc'
  | 'gh-ost'
  | 'revenant'
  | 'revenant-default'
  | 'revenant-embedded';
/** The tools a run compares, in the order the results list them. */
export const TOOLS: Tool[] = [
  'alter-copy',
  'alter-inplace',
  'pt-osc',
  'gh-ost',
  'revenant',
  'revenant-default',
  'revenant-embedded',
];
export const TOOL_LABEL: Record<Tool, string> = {
  'alter-copy': 'ALTER TABLE, ALGORITHM=COPY',
  'alter-inplace': 'ALTER TABLE, FORCE, ALGORITHM=INPLACE (a rebuild in place)',
  'pt-osc': 'pt-online-schema-change',
  'gh-ost': 'gh-ost',
  revenant: 'revenant --checksum=false (standing worker)',
  'revenant-default': 'revenant, its defaults (--checksum on; standing worker)',
  'revenant-embedded': 'revenant --checksum=false, nothing configured (embedded Temporal and worker)',
};

export interface Measure {
  tool: Tool | 'floor';
  rows: number;
  /** The write load's target rate (tx/s); 0 idle. */
  rate: number;
  seconds: number;
  ok: boolean;
  note?: string;
  peakLagSeconds?: number;
  /** What sysbench achieved during the run (tx/s, its per-second reports averaged). */
  achievedTps?: number;
  serverCpu: number;
  workerCpu?: number;
  historyEvents?: number;
  /** revenant: seconds per activity (scheduled to closed, summed over attempts). */
  phases?: Record<string, number>;
  /** revenant: the binlog its applier read, by writer (the drainBinlog activity's result). */
  binlogRead?: BinlogRead;
  /** The floor: its copy and its index apart. */
  copySeconds?: number;
  indexSeconds?: number;
}

/** The ceiling's bar: a run under load passes while its apply lag stays below this. */
export const CEILING_LAG_SECONDS = 1;

/** A ceiling run finished with its apply lag under the bar. */
export const keptUp = (m: Measure) => m.ok && (m.peakLagSeconds ?? Infinity) < CEILING_LAG_SECONDS;

/** What the runs share: the server, the Temporal client and the standing worker. */
export interface Context {
  server: BenchServer;
  temporal: string;
  client: Client;
  worker: () => ChildProcess | undefined;
  ghost: string;
  work: string;
  runTimeoutSeconds: number;
  revenantFlags: string[];
  /** Where the embedded path keeps its Temporal: a port and a home of its own. */
  embeddedPort: number;
}

/** A sysbench write load; stop() ends it and returns the rate it achieved. */
export interface Load {
  stop(): Promise<number>;
  /** sysbench's own CPU-s so far (read before stop). */
  cpu(): number;
}

export function startLoad(server: BenchServer, rows: number, rate: number, threads: number): Load {
  const p = server.sysbench('run', { rows, rate, threads });
  const cpu0 = cpuSeconds(p.pid!);
  const tps: number[] = [];
  p.stdout!.on('data', (d) => {
    for (const m of String(d).matchAll(/tps: ([\d.]+)/g)) tps.push(Number(m[1]));
  });
  p.stderr!.resume();
  return {
    cpu: () => cpuSeconds(p.pid!) - cpu0,
    async stop() {
      p.kill('SIGTERM');
      await exited(p);
      // The first second is the connections' start.
      const xs = tps.slice(1);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
    },
  };
}

/** sysbench alone, unthrottled, for `seconds`: transactions a second. */
export async function soloRate(server: BenchServer, rows: number, threads: number, seconds: number): Promise<number> {
  const p = server.sysbench('run', { rows, threads, seconds });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.resume();
  await exited(p);
  const m = /transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(out);
  if (!m) throw new Error(`sysbench printed no rate: ${out.slice(-400)}`);
  return Number(m[1]);
}

interface Timed {
  seconds: number;
  peakLag?: number;
  ok: boolean;
  out: string;
}

/** Runs a command, following its output for "Lag: x" figures; wall time and the peak. */
async function timed(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutSeconds: number,
  lagRe?: RegExp,
  stopAboveLag = Infinity,
): Promise<Timed> {
  const started = Date.now();
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let peakLag: number | undefined;
  let stopped = false;
  const watch = (d: Buffer) => {
    out += d;
    if (!lagRe) return;
    for (const m of String(d).matchAll(lagRe)) peakLag = Math.max(peakLag ?? 0, Number(m[1]));
    // The ceiling search: a run whose lag passed the bar has failed already.
    if ((peakLag ?? 0) > stopAboveLag && !stopped) {
      stopped = true;
      child.kill('SIGKILL');
    }
  };
  child.stdout!.on('data', watch);
  child.stderr!.on('data', watch);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutSeconds * 1000);
  const code = await exited(child);
  clearTimeout(timer);
  if (timedOut) out += `\ndid not finish within ${timeoutSeconds}s (stopped)`;
  if (stopped) out += `\nstopped: apply lag above ${stopAboveLag}s`;
  // REVENANT_BENCH_OUTPUT=FILE keeps every run's whole output (RESULTS keeps a failure's tail).
  const kept = process.env.REVENANT_BENCH_OUTPUT;
  if (kept) appendFileSync(kept, `==== ${new Date(started).toISOString()} ${cmd} ${args.join(' ')}\n${out}\n`);
  return { seconds: (Date.now() - started) / 1000, peakLag, ok: code === 0 && !timedOut && !stopped, out };
}

async function secondsOf(work: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await work();
  return (Date.now() - started) / 1000;
}

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

/** The binlog the migration's applier read, by writer: from its drainBinlog activity's result. */
export function applierRead(history: History): BinlogRead | undefined {
  const drains = new Set<string>();
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'drainBinlog') drains.add(String(e.eventId));
    const done = e.activityTaskCompletedEventAttributes;
    const payload = done?.result?.payloads?.[0];
    if (done && payload && drains.has(String(done.scheduledEventId))) {
      const result = defaultPayloadConverter.fromPayload<{ binlogRead?: BinlogRead }>(payload);
      if (result?.binlogRead) return result.binlogRead;
    }
  }
  return undefined;
}

/** All the binlog an applier read, in bytes (NaN: not reported). */
export function binlogReadBytes(read: BinlogRead | undefined): number {
  return read ? read.source + read.copy + read.applier + read.changelog + read.other : NaN;
}

/** The copy's chunks' share of the binlog an applier read, in percent. */
export function copyShare(read: BinlogRead | undefined): number {
  const total = binlogReadBytes(read);
  return read && total > 0 ? (100 * read.copy) / total : NaN;
}

/** Seconds per activity type, scheduled to closed, summed; and a one-line timeline for the log. */
export function activityTimes(history: History): { phases: Record<string, number>; line: string } {
  const seconds = (t: any) => Number(t?.seconds ?? 0) + Number(t?.nanos ?? 0) / 1e9;
  const events = history.events ?? [];
  const first = seconds(events[0]?.eventTime);
  const scheduled = new Map<string, { name: string; at: number }>();
  const phases: Record<string, number> = {};
  const out: string[] = [];
  for (const e of events) {
    const at = seconds(e.eventTime);
    if (e.activityTaskScheduledEventAttributes) {
      scheduled.set(String(e.eventId), { name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
    }
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    const s = closed ? scheduled.get(String(closed.scheduledEventId)) : undefined;
    if (s) {
      phases[s.name] = (phases[s.name] ?? 0) + (at - s.at);
      out.push(`${s.name} ${(s.at - first).toFixed(2)}+${(at - s.at).toFixed(2)}`);
    }
  }
  phases.workflow = seconds(events[events.length - 1]?.eventTime) - first;
  return { phases, line: `${out.join(', ')}; closed at ${phases.workflow.toFixed(2)} s` };
}

export interface RunOptions {
  rows: number;
  /** Write load: rate 0 runs idle. */
  rate: number;
  threads: number;
  /** The ceiling search stops a run as soon as its apply lag passes this. */
  stopAboveLag?: number;
  timeoutSeconds?: number;
  /** revenant: extra migrate flags for this run. */
  flags?: string[];
  /** How the table is put back first (default: from its base copy). */
  restore?: Restore;
}

/** How a run finds its table: from its base copy, from the old table the last tool kept, or as it is. */
type Restore = 'base' | 'old' | 'none';

async function putBack(server: BenchServer, how: Restore): Promise<void> {
  if (how === 'base') await server.restore();
  else if (how === 'old') await server.restoreFromOld();
}

/** The benchmark's migration: one table, one server. */
const workflowHandle = (ctx: Context) =>
  ctx.client.workflow.getHandle(migrationWorkflowId({ host: '127.0.0.1', port: ctx.server.port }, DB, TABLE));

/** One run of `tool`: the table restored first, the load started, the tool run, the load stopped. */
export async function runTool(ctx: Context, tool: Tool, o: RunOptions): Promise<Measure> {
  const { server } = ctx;
  await putBack(server, o.restore ?? 'base');
  const load = o.rate > 0 ? startLoad(server, o.rows, o.rate, o.threads) : undefined;
  if (load) await sleep(2000);
  const serverCpu0 = server.cpu();
  const worker = ctx.worker();
  const workerCpu0 = worker ? cpuSeconds(worker.pid!) : NaN;
  const timeout = o.timeoutSeconds ?? ctx.runTimeoutSeconds;
  let m: Omit<Measure, 'serverCpu'>;
  let achievedTps: number | undefined;
  try {
    m = await runToolBody(ctx, tool, o, timeout);
  } finally {
    if (load) achievedTps = await load.stop();
  }
  const measure: Measure = { ...m, serverCpu: server.cpu() - serverCpu0, achievedTps };
  if (tool === 'revenant' || tool === 'revenant-default')
    measure.workerCpu = worker ? cpuSeconds(worker.pid!) - workerCpu0 : undefined;
  return measure;
}

async function runToolBody(
  ctx: Context,
  tool: Tool,
  o: RunOptions,
  timeout: number,
): Promise<Omit<Measure, 'serverCpu'>> {
  const { server } = ctx;
  const base = { tool, rows: o.rows, rate: o.rate };
  const lagRe = /Lag: (\d+(?:\.\d+)?)s/g;
  switch (tool) {
    case 'alter-copy':
    case 'alter-inplace': {
      // INPLACE with FORCE: a rebuild in place. An ADD COLUMN alone is INSTANT on both servers,
      // and MariaDB reads ALGORITHM=INPLACE as "INPLACE or better", so without FORCE it measures nothing.
      const algorithm = tool === 'alter-copy' ? 'ALGORITHM=COPY' : 'FORCE, ALGORITHM=INPLACE';
      try {
        return {
          ...base,
          seconds: await secondsOf(() => server.sql(`ALTER TABLE ${TABLE} ${ALTER}, ${algorithm}`, DB)),
          ok: true,
        };
      } catch (e) {
        return { ...base, seconds: NaN, ok: false, note: String((e as Error).message) };
      }
    }
    case 'pt-osc': {
      const r = await timed(
        'pt-online-schema-change',
        [
          '--alter',
          ALTER,
          `D=${DB},t=${TABLE},h=127.0.0.1,P=${server.port},u=revenant,p=revenant`,
          '--execute',
          '--recursion-method=none',
          '--no-check-replication-filters',
          '--no-drop-old-table',
          '--set-vars',
          'lock_wait_timeout=5',
        ],
        process.env,
        timeout,
      );
      return { ...base, seconds: r.seconds, ok: r.ok, note: r.ok ? undefined : r.out.slice(-400) };
    }
    case 'gh-ost': {
      const r = await timed(
        ctx.ghost,
        [
          '--host=127.0.0.1',
          `--port=${server.port}`,
          '--user=revenant',
          '--password=revenant',
          `--database=${DB}`,
          `--table=${TABLE}`,
          `--alter=${ALTER}`,
          '--allow-on-master',
          '--assume-rbr',
          '--initially-drop-ghost-table',
          '--initially-drop-old-table',
          '--chunk-size=1000',
          '--default-retries=120',
          '--skip-metadata-lock-check',
          '--initially-drop-socket-file',
          '--execute',
        ],
        process.env,
        timeout,
        lagRe,
        o.stopAboveLag,
      );
      return {
        ...base,
        seconds: r.seconds,
        peakLagSeconds: r.peakLag,
        ok: r.ok,
        note: r.ok ? undefined : r.out.slice(-400),
      };
    }
    case 'revenant':
    case 'revenant-default':
    case 'revenant-embedded': {
      const embedded = tool === 'revenant-embedded';
      const args = [
        join(ROOT, 'bin', 'revenant.js'),
        'migrate',
        ...migrateFlags(server.port),
        '--initially-drop-old-table',
        '--execute',
        ...(tool === 'revenant-default' ? [] : ['--checksum=false']),
        ...(embedded ? [] : ['--no-search-attributes']),
        ...ctx.revenantFlags,
        ...(o.flags ?? []),
      ];
      // The standing worker has the password; the embedded path is the user's laptop: nothing
      // configured but the password, its Temporal and worker its own.
      const env: NodeJS.ProcessEnv = embedded
        ? {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            REVENANT_MYSQL_PASSWORD: 'revenant',
            REVENANT_HOME: join(ctx.work, 'embedded'),
            REVENANT_EMBEDDED_TEMPORAL_PORT: String(ctx.embeddedPort),
            MALLOC_ARENA_MAX: '2',
          }
        : { ...process.env, TEMPORAL_ADDRESS: ctx.temporal, REVENANT_TASK_QUEUE: 'bench' };
      const r = await timed('node', args, env, timeout, lagRe, o.stopAboveLag);
      const m: Omit<Measure, 'serverCpu'> = {
        ...base,
        seconds: r.seconds,
        peakLagSeconds: r.peakLag ?? 0,
        ok: r.ok,
        note: r.ok ? undefined : r.out.slice(-400),
      };
      if (embedded) return m;
      const h = workflowHandle(ctx);
      // A stopped CLI leaves its migration running: end it before the table is restored.
      if (!r.ok) await h.terminate('benchmark run stopped').catch(() => {});
      const history = await h.fetchHistory();
      const times = activityTimes(history);
      console.log(`bench:   revenant's phases: ${times.line}`);
      const binlogRead = applierRead(history);
      if (binlogRead)
        console.log(
          `bench:   revenant's applier read ${JSON.stringify(binlogRead)} binlog bytes: the copy's ${copyShare(binlogRead).toFixed(1)} %`,
        );
      return { ...m, historyEvents: history.events?.length ?? 0, phases: times.phases, binlogRead };
    }
  }
}

/** Stops the embedded Temporal dev server the embedded runs started, and forgets its state. */
export async function stopEmbedded(ctx: Context): Promise<void> {
  const home = join(ctx.work, 'embedded');
  if (!existsSync(home)) return;
  const p = spawn('node', [join(ROOT, 'bin', 'revenant.js'), 'server', 'stop'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REVENANT_HOME: home,
      REVENANT_EMBEDDED_TEMPORAL_PORT: String(ctx.embeddedPort),
    },
    stdio: 'ignore',
  });
  await exited(p);
  rmSync(home, { recursive: true, force: true });
}

/**
 * What any online copy of this table costs on this server, measured without a tool: the ghost's
 * shape (the ALTER done, the secondary index `k_1` left out as revenant defers it), filled by one
 * INSERT … SELECT … (shared lock) of every row, binlogged as an online copy must be for the
 * replicas, then the index added. With `parallel`, also the same copy as two statements at once
 * over the two halves of the key: whether a second copier can help on this server.
 */
export async function measureFloor(
  ctx: Context,
  o: { rows: number; rate: number; threads: number; parallel: boolean; restore: Restore },
): Promise<Measure & { parallelCopySeconds?: number }> {
  const { server } = ctx;
  await putBack(server, o.restore);
  const shape = () =>
    server.sql(
      `DROP TABLE IF EXISTS bench_floor; CREATE TABLE bench_floor LIKE ${TABLE};
    ALTER TABLE bench_floor DROP INDEX k_1, ${ALTER}`,
      DB,
    );
  const fill = (where: string) =>
    server.sql(
      `START TRANSACTION; INSERT INTO bench_floor (id, k, c, pad) SELECT id, k, c, pad FROM ${TABLE}
    ${where} ${server.shareLock}; COMMIT`,
      DB,
    );
  await shape();
  const load = o.rate > 0 ? startLoad(server, o.rows, o.rate, o.threads) : undefined;
  if (load) await sleep(2000);
  const cpu0 = server.cpu();
  let copy: number;
  let index: number;
  let achieved: number | undefined;
  try {
    copy = await secondsOf(() => fill(''));
    index = await secondsOf(() => server.sql('ALTER TABLE bench_floor ADD INDEX k_1 (k)', DB));
  } finally {
    if (load) achieved = await load.stop();
  }
  const serverCpu = server.cpu() - cpu0;
  let parallelCopySeconds: number | undefined;
  if (o.parallel) {
    await shape();
    const [{ half }] = await server.sql(`SELECT (MIN(id) + MAX(id)) DIV 2 AS half FROM ${TABLE}`, DB);
    parallelCopySeconds = await secondsOf(() =>
      Promise.all([fill(`WHERE id <= ${Number(half)}`), fill(`WHERE id > ${Number(half)}`)]),
    );
  }
  await server.sql('DROP TABLE bench_floor', DB);
  await server.purgeBinlogs();
  return {
    tool: 'floor',
    rows: o.rows,
    rate: o.rate,
    seconds: copy + index,
    copySeconds: copy,
    indexSeconds: index,
    ok: true,
    serverCpu,
    achievedTps: achieved,
    parallelCopySeconds,
  };
}

/** The CPU a load took: the server's, sysbench's and (beside a migration) the worker's, over its transactions. */
export interface LoadCpu {
  transactions: number;
  serverCpu: number;
  sysbenchCpu: number;
  workerCpu: number;
}

export interface ApplyCost {
  events: number;
  workerCpu: number;
  achievedTps: number;
  peakLagSeconds: number;
  ok: boolean;
  note?: string;
  /** The same load with no migration. */
  alone?: LoadCpu;
  /** The load with the applier following it (the worker until it caught up). */
  applied?: LoadCpu;
}

type PacedLoad = { rows: number; rate: number; threads: number; seconds: number };

/** sysbench at `rate` for `seconds`: the rate it achieved and its own CPU-s. */
async function runLoad(server: BenchServer, o: PacedLoad): Promise<{ tps: number; sysbenchCpu: number }> {
  const load = startLoad(server, o.rows, o.rate, o.threads);
  await sleep(o.seconds * 1000);
  const sysbenchCpu = load.cpu();
  return { tps: await load.stop(), sysbenchCpu };
}

/** sysbench at `rate` alone for `seconds`: the machine's CPU per transaction without a migration. */
async function loadCost(server: BenchServer, o: PacedLoad): Promise<LoadCpu> {
  const serverCpu0 = server.cpu();
  const { tps, sysbenchCpu } = await runLoad(server, o);
  return { transactions: tps * o.seconds, serverCpu: server.cpu() - serverCpu0, sysbenchCpu, workerCpu: 0 };
}

/**
 * The worker's cost of applying row events, apart from the copy's: a revenant migration whose
 * copy has finished and whose cut-over is postponed, then `seconds` of sysbench writes at `rate`;
 * the worker's CPU and the events it applied over that time, until it has caught up.
 */
export async function measureApplyCost(ctx: Context, o: PacedLoad): Promise<ApplyCost> {
  const { server } = ctx;
  await server.restore();
  // The same load alone first: what a transaction costs the machine without the applier.
  const alone = await loadCost(server, o);
  mkdirSync(ctx.work, { recursive: true });
  const flag = join(ctx.work, 'postpone-flag');
  writeFileSync(flag, '');
  const h = workflowHandle(ctx);
  const cli = runToolBody(
    ctx,
    'revenant',
    { rows: o.rows, rate: 0, threads: o.threads, flags: ['--postpone-cut-over-flag-file', flag] },
    ctx.runTimeoutSeconds,
  );
  const status = async () => h.query(statusQuery);
  try {
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error('the migration did not reach its postponed cut-over within 2 minutes');
      const s = await status().catch(() => undefined);
      if (s?.phase === 'postponed') break;
      await sleep(200);
    }
    const worker = ctx.worker()!;
    const before = await status();
    const cpu0 = cpuSeconds(worker.pid!);
    const serverCpu0 = server.cpu();
    const { tps: achievedTps, sysbenchCpu } = await runLoad(server, o);
    // Caught up: the applied count stops moving and the lag reads 0, for longer than the
    // worker gathers progress reports (a count read within one window is stale, not final).
    const settledMs = MIN_WINDOW_MS + 2_000;
    let s = await status();
    let last = s.eventsApplied;
    let stillSince = Date.now();
    let peakLag = s.lagSeconds;
    for (let i = 0; i < 300 && !(s.lagSeconds === 0 && Date.now() - stillSince >= settledMs); i++) {
      await sleep(500);
      s = await status();
      peakLag = Math.max(peakLag, s.lagSeconds);
      if (s.eventsApplied !== last || s.lagSeconds !== 0) stillSince = Date.now();
      last = s.eventsApplied;
    }
    const workerCpu = cpuSeconds(worker.pid!) - cpu0;
    return {
      events: s.eventsApplied - before.eventsApplied,
      workerCpu,
      achievedTps,
      peakLagSeconds: peakLag,
      ok: true,
      alone,
      applied: {
        transactions: achievedTps * o.seconds,
        serverCpu: server.cpu() - serverCpu0,
        sysbenchCpu,
        workerCpu,
      },
    };
  } catch (e) {
    return {
      events: 0,
      workerCpu: NaN,
      achievedTps: NaN,
      peakLagSeconds: NaN,
      ok: false,
      note: String((e as Error).message),
      alone,
    };
  } finally {
    rmSync(flag, { force: true });
    const r = await cli;
    if (!r.ok) await h.terminate('benchmark run stopped').catch(() => {});
  }
}
