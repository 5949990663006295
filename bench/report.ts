// bench/RESULTS.md from one benchmark run: for each server its tools side by side, the floor, the
// user's path, the costs per unit of work, the ceiling and the large table; then the issue's
// targets with a column per server, judged only on measured, non-zero figures. The raw
// measurements go beside it as JSON, for a look at what the summary leaves out.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { ROOT, type ServerKind } from './server';
import {
  type ApplyCost,
  binlogReadBytes,
  copyShare,
  keptUp,
  TOOL_LABEL,
  type LoadCpu,
  type Measure,
  type Tool,
} from './tools';

export interface ServerResult {
  kind: ServerKind;
  name: string;
  version: string;
  bufferPoolMb: number;
  rows: number;
  largeRows: number;
  runs: number;
  rate: number;
  tools: Tool[];
  ghostNote: string;
  autoincLockMode: string;
  tableMb: number;
  largeTableMb: number;
  solo: { threads: number; rate: number }[];
  soloMax: number;
  soloThreads: number;
  /** The RUNS runs of each tool and of the floor, idle and under the paced load; the warm embedded runs. */
  main: Measure[];
  /** The floor's copy as two statements at once (idle). */
  parallelFloor: number[];
  embeddedCold?: Measure;
  applyCost?: ApplyCost & { rate: number };
  ceiling: { tool: Tool; fraction: number; rate: number; measure: Measure }[];
  large: Measure[];
  /** The standing worker's peak RSS (MB) over each group of runs, each group a worker of its own. */
  rss: { main: number; ceiling: number; large: number };
}

export const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const rows = (n: number) => n.toLocaleString('en');

/** The figures the targets and the tables are read from, for one server. */
function figures(r: ServerResult) {
  const ok = (tool: Tool | 'floor', rate: number) => r.main.filter((m) => m.tool === tool && m.rate === rate && m.ok);
  const med = (tool: Tool | 'floor', rate: number, f: (m: Measure) => number | undefined = (m) => m.seconds) =>
    median(ok(tool, rate).map((m) => f(m) ?? NaN));
  const revenantRuns = [...r.main, ...r.large, ...r.ceiling.map((c) => c.measure)].filter(
    (m) => m.tool === 'revenant' || m.tool === 'revenant-default',
  );
  const histories = revenantRuns.map((m) => m.historyEvents).filter((x): x is number => x !== undefined && x > 0);
  /** The highest fraction `tool` kept up at (0: none). */
  const passed = (tool: Tool) =>
    Math.max(0, ...r.ceiling.filter((c) => c.tool === tool && keptUp(c.measure)).map((c) => c.fraction));
  /**
   * The highest load `tool` kept up under, as sysbench achieved it, in percent of the solo
   * maximum (0: none). A run asks sysbench for a rate; on a saturated machine sysbench falls
   * short of it, and the migration kept up with what was written, not with what was asked.
   */
  const achieved = (tool: Tool) =>
    Math.max(
      0,
      ...r.ceiling
        .filter((c) => c.tool === tool && keptUp(c.measure))
        .map((c) => Math.min(c.fraction, (100 * (c.measure.achievedTps ?? c.rate)) / r.soloMax)),
    );
  const large = (tool: Tool | 'floor') => r.large.find((m) => m.tool === tool);
  const scale = r.largeRows / r.rows;
  const checksumShare = median(
    ok('revenant-default', 0).map((m) => ratio(m.phases?.checksumTables ?? NaN, m.phases?.copyRows ?? NaN)),
  );
  const workerCpuPerMillion = med('revenant', 0, (m) =>
    m.workerCpu !== undefined ? m.workerCpu / (m.rows / 1e6) : undefined,
  );
  const largeRevenant = large('revenant');
  return {
    med,
    ok,
    large,
    scale,
    histories,
    passed,
    achieved,
    checksumShare,
    workerCpuPerMillion,
    revenantIdle: med('revenant', 0),
    revenantLoad: med('revenant', r.rate),
    floorIdle: med('floor', 0),
    floorLoad: med('floor', r.rate),
    ghostIdle: med('gh-ost', 0),
    largeRatio: largeRevenant?.ok ? ratio(largeRevenant.seconds, scale * med('revenant', 0)) : NaN,
    largeWorkerCpuPerMillion:
      largeRevenant?.ok && largeRevenant.workerCpu !== undefined
        ? largeRevenant.workerCpu / (largeRevenant.rows / 1e6)
        : NaN,
  };
}

