// The soak (the weeks-long migration issue): one slow copy under write load for an hour, throttled
// and released hundreds of times through gh-ost's --throttle-flag-file, paused and resumed by the
// operator, its chunk size tuned as it goes, on a `revenant worker` process whose memory and
// connections are sampled. Not a test file (it runs for an hour); run it with the test harness's
// servers: `npm run soak` (bench/soak.sh). Results go to bench/SOAK-<server>.md.
//
// What it judges (the issue's point 6):
//  - the worker's RSS and its open connections: the means of the first and of the last ten
//    minutes within 10 % of each other;
//  - every release (flag file removed, or the operator's resume) followed by copy work within a
//    second (its next chunk committed), read from the copy checkpoint the copier commits with
//    each chunk, polled every 50 ms; and no copy work while throttled (a throttle that does not
//    hold would make that trivial);
//  - at the end: migrated equals original by checksum, every acknowledged insert present, zero redo.
// REVENANT_SOAK_MINUTES (60) sets the length; the copy's chunk size and nice ratio are tuned every
// two minutes so that it ends about then, whatever the machine's speed.
import type { RowDataPacket } from 'mysql2';
import { Client, Connection } from '@temporalio/client';
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  admin,
  checksum,
  createTestTable,
  freshDatabase,
  input,
  MYSQL_PORT,
  SERVER,
  SERVER_KIND,
  TEMPORAL_ADDRESS,
  waitForPhase,
  WorkerProcess,
  WriteLoad,
} from '../test/support/helpers';
import { migrationWorkflowId, type MigrationStatus } from '../model/types';
import { ROOT } from './server';
import { cutOverSignal, pauseSignal, resumeSignal, setUpdate, statusQuery } from '../model/messages';

