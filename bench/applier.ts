// The applier's own rate, in row events a second, for two builds side by side in one run: a
// commit (default: HEAD) and a baseline commit (default: the last one whose applier sent its
// batches as multi-statement queries, before the security issue made every statement travel
// alone). Each is built from git in a folder of its own, so a build in the work tree while the
// benchmark runs disturbs neither.
//
// For each server, each build, several runs, alternating: a sysbench table; a migration of it
// started by that build's CLI, served by that build's worker, its cut-over postponed; once the
// copy is done, a throttle flag holds the applier while sysbench writes as fast as it can for a
// while; then a sentinel row is written, the flag removed, and the time the ghost takes to hold
// the sentinel is the time the applier took to apply the backlog. Events: the status's count of
// applied events, before and after. Only the ratio of the two builds is judged.
//   node dist/bench/applier.js [--servers mariadb,mysql] [--rows 200000] [--seconds 10] [--runs 3]
//                              [--threads 8] [--baseline 001bbdf] [--current HEAD] [--out bench/RESULTS-applier.md]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { migrationWorkflowId } from '../model/types';
import { ALTER, BenchServer, DB, exited, migrateFlags, ROOT, sleep, TABLE, type ServerKind } from './server';
import { statusQuery } from '../model/messages';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SERVERS = arg('servers', 'mariadb,mysql').split(',') as ServerKind[];
const ROWS = Number(arg('rows', '200000'));
const LOAD_SECONDS = Number(arg('seconds', '10'));
const RUNS = Number(arg('runs', '3'));
const THREADS = Number(arg('threads', '8'));
const BASELINE = arg('baseline', '001bbdf');
const CURRENT = arg('current', 'HEAD');
const WORK = arg('work', '/tmp/revenant-bench-applier');
const OUT = arg('out', join(ROOT, 'bench', 'RESULTS-applier.md'));
const TEMPORAL = '127.0.0.1:24733';
/** The sentinel's key: past every key sysbench writes. */
const SENTINEL_ID = 2_000_000_000;

interface Build {
  name: 'baseline' | 'current';
  /** The folder holding its bin/revenant.js. */
  root: string;
  label: string;
}

interface Run {
  server: ServerKind;
  build: Build['name'];
  events: number;
  drainSeconds: number;
  eventsPerSecond: number;
  loadTps: number;
}

function sh(cmd: string, cwd = ROOT): string {
  return execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A commit's source from git, built in a folder of its own with the repository's modules. */
function buildAt(name: Build['name'], rev: string, what: string): Build {
  const commit = sh(`git rev-parse --short ${rev}^{commit}`).trim();
  const root = join(WORK, `build-${commit}`);
  if (!existsSync(join(root, 'dist', 'client', 'cli.js'))) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    sh(`git archive ${commit} | tar -x -C ${root}`);
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    console.log(`applier bench: building ${commit}`);
    sh('npm run --silent build', root);
  }
  return { name, root, label: `${commit} (${what})` };
}