function serverSection(r: ServerResult): string[] {
  const f = figures(r);
  const L: string[] = [];
  L.push(
    `## ${r.name}`,
    '',
    `Server: ${r.version}; InnoDB buffer pool ${fmt(r.bufferPoolMb, 0)} MB; innodb_autoinc_lock_mode=${r.autoincLockMode}; ` +
      `ROW binlog, FULL images, sync_binlog=0, innodb_flush_log_at_trx_commit=2 (scripts/${r.kind}.sh).`,
    '',
    `Tables: sysbench \`sbtest1\`, ${rows(r.rows)} rows (${fmt(r.tableMb, 0)} MB, inside the buffer pool) and ${
      r.largeRows > 0
        ? `${rows(r.largeRows)} rows (${fmt(r.largeTableMb, 0)} MB, ` +
          `${r.largeTableMb > r.bufferPoolMb ? 'larger than' : 'inside'} the buffer pool)`
        : 'no larger table'
    }. ALTER: \`ADD COLUMN bench_col INT NOT NULL DEFAULT 0\`.`,
    '',
    `gh-ost: ${r.ghostNote}.`,
    '',
    ...r.tools
      .filter((t) => {
        const runs = r.main.filter((m) => m.tool === t);
        return runs.length > 0 && runs.every((m) => !m.ok);
      })
      .map(
        (t) =>
          `**${TOOL_LABEL[t]} cannot run on this server**: every run failed, e.g. \`${(r.main.find((m) => m.tool === t)?.note ?? '').replace(/\s+/g, ' ').trim().slice(-240)}\`.\n`,
      ),
    `sysbench \`oltp_write_only\` alone, unthrottled, ${r.solo.map((s) => `${s.threads} threads ${fmt(s.rate, 0)} tx/s`).join(', ')}: ` +
      `the solo maximum is **${fmt(r.soloMax, 0)} tx/s** (${r.soloThreads} threads).`,
    '',
    `### ${rows(r.rows)} rows: medians of ${r.runs} runs, wall time from the command's start to its exit`,
    '',
    `Idle, and under \`sysbench oltp_write_only --threads=4 --rate=${r.rate}\`. Ratios < 1: revenant (\`--checksum=false\`, the judged configuration) is faster.`,
    '',
    '| tool | idle (s) | under load (s) | peak apply lag idle / load (s) | server CPU-s idle | revenant ÷ tool, idle | revenant ÷ tool, load |',
    '|---|---|---|---|---|---|---|',
  );
  const lag = (tool: Tool, rate: number) => {
    const xs = f
      .ok(tool, rate)
      .map((m) => m.peakLagSeconds)
      .filter((x): x is number => x !== undefined);
    return xs.length ? fmt(Math.max(...xs), 2) : 'n/a';
  };
  L.push(
    `| the floor: one logged \`INSERT … SELECT\`, then the index | ${fmt(f.floorIdle, 2)} | ${fmt(f.floorLoad, 2)} | n/a | ${fmt(f.med('floor', 0, (m) => m.serverCpu))} | ` +
      `${fmt(ratio(f.revenantIdle, f.floorIdle), 2)} | ${fmt(ratio(f.revenantLoad, f.floorLoad), 2)} |`,
  );
  for (const tool of r.tools) {
    const idle = f.med(tool, 0);
    const load = f.med(tool, r.rate);
    const failed = r.main.filter((m) => m.tool === tool && !m.ok).length;
    L.push(
      `| ${TOOL_LABEL[tool]}${failed ? ` (${failed} run${failed > 1 ? 's' : ''} failed)` : ''} | ${fmt(idle, 2)} | ${tool === 'revenant-embedded' ? 'not run' : fmt(load, 2)} | ` +
        `${lag(tool, 0)} / ${lag(tool, r.rate)} | ${fmt(f.med(tool, 0, (m) => m.serverCpu))} | ${fmt(ratio(f.revenantIdle, idle), 2)} | ${fmt(ratio(f.revenantLoad, load), 2)} |`,
    );
  }
  const floorRuns = f.ok('floor', 0);
  L.push(
    '',
    `The floor's parts: copy ${fmt(median(floorRuns.map((m) => m.copySeconds ?? NaN)), 2)} s, index ${fmt(median(floorRuns.map((m) => m.indexSeconds ?? NaN)), 2)} s; ` +
      `the same copy as two statements at once over the key's halves ${fmt(median(r.parallelFloor), 2)} s.`,
  );
  if (r.embeddedCold) {
    L.push(
      '',
      `The path a user runs (\`revenant migrate\`, nothing configured): ${fmt(r.embeddedCold.seconds, 2)} s when its Temporal dev server had still to start, ` +
        `${fmt(f.med('revenant-embedded', 0), 2)} s (median) once it runs; the same migration with a standing worker ${fmt(f.revenantIdle, 2)} s, the floor ${fmt(f.floorIdle, 2)} s.`,
    );
  }
  const phaseNames = [
    'inspect',
    'prepare',
    'copyRows',
    'addDeferredIndexes',
    'checksumTables',
    'cutOver',
    'cleanup',
    'workflow',
  ];
  const phaseOf = (tool: Tool, rate: number, name: string) =>
    median(f.ok(tool, rate).map((m) => m.phases?.[name] ?? NaN));
  const phaseKeys = new Set<string>();
  for (const m of [...r.main, ...r.large]) for (const k of Object.keys(m.phases ?? {})) phaseKeys.add(k);
  const names = [
    ...phaseNames.filter((n) => phaseKeys.has(n)),
    ...[...phaseKeys].filter((n) => !phaseNames.includes(n)).sort(),
  ];
  if (names.length) {
    const largeRev = f.large('revenant');
    L.push(
      '',
      "Where revenant's time goes (activity scheduled to closed, medians, seconds; `workflow` is its first event to its last):",
      '',
      `| activity | idle | under load | default (checksum), idle | ${rows(r.largeRows)} rows, idle |`,
      '|---|---|---|---|---|',
      ...names.map(
        (n) =>
          `| ${n} | ${fmt(phaseOf('revenant', 0, n), 2)} | ${fmt(phaseOf('revenant', r.rate, n), 2)} | ${fmt(phaseOf('revenant-default', 0, n), 2)} | ` +
          `${fmt(largeRev?.phases?.[n] ?? NaN, 2)} |`,
      ),
    );
  }
  const ac = r.applyCost;
  // The highest ceiling run revenant kept up at: what the copy's share of the binlog is under the heaviest load it took.
  const ceilingTop = r.ceiling.filter((c) => c.tool === 'revenant' && keptUp(c.measure) && c.measure.binlogRead).pop();
  const serverExtra = f.med('revenant', 0, (m) => m.serverCpu) - f.med('floor', 0, (m) => m.serverCpu);
  L.push(
    '',
    '### Costs per unit of work',
    '',
    `- Worker CPU per million rows copied (idle, the whole migration): ${fmt(f.workerCpuPerMillion, 2)} CPU-s at ${rows(r.rows)} rows` +
      `${Number.isFinite(f.largeWorkerCpuPerMillion) ? `, ${fmt(f.largeWorkerCpuPerMillion, 2)} at ${rows(r.largeRows)}` : ''}.`,
    `- Worker CPU per hundred thousand row events applied: ${
      ac?.ok && ac.events > 0
        ? `${fmt(ac.workerCpu / (ac.events / 1e5), 2)} CPU-s ` +
          `(${rows(ac.events)} events in ${fmt(ac.workerCpu, 1)} CPU-s, the copy done and the cut-over postponed, sysbench at ${ac.rate} tx/s for 20 s, achieved ${fmt(ac.achievedTps, 0)}; peak lag ${fmt(ac.peakLagSeconds, 2)} s)`
        : `not measured${ac?.note ? ` (${ac.note})` : ''}`
    }.`,
    `- ${machineShare(ac, r.soloMax)}`,
    `- Server CPU (idle, ${rows(r.rows)} rows): revenant ${fmt(f.med('revenant', 0, (m) => m.serverCpu))} CPU-s, the floor ${fmt(f.med('floor', 0, (m) => m.serverCpu))}, ` +
      `so ${fmt(serverExtra)} CPU-s extra; gh-ost ${fmt(f.med('gh-ost', 0, (m) => m.serverCpu))}, ALTER COPY ${fmt(f.med('alter-copy', 0, (m) => m.serverCpu))}.`,
    `- Worker peak RSS: ${fmt(r.rss.main, 0)} MB over the ${rows(r.rows)}-row runs, ${fmt(r.rss.ceiling, 0)} MB over the ceiling runs, ` +
      `${fmt(r.rss.large, 0)} MB over the ${rows(r.largeRows)}-row run (a worker of its own for each).`,
    `- Workflow history: ${f.histories.length ? `${Math.min(...f.histories)}–${Math.max(...f.histories)}` : 'n/a'} events over every revenant run.`,
    `- The copy's share of the binlog the applier read (its chunks' row events, read only to be skipped; median of the runs): ` +
      `idle ${fmt(
        f.med('revenant', 0, (m) => copyShare(m.binlogRead)),
        1,
      )} %, under ${r.rate} tx/s ${fmt(
        f.med('revenant', r.rate, (m) => copyShare(m.binlogRead)),
        1,
      )} %` +
      `${ceilingTop ? `, at ${ceilingTop.fraction} % of the ceiling ${fmt(copyShare(ceilingTop.measure.binlogRead), 1)} % of ${fmt(binlogReadBytes(ceilingTop.measure.binlogRead) / 1e6, 0)} MB` : ''}.`,
  );
  L.push(
    '',
    `### The ceiling: fractions of the solo maximum (${fmt(r.soloMax, 0)} tx/s, ${r.soloThreads} threads), each run stopped once its apply lag passes 1 s`,
    '',
    'Judged on the rate sysbench achieved beside the migration, not the rate asked of it: on a machine the load saturates, it falls short, and the migration kept up with what was written.',
    '',
    '| tool | fraction | target rate (tx/s) | achieved (tx/s) | achieved ÷ solo maximum | time (s) | peak lag (s) | result |',
    '|---|---|---|---|---|---|---|---|',
    ...r.ceiling.map(
      (c) =>
        `| ${c.tool} | ${c.fraction} % | ${c.rate} | ${fmt(c.measure.achievedTps ?? NaN, 0)} | ` +
        `${fmt((100 * (c.measure.achievedTps ?? NaN)) / r.soloMax, 0)} % | ${fmt(c.measure.seconds)} | ` +
        `${fmt(c.measure.peakLagSeconds ?? NaN, 2)} | ${keptUp(c.measure) ? 'passed' : `failed: ${(c.measure.note ?? '').split('\n').pop()}`} |`,
    ),
  );
  if (r.large.length) {
    L.push(
      '',
      `### ${rows(r.largeRows)} rows, idle, once each`,
      '',
      '| tool | time (s) | ÷ (10 × its 1M-row median) | server CPU-s | note |',
      '|---|---|---|---|---|',
      ...r.large.map(
        (m) =>
          `| ${m.tool === 'floor' ? 'the floor (copy + index)' : TOOL_LABEL[m.tool as Tool]} | ${fmt(m.seconds)} | ` +
          `${fmt(ratio(m.seconds, f.scale * f.med(m.tool, 0)), 2)} | ${fmt(m.serverCpu)} | ${m.ok ? (m.tool === 'floor' ? `copy ${fmt(m.copySeconds ?? NaN)} s, index ${fmt(m.indexSeconds ?? NaN)} s` : '') : `failed: ${(m.note ?? '').replace(/\n/g, ' ').slice(-200)}`} |`,
      ),
    );
  }
  return L;
}