const MINUTES = Number(process.env.REVENANT_SOAK_MINUTES ?? 60);
// 4.5M: at its slowest (chunk size 10, nice ratio 3) the copy moved about 50,000 rows a minute
// on this kind of machine once the worker's heap no longer grew (3M rows ended at minute 44).
const ROWS = Number(process.env.REVENANT_SOAK_ROWS ?? 4_500_000);
/** See the tuning below. */
const MAX_NICE = 3;
const THROTTLED_MS = 3_000;
const RELEASED_MS = 7_000;
const PAUSE_EVERY = 20; // cycles: the operator pauses instead of the flag file
const TUNE_EVERY_MS = 120_000;
const SAMPLE_EVERY_MS = 10_000;
const RESUME_WITHIN_MS = 1_000;
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const DB = 'rv_soak';
const FLAG = join(process.env.REVENANT_TEST_WORK ?? '/tmp', 'soak.throttle');
/** The worker's whole log, kept after the soak (the harness removes its work folder). */
const LOG = join(tmpdir(), `revenant-soak-worker-${SERVER_KIND}.log`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The worker's resident memory, in MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The worker's open TCP connections: to the database server, and all of them. */
function connections(pid: number): { database: number; all: number } {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  let database = 0;
  let all = 0;
  const dbPort = MYSQL_PORT.toString(16).toUpperCase().padStart(4, '0');
  for (const file of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]) || f[3] !== '01') continue; // 01: ESTABLISHED
      all++;
      if (f[2].endsWith(`:${dbPort}`)) database++;
    }
  }
  return { database, all };
}

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  external: number;
  database: number;
  all: number;
  history: number;
  rowsCopied: number;
  chunksCopied: number;
}
interface Release {
  cycle: number;
  by: 'flag file' | 'operator resume';
  resumedMs: number | null;
  workWhileHeld: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const within = (a: number, b: number, fraction: number) => Math.abs(a - b) <= fraction * Math.max(a, b);

test('soak: an hour of throttles, pauses and tuning on one slow copy under writes', {
  timeout: (MINUTES + 30) * 60_000,
}, async () => {
  const lines: string[] = [];
  const say = (l: string) => {
    lines.push(l);
    console.log(l);
  };
  const report = () => writeFileSync(join(ROOT, 'bench', `SOAK-${SERVER_KIND}.md`), `${lines.join('\n')}\n`);
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  // As the README says to run a worker (glibc's arenas capped), its memory logged every 10 s.
  const worker = new WorkerProcess('soak', TEMPORAL_ADDRESS, {
    MALLOC_ARENA_MAX: '2',
    REVENANT_MEMORY_LOG_SECONDS: '10',
    REVENANT_LOG_FORMAT: 'json',
  });
  /** The worker's last memory line: its JavaScript heap and what V8 holds outside it, MB. */
  const heap = (): { heapUsed: number; external: number } => {
    const lines = worker.log.split('\n').filter((l) => l.includes('"msg":"memory"'));
    if (!lines.length) return { heapUsed: NaN, external: NaN };
    const m = JSON.parse(lines[lines.length - 1]) as { heapUsed: number; external: number };
    return { heapUsed: m.heapUsed / 1048576, external: m.external / 1048576 };
  };
  await worker.start();
  let db: Awaited<ReturnType<typeof admin>> | undefined;
  const samples: Sample[] = [];
  const releases: Release[] = [];
  let load: WriteLoad | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    await freshDatabase(DB);
    await createTestTable(DB, 't', ROWS);
    db = await admin(DB);
    const conn = db;
    load = new WriteLoad(DB, 't', ROWS).start(2, 20);
    const started = Date.now();
    const workflowId = migrationWorkflowId(SERVER, DB, 't');
    let chunkSize = 20;
    let niceRatio = 3;
    await client.workflow.start('migrateTable', {
      taskQueue: 'soak',
      workflowId,
      args: [
        input(DB, 't', 'ADD COLUMN soaked INT NOT NULL DEFAULT 7, MODIFY note VARCHAR(300) NULL', {
          server: SERVER,
          chunkSize,
          copyThreads: 1,
          niceRatio,
          throttleFlagFile: FLAG,
          postponeCutOver: true,
        }),
      ],
    });
    // The handle follows the chain of runs: a renewal (continue-as-new) is part of the soak.
    const handle = client.workflow.getHandle(workflowId);
    await waitForPhase(handle, ['migrating']);

    let copyDone = false;
    /** The copy checkpoint the copier commits with each chunk. */
    const checkpoint = async (): Promise<{
      rowsCopied: number;
      chunksCopied: number;
      lastKey: number;
      max: number;
    }> => {
      const [r] = await conn.query<RowDataPacket[]>("SELECT value FROM _t_ghc WHERE hint = 'copy-checkpoint'");
      const c = r.length ? JSON.parse(r[0].value) : { rowsCopied: 0, chunksCopied: 0, done: false };
      copyDone ||= c.done;
      return {
        rowsCopied: Number(c.rowsCopied),
        chunksCopied: Number(c.chunksCopied ?? 0),
        lastKey: Number(c.lastKey?.[0] ?? 0),
        max: Number(c.max?.[0] ?? 0),
      };
    };
    // Work is counted in chunks, not rows: the writers move rows to id + 50,000,000, so the key
    // range the copy read at its start ends near 54M, and the rows moved there since are in the
    // ghost already (the binlog put them there). The copy's last stretch commits chunk after chunk
    // that INSERT IGNORE counts as 0 rows: counted in rows, the first soaks saw that stretch as
    // the copy slowing to a crawl and its releases as late.
    const chunksCopied = async () => (await checkpoint()).chunksCopied;
    const history = async () => Number((await handle.describe()).historyLength);
    const sample = async () => {
      const c = connections(worker.pid());
      const { rowsCopied, chunksCopied } = await checkpoint();
      samples.push({
        at: Date.now() - started,
        rss: rssMb(worker.pid()),
        ...heap(),
        ...c,
        history: await history().catch(() => NaN),
        rowsCopied,
        chunksCopied,
      });
    };
    await sample();
    sampler = setInterval(() => {
      sample().catch(() => {});
    }, SAMPLE_EVERY_MS);

    say(`# Soak on ${SERVER_KIND} (${new Date().toISOString()})\n`);
    say(
      `${ROWS.toLocaleString('en')} rows, ${MINUTES} minutes; 2 writers (a write every 20 ms each); a cycle is ${THROTTLED_MS / 1000} s held, ${RELEASED_MS / 1000} s released;` +
        ` every ${PAUSE_EVERY}th hold is the operator's pause instead of the flag file; chunk size and nice ratio tuned every ${TUNE_EVERY_MS / 60_000} minutes to last the hour.\n`,
    );
    const end = started + MINUTES * 60_000;
    let cycle = 0;
    let tunedAt = Date.now();
    let chunksAtTune = await chunksCopied();
    const tunings: string[] = [];
    let copyEndedAt = 0;
    while (Date.now() < end - RELEASED_MS - THROTTLED_MS) {
      if (copyDone) {
        // Nothing left to throttle: a soak whose copy ends early has not soaked (judged below).
        copyEndedAt = Date.now() - started;
        say(`- the copy ended at minute ${(copyEndedAt / 60_000).toFixed(1)}, before the soak did`);
        break;
      }
      cycle++;
      const byOperator = cycle % PAUSE_EVERY === 0;
      if (byOperator) await handle.signal(pauseSignal);
      else writeFileSync(FLAG, '');
      // Held: after it takes hold (a chunk under way finishes), nothing more is copied.
      await sleep(1_000);
      const heldFrom = await chunksCopied();
      await sleep(THROTTLED_MS - 1_000);
      const heldTo = await chunksCopied();
      if (byOperator) await handle.signal(resumeSignal);
      else rmSync(FLAG);
      const releasedAt = Date.now();
      let resumedMs: number | null = null;
      while (Date.now() - releasedAt < RELEASED_MS - 200) {
        if ((await chunksCopied()) > heldTo) {
          resumedMs = Date.now() - releasedAt;
          break;
        }
        await sleep(50);
      }
      if (resumedMs === null && copyDone) break; // the copy's last chunk went just before the hold
      releases.push({
        cycle,
        by: byOperator ? 'operator resume' : 'flag file',
        resumedMs,
        workWhileHeld: heldTo - heldFrom,
      });
      if (resumedMs === null || resumedMs > RESUME_WITHIN_MS || heldTo !== heldFrom) {
        say(
          `- cycle ${cycle} (${byOperator ? 'pause' : 'flag file'}), minute ${((Date.now() - started) / 60_000).toFixed(1)}: resumed after ${resumedMs ?? 'no work in'} ms, ${heldTo - heldFrom} chunks committed while held`,
        );
      }
      await sleep(Math.max(0, releasedAt + RELEASED_MS - Date.now()));

      if (Date.now() - tunedAt >= TUNE_EVERY_MS) {
        // The pace that ends the copy a minute before the soak does, at the rate just seen: the
        // chunk size first; below its floor (10), the nice ratio (the rest after each chunk).
        // Rows still ahead of the copy: the table's ids past its watermark, and the moved rows
        // in the range's far end (counted: a small range).
        const at = await checkpoint();
        const [[far]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM t WHERE id > ? AND id <= ?', [
          Math.max(at.lastKey, ROWS),
          at.max,
        ]);
        const remaining = Math.max(0, ROWS - at.lastKey) + Number(far.n);
        const seen = ((at.chunksCopied - chunksAtTune) * chunkSize) / (Date.now() - tunedAt); // rows walked a ms
        const needed = remaining / Math.max(60_000, end - 60_000 - Date.now());
        const factor = seen > 0 ? Math.max(0.25, Math.min(4, needed / seen)) : 2;
        const pace = (chunkSize / (1 + niceRatio)) * factor; // rows per unit of time, in chunk-size terms
        // The nice ratio stays at most MAX_NICE: gh-ost's nice sleep follows each chunk, and a
        // release that comes during one waits it out (the first hour's run, whose tuning reached
        // 14, saw releases wait up to 5 s). Below chunk size 10 and MAX_NICE the copy cannot slow
        // further: it ends early, and says so.
        const [nextChunk, nextNice] =
          pace * (1 + niceRatio) >= 10
            ? [Math.min(2_000, Math.round(pace * (1 + niceRatio))), niceRatio]
            : [10, Math.min(MAX_NICE, Math.max(0, Math.round(10 / pace - 1)))];
        if (nextChunk !== chunkSize || nextNice !== niceRatio) {
          await handle.executeUpdate(setUpdate, { args: [{ 'chunk-size': nextChunk, 'nice-ratio': nextNice }] });
          tunings.push(
            `${((Date.now() - started) / 60_000).toFixed(0)}′: ${chunkSize}/${niceRatio}→${nextChunk}/${nextNice}`,
          );
          [chunkSize, niceRatio] = [nextChunk, nextNice];
        }
        tunedAt = Date.now();
        chunksAtTune = at.chunksCopied;
      }
    }
    clearInterval(sampler);
    sampler = undefined;
    await sample();

    // The end: the copy finishes at full speed, writes stop, the cut-over.
    await handle.executeUpdate(setUpdate, { args: [{ 'chunk-size': 1000, 'nice-ratio': 0 }] });
    await waitForPhase(handle, ['postponed'], 20 * 60_000);
    await load.stop();
    await handle.signal(cutOverSignal);
    await handle.result();
    const final = (await handle.query(statusQuery)) as MigrationStatus;
    const [migrated, original] = [await checksum(DB, 't', COLS), await checksum(DB, '_t_del', COLS)];
    const missing = await load.missingFrom('t');

    // The judgement.
    const first = samples.filter((s) => s.at <= 10 * 60_000);
    const last = samples.filter((s) => s.at >= samples[samples.length - 1].at - 10 * 60_000);
    const flat = (k: 'rss' | 'heapUsed' | 'external' | 'database' | 'all') => ({
      first: mean(first.map((s) => s[k])),
      last: mean(last.map((s) => s[k])),
    });
    const rss = flat('rss');
    const dbConns = flat('database');
    const allConns = flat('all');
    const resumed = releases
      .filter((r) => r.resumedMs !== null)
      .map((r) => r.resumedMs!)
      .sort((a, b) => a - b);
    const late = releases.filter((r) => r.resumedMs === null || r.resumedMs > RESUME_WITHIN_MS);
    const leaky = releases.filter((r) => r.workWhileHeld !== 0);
    const pct = (p: number) => resumed[Math.min(resumed.length - 1, Math.floor(p * resumed.length))];
    const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
    say(`\n## Results\n`);
    say('| what | first 10 minutes | last 10 minutes | judged |\n|---|---|---|---|');
    say(
      `| worker RSS, MB (mean) | ${rss.first.toFixed(1)} | ${rss.last.toFixed(1)} | ${verdict(within(rss.first, rss.last, 0.1))} (within 10 %) |`,
    );
    const js = flat('heapUsed');
    const ext = flat('external');
    say(
      `| worker's JavaScript heap used, MB (mean; told apart, not judged) | ${js.first.toFixed(1)} | ${js.last.toFixed(1)} | |`,
    );
    say(
      `| worker's external (buffers held by JavaScript), MB (mean) | ${ext.first.toFixed(1)} | ${ext.last.toFixed(1)} | |`,
    );
    say(
      `| worker's connections to the database (mean) | ${dbConns.first.toFixed(2)} | ${dbConns.last.toFixed(2)} | ${verdict(within(dbConns.first, dbConns.last, 0.1))} (within 10 %) |`,
    );
    say(
      `| worker's TCP connections, all (mean) | ${allConns.first.toFixed(2)} | ${allConns.last.toFixed(2)} | ${verdict(within(allConns.first, allConns.last, 0.1))} (within 10 %) |`,
    );
    say('');
    say(
      `- Releases: ${releases.length} (${releases.filter((r) => r.by === 'flag file').length} flag file, ${releases.filter((r) => r.by === 'operator resume').length} operator resume);` +
        ` copy work resumed after median ${pct(0.5)} ms, 90th percentile ${pct(0.9)} ms, 99th ${pct(0.99)} ms, slowest ${resumed[resumed.length - 1]} ms;` +
        ` ${late.length} later than ${RESUME_WITHIN_MS} ms: ${verdict(late.length === 0)}.`,
    );
    say(
      `- Holds during which a chunk was still committed after the first second: ${leaky.length}: ${verdict(leaky.length === 0)}.`,
    );
    const soaked = !copyEndedAt || copyEndedAt >= (MINUTES - 3) * 60_000;
    say(
      `- The copy lasted ${copyEndedAt ? `${(copyEndedAt / 60_000).toFixed(1)} minutes` : 'the whole soak'}: ${verdict(soaked)}.`,
    );
    say(`- Tunings (chunk size/nice ratio): ${tunings.length} (${tunings.join(', ') || 'none'}).`);
    say(
      `- Migration: ${final.rowsCopied} rows copied, ${final.eventsApplied} events applied, ${final.renewals ?? 0} renewals (continue-as-new), history ${samples[samples.length - 1].history} events in the last run;` +
        ` redone chunks ${final.redoneChunks}, redone events ${final.redoneEvents}: ${verdict(final.redoneChunks === 0 && final.redoneEvents === 0)}.`,
    );
    say(
      `- Checksum: migrated ${migrated.rows} rows ${migrated.xor}, original ${original.rows} rows ${original.xor}: ${verdict(migrated.xor === original.xor && migrated.rows === original.rows)};` +
        ` acknowledged inserts ${load.insertedNames.length}, missing ${missing.length}: ${verdict(missing.length === 0)}; writer errors: ${load.errors.length}.`,
    );
    const logged = (msg: string) => worker.log.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length;
    say(
      `- The worker's log (${LOG}): chunks retried after a lock conflict ${logged('chunk retried')}, chunks (with their claims) that took over half a second ${logged('slow chunk')}.`,
    );
    say(`\n## Samples (every ${SAMPLE_EVERY_MS / 1000} s; one a minute shown)\n`);
    say(
      '| minute | worker RSS MB | JS heap used MB | external MB | connections to the database | TCP connections | history events (this run) | rows copied | chunks committed |\n|---|---|---|---|---|---|---|---|---|',
    );
    let shown = -1;
    for (const s of samples) {
      const minute = Math.floor(s.at / 60_000);
      if (minute === shown && s !== samples[samples.length - 1]) continue;
      shown = minute;
      say(
        `| ${(s.at / 60_000).toFixed(1)} | ${s.rss.toFixed(1)} | ${s.heapUsed.toFixed(1)} | ${s.external.toFixed(1)} | ${s.database} | ${s.all} | ${s.history} | ${s.rowsCopied} | ${s.chunksCopied} |`,
      );
    }
    report();
    const failures = [
      !soaked && 'the copy ended early',
      !within(rss.first, rss.last, 0.1) && 'RSS',
      !within(dbConns.first, dbConns.last, 0.1) && 'connections',
      late.length && 'late resumes',
      leaky.length && 'work while held',
      (final.redoneChunks || final.redoneEvents) && 'redo',
      migrated.xor !== original.xor && 'checksum',
      missing.length && 'missing inserts',
    ].filter(Boolean);
    if (failures.length) throw new Error(`soak: not met: ${failures.join(', ')} (see bench/SOAK-${SERVER_KIND}.md)`);
  } finally {
    writeFileSync(LOG, worker.log);
    worker.kill9();
    if (sampler) clearInterval(sampler);
    report();
    rmSync(FLAG, { force: true });
    await load?.stop();
    await db?.end();
    await connection.close();
  }
});