function startWorker(build: Build, queue: string): ChildProcess {
  return spawn('node', [join(build.root, 'bin', 'revenant.js'), 'worker'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: TEMPORAL,
      REVENANT_TASK_QUEUE: queue,
      REVENANT_MYSQL_PASSWORD: 'revenant',
      REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY: '1',
      REVENANT_LOG_LEVEL: 'WARN',
    },
    stdio: 'ignore',
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function oneRun(server: BenchServer, client: Client, build: Build, run: number): Promise<Run> {
  await server.restore();
  const work = join(WORK, `${server.kind}-${build.name}-${run}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const postpone = join(work, 'postpone');
  const throttle = join(work, 'throttle');
  writeFileSync(postpone, '');
  const queue = `bench-applier-${build.name}`;
  const worker = startWorker(build, queue);
  const cli = spawn(
    'node',
    [
      join(build.root, 'bin', 'revenant.js'),
      'migrate',
      ...migrateFlags(server.port),
      '--password',
      'revenant',
      '--checksum=false',
      '--postpone-cut-over-flag-file',
      postpone,
      '--throttle-flag-file',
      throttle,
      '--execute',
    ],
    { env: { ...process.env, TEMPORAL_ADDRESS: TEMPORAL, REVENANT_TASK_QUEUE: queue }, stdio: 'ignore' },
  );
  const handle = client.workflow.getHandle(migrationWorkflowId({ host: '127.0.0.1', port: server.port }, DB, TABLE));
  const status = () => handle.query(statusQuery);
  try {
    await until(
      'the postponed cut-over',
      async () => ((await status()).phase === 'postponed' ? true : undefined),
      300_000,
    );
    writeFileSync(throttle, '');
    await until('the applier held', async () => ((await status()).throttled ? true : undefined), 30_000);
    const before = (await status()).eventsApplied;
    const load = server.sysbench('run', { rows: ROWS, threads: THREADS, seconds: LOAD_SECONDS });
    let out = '';
    load.stdout!.on('data', (d) => (out += d));
    load.stderr!.resume();
    await exited(load);
    const loadTps = Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1] ?? NaN);
    await server.sql(`REPLACE INTO ${TABLE} (id, k, c, pad) VALUES (${SENTINEL_ID}, 0, 'sentinel', 'sentinel')`, DB);
    const released = Date.now();
    rmSync(throttle);
    await until(
      'the sentinel in the ghost',
      async () =>
        (await server.sql(`SELECT 1 FROM _${TABLE}_gho WHERE id = ${SENTINEL_ID}`, DB)).length ? true : undefined,
      600_000,
    );
    const drainSeconds = (Date.now() - released) / 1000;
    // The count reaches the status with the applier's next report.
    const events = await until(
      'the applied count',
      async () => {
        const s = await status();
        return s.eventsApplied > before && s.lagSeconds === 0 ? s.eventsApplied - before : undefined;
      },
      120_000,
    );
    await sleep(3000);
    const settled = (await status()).eventsApplied - before;
    return {
      server: server.kind,
      build: build.name,
      events: Math.max(events, settled),
      drainSeconds,
      eventsPerSecond: Math.max(events, settled) / drainSeconds,
      loadTps,
    };
  } finally {
    rmSync(postpone, { force: true });
    rmSync(throttle, { force: true });
    await handle.terminate('applier benchmark run over').catch(() => {});
    cli.kill('SIGTERM');
    await exited(cli);
    worker.kill('SIGTERM');
    await exited(worker);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const baseline = buildAt('baseline', BASELINE, 'multi-statement batches');
  const current = buildAt('current', CURRENT, 'single statements, updates grouped');
  sh(`bash scripts/temporal.sh start ${join(WORK, 'temporal')} 24733 24734`);
  const connection = await Connection.connect({ address: TEMPORAL });
  const client = new Client({ connection });
  const runs: Run[] = [];
  const versions: string[] = [];
  try {
    for (const kind of SERVERS) {
      const server = new BenchServer(kind, kind === 'mysql' ? 24806 : 24706, join(WORK, kind));
      await server.start();
      versions.push(server.version);
      try {
        await server.sql(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
        await server.prepareTable(ROWS, true);
        for (let i = 0; i < RUNS; i++) {
          for (const build of i % 2 ? [current, baseline] : [baseline, current]) {
            const r = await oneRun(server, client, build, i);
            runs.push(r);
            console.log(
              `applier bench: ${server.name}, ${build.name}: ${r.events} events in ${r.drainSeconds.toFixed(2)} s = ` +
                `${r.eventsPerSecond.toFixed(0)} events/s (backlog written at ${r.loadTps.toFixed(0)} tx/s)`,
            );
          }
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await connection.close();
    sh(`bash scripts/temporal.sh stop ${join(WORK, 'temporal')}`);
  }
  const lines = [
    '# The applier alone: row events a second, single statements against the multi-statement baseline',
    '',
    `Command: \`npm run bench:applier -- --servers ${SERVERS.join(',')} --rows ${ROWS} --seconds ${LOAD_SECONDS} --runs ${RUNS} --threads ${THREADS} --baseline ${BASELINE}\` (bench/applier.ts), ${new Date().toISOString().slice(0, 10)}.`,
    `Servers: ${versions.join('; ')}. Node ${process.version}.`,
    '',
    `Each run: a ${ROWS.toLocaleString('en')}-row sysbench table, a migration (\`${ALTER}\`) with its cut-over postponed; once`,
    `copied, a throttle flag holds the applier while sysbench \`oltp_write_only\` writes for ${LOAD_SECONDS} s with ${THREADS}`,
    "threads; a sentinel row is written and the flag removed; the applier's rate is the events it applied over the",
    'time the ghost took to hold the sentinel. The two builds alternate, each with its own worker and CLI.',
    '',
    `- baseline: ${baseline.label}`,
    `- current: ${current.label}`,
    '',
    '| server | build | runs | events (median) | drain (s, median) | events/s (median) | current ÷ baseline |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const kind of SERVERS) {
    const of = (b: Build['name']) => runs.filter((r) => r.server === kind && r.build === b);
    const base = median(of('baseline').map((r) => r.eventsPerSecond));
    for (const b of ['baseline', 'current'] as const) {
      const rs = of(b);
      const rate = median(rs.map((r) => r.eventsPerSecond));
      lines.push(
        `| ${kind === 'mysql' ? 'MySQL' : 'MariaDB'} | ${b} | ${rs.length} | ${median(rs.map((r) => r.events)).toFixed(0)} | ` +
          `${median(rs.map((r) => r.drainSeconds)).toFixed(2)} | ${rate.toFixed(0)} | ${b === 'current' ? `${(rate / base).toFixed(2)}×` : '1.00×'} |`,
      );
    }
  }
  lines.push(
    '',
    'Every run:',
    '',
    '| server | build | events | drain (s) | events/s | load (tx/s) |',
    '|---|---|---|---|---|---|',
  );
  for (const r of runs)
    lines.push(
      `| ${r.server} | ${r.build} | ${r.events} | ${r.drainSeconds.toFixed(2)} | ${r.eventsPerSecond.toFixed(0)} | ${r.loadTps.toFixed(0)} |`,
    );
  writeFileSync(OUT, `${lines.join('\n')}\n`);
  console.log(`applier bench: written ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