type Judged = { measured: string; met: boolean | undefined };

function targets(r: ServerResult): Record<string, Judged> {
  const f = figures(r);
  const judge = (value: number, limit: number, show: (x: number) => string, atLeast = false): Judged =>
    Number.isFinite(value) && value > 0
      ? { measured: show(value), met: atLeast ? value >= limit : value <= limit }
      : { measured: 'not measured', met: undefined };
  const times = (x: number) => `${x.toFixed(2)}×`;
  const bestFraction = f.passed('revenant');
  const bestAchieved = f.achieved('revenant');
  const rssBoth = [r.rss.main, r.rss.large];
  return {
    'idle, revenant ÷ the floor (copy + index) ≤ 1.10': judge(ratio(f.revenantIdle, f.floorIdle), 1.1, times),
    'idle, revenant ÷ gh-ost ≤ 0.33': judge(ratio(f.revenantIdle, f.ghostIdle), 0.33, times),
    [`under ${r.rate} tx/s, revenant ÷ the floor ≤ 1.20`]: judge(ratio(f.revenantLoad, f.floorLoad), 1.2, times),
    "highest rate achieved with apply lag < 1 s ÷ sysbench's solo maximum ≥ 0.75": r.ceiling.some(
      (c) => c.tool === 'revenant',
    )
      ? {
          measured: bestFraction
            ? `${fmt(bestAchieved, 0)} % of ${fmt(r.soloMax, 0)} tx/s (asked ${bestFraction} %)`
            : `below ${r.ceiling.find((c) => c.tool === 'revenant')!.fraction} % of ${fmt(r.soloMax, 0)} tx/s`,
          met: bestAchieved / 100 >= 0.75,
        }
      : { measured: 'not measured', met: undefined },
    [`${rows(r.largeRows)}-row time ÷ (${f.scale} × ${rows(r.rows)}-row time) ≤ 1.05`]: judge(
      f.largeRatio,
      1.05,
      times,
    ),
    'worker peak RSS ≤ 250 MB at both sizes, within 10 % of each other': rssBoth.every(Number.isFinite)
      ? {
          measured: `${fmt(r.rss.main, 0)} / ${fmt(r.rss.large, 0)} MB`,
          met: rssBoth.every((x) => x <= 250) && Math.abs(r.rss.large - r.rss.main) <= 0.1 * r.rss.main,
        }
      : { measured: 'not measured', met: undefined },
    '`--checksum` time ÷ copy time ≤ 0.25': judge(f.checksumShare, 0.25, times),
    'workflow history ≤ 200 events': f.histories.length
      ? { measured: `${Math.max(...f.histories)}`, met: Math.max(...f.histories) <= 200 }
      : { measured: 'not measured', met: undefined },
  };
}

export function writeResults(
  out: string,
  command: string,
  results: ServerResult[],
  seconds: number,
  ghost: string,
  /** The run's own Command, Machine and Versions lines, when its JSON is rendered again (bench/rerender.ts). */
  header?: string[],
): void {
  const version = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0];
    } catch {
      return 'unavailable';
    }
  };
  const L: string[] = header
    ? ['# Benchmark results', '', ...header]
    : [
        '# Benchmark results',
        '',
        `Command: \`${command}\` (bench/run.sh), ${new Date().toISOString().slice(0, 10)}; the whole run took ${Math.round(seconds / 60)} minutes.`,
        '',
        `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; the servers, sysbench and every tool on it.`,
        `Versions: ${results.map((r) => r.version).join('; ')}; ${version('pt-online-schema-change', ['--version'])}; gh-ost ${version(ghost, ['--version'])} (v1.1.10); ` +
          `${version('sysbench', ['--version'])}; revenant ${version('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}; node ${process.version}.`,
        '',
      ];
  const judged = results.map((r) => targets(r));
  L.push(
    '## Targets',
    '',
    'Judged on revenant with `--checksum=false` and a standing worker (the peers do not checksum); its defaults are measured beside it below. ' +
      'A target is met only on measured, non-zero figures.',
    '',
    `| target | ${results.map((r) => `${r.name} | met?`).join(' | ')} |`,
    `|---|${results.map(() => '---|---|').join('')}`,
  );
  for (const name of Object.keys(judged[0] ?? {})) {
    const cells = judged.map((j) => {
      const t = j[name] ?? { measured: 'not measured', met: undefined };
      return `${t.measured} | ${t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no**'}`;
    });
    L.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  for (const r of results) L.push('', ...serverSection(r));
  const failures = results.flatMap((r) =>
    [...r.main, ...r.large]
      .filter((m) => !m.ok)
      .map(
        (m) =>
          `- ${r.name}, ${m.tool} ${m.rows} rows ${m.rate ? `under ${m.rate} tx/s` : 'idle'}: ` +
          `${(m.note ?? '').replace(/\n/g, ' ').slice(-300)}`,
      ),
  );
  L.push(
    '',
    '## Failures',
    '',
    ...(failures.length ? failures : ['None outside the ceiling search (whose failures are its result).']),
    '',
  );
  writeFileSync(out, L.join('\n'));
  writeFileSync(out.replace(/\.md$/, '.json'), JSON.stringify(results, null, 1));
  console.log(L.join('\n'));
}

/**
 * What following a load costs the whole machine. sysbench, the server and the worker share its
 * cores, and sysbench's solo maximum is about the rate at which sysbench and the server alone
 * fill them; so a migration keeps up at a fraction f of that maximum only if it adds at most
 * 1/f - 1 to each transaction's CPU, its copy included (75 %: a third). The server's writes to
 * the ghost are told apart from the worker's share: they are the part no worker can save.
 */
function machineShare(ac: (ApplyCost & { rate: number }) | undefined, soloMax: number): string {
  const perTx = (l: LoadCpu) => (l.serverCpu + l.sysbenchCpu + l.workerCpu) / l.transactions;
  const { alone, applied } = ac ?? {};
  if (!alone || !applied || !(alone.transactions > 0) || !(applied.transactions > 0))
    return "The machine's CPU per transaction with the applier beside the load: not measured.";
  const ms = (x: number) => fmt(x * 1000, 3);
  const cores = cpus().length;
  const each = (cpu: number, l: LoadCpu) => ms(cpu / l.transactions);
  const serverAdds = applied.serverCpu / applied.transactions - alone.serverCpu / alone.transactions;
  return (
    `The machine's CPU per sysbench transaction at ${ac!.rate} tx/s: alone ${ms(perTx(alone))} ms ` +
    `(server ${each(alone.serverCpu, alone)}, sysbench ${each(alone.sysbenchCpu, alone)}); with the applier following it ` +
    `${ms(perTx(applied))} ms (server ${each(applied.serverCpu, applied)}, sysbench ${each(applied.sysbenchCpu, applied)}, ` +
    `worker ${each(applied.workerCpu, applied)}): ${fmt(perTx(applied) / perTx(alone), 2)}× alone; the server's writes to the ghost ` +
    `by themselves make it ${fmt((perTx(alone) + serverAdds) / perTx(alone), 2)}×. At the load's own cost ${cores} cores carry ` +
    `${fmt((100 * cores) / perTx(alone) / soloMax, 0)} % of the solo maximum; a migration keeps up at 75 % of it only if it ` +
    `adds at most a third (1.33×), its copy included.`
  );
}
