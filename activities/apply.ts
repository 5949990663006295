// Binlog apply: streams the binlog from the checkpoint and applies every row change on the
// original table to the ghost, source transaction by source transaction, batching several
// into one ghost transaction that also commits the binlog checkpoint. On a retry it starts
// at that checkpoint: no event is applied twice, none is skipped.
// It also answers the cut-over: when the cut-over's marker row shows up in the stream, all
// changes before it are applied, and it says so in the changelog, in the same transaction.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type {
  ApplyProgress,
  BinlogPosition,
  BinlogRead,
  LongRunTerms,
  MigrationInput,
  TablePlan,
} from '../model/types';
import { type BinlogSource, BinlogStreamer } from '../binlog/streamer';
import { openBinlogReader } from '../binlog/threaded-reader';
import { ControlReader, type WorkerServices } from '../control/live-settings';
import { binlogMissing, describePosition } from '../control/stored-plan';
import { isBinlogReadRefused } from '../mysql/errors';
import { MigrationMetrics } from '../runtime/metrics';
import { applierOf } from '../mysql/topology';
import { checkPanicFlag } from '../control/throttler';
import {
  advance,
  heartbeatMillis,
  HINT,
  isLaneHint,
  laneHint,
  readLaneCheckpoints,
  readStored,
  SupersededError,
  type BinlogCheckpoint,
  type LaneCheckpoint,
  type Stored,
} from '../control/changelog';
import { isBinlogCheckpoint } from '../control/stored-shapes';
import type { CredentialResolver } from '../mysql/credentials';
import { connect } from '../mysql/connection';
import {
  describeMysqlError,
  describeWarnings,
  isDataLossError,
  retryDelay,
  mysqlErrorCode,
  RETRYABLE_LOCK_ERRORS,
  type Warning,
} from '../mysql/errors';
import { exec, rows, type Conn } from '../mysql/query';
import { DEFAULTS } from '../model/types';
import { must } from '../model/must';
import { failpoint } from '../runtime/failpoints';
import { HandBack } from '../runtime/hand-back';
import { ProgressReporter, type ProgressSink } from '../runtime/progress';
import {
  appendDml,
  changeToDml,
  replaceStatement,
  dmlToCheckedUnits,
  dmlToStatements,
  lastChangePerKey,
  type GhostDml,
  type Row,
} from '../binlog/row-events';
import * as sql from '../mysql/statements';
import { binlogStatus, flavorOf } from '../mysql/flavor';
import { dropCommittedLanes, type LaneAhead, laneable, splitByLane } from '../binlog/apply-lanes';
import { compareBinlogPositions } from '../binlog/position';

/** The drain loop heartbeats at most this often. */
const HEARTBEAT_EVERY_MS = 200;
/** Flush at least this often while changes are pending. */
const FLUSH_INTERVAL_MS = 100;
/**
 * With no change of the table pending, the checkpoint still follows the server's position
 * (the cut-over waits for it to be near), every this often once the stream is caught up, else
 * every second: often enough that an idle table's cut-over does not wait up to a second, and
 * no more (each checkpoint write is itself a binlog event).
 */
const POSITION_CHECKPOINT_MS = { caughtUp: 200, behind: 1000 };
/**
 * The applier's lag as the copy reads it (control/copy-pacer.ts): written when it moved by
 * LAG_STEP_MS since last written, or fell under it, asked every LAG_PUBLISH_MS (each write is a
 * changelog row, and a binlog event).
 */
const LAG_STEP_MS = 50;
/**
 * The lag is written again after this long even when it has not moved: the row is the copy's
 * only word of it, and another writer may have left it wrong (a terminated run's applier, still
 * running until its heartbeat tells it, wrote 1.1 s into the changelog of the migration started
 * after it under the same names; this applier had told 0 and, still at 0, told nothing more:
 * the copy waited for five minutes).
 */
const LAG_RETELL_MS = 1_000;
/** A heartbeat's write and its way back through the binlog take up to this, past its interval. */
const HEARTBEAT_ALLOWANCE_MS = 100;
const LAG_PUBLISH_MS = 100;
/**
 * How long the applier's binlog stream may receive nothing before it is taken for dead and read
 * again from the checkpoint: a minute (a replica's slave_net_timeout), or twenty heartbeat
 * intervals if that is longer. The heartbeats keep a live stream busy.
 */
const silenceLimitMs = (input: MigrationInput): number => Math.max(60_000, 20 * (input.heartbeatIntervalMillis ?? 100));
/**
 * Row changes per ghost transaction, per unit of --dml-batch-size (gh-ost: events per
 * transaction; revenant merges events into multi-row statements, so a unit buys more).
 */
const BATCH_ROWS_PER_DML_BATCH_UNIT = 200;
/**
 * --apply-threads: connections that apply a large batch at once, each the changes of its share
 * of the keys (binlog/apply-lanes.ts). One by default: on the 2-core benchmark machine, where
 * the server's CPU is what limits the applier, four lanes drained a backlog no faster than one
 * (bench/RESULTS-apply-lanes.md); a server with cores to spare runs them side by side.
 * A batch of fewer row changes than this goes on one connection whatever the setting: the
 * lanes' round trips would cost more than they win.
 */
const LANES_FROM_EVENTS = 200;
/** A source transaction this large is flushed before its commit is seen (replayed on resume). */
const MAX_PENDING_ROWS = 20_000;

/** A server id of its own for each binlog reader: two replicas of one id would cut each other off. */
const binlogReaderServerId = () => 1_000_000 + Math.floor(Math.random() * 1_000_000_000);

const IDENT = '(?:`((?:[^`]|``)+)`|([A-Za-z0-9_$]+))';
const QUALIFIED_NAME = new RegExp(`(?:${IDENT}\\s*\\.\\s*)?${IDENT}`, 'g');

/** DDL that changes a table's definition or contents (not events, views, routines, or CREATE … LIKE). */
const TABLE_DDL =
  /^\s*(ALTER\s+(ONLINE\s+|IGNORE\s+)*TABLE|RENAME\s+TABLES?|DROP\s+(TEMPORARY\s+)?TABLES?|TRUNCATE|CREATE\s+(OR\s+REPLACE\s+)?(UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX|DROP\s+INDEX)\b/i;

/**
 * Who wrote a transaction that writes this changelog row: each copy chunk commits its
 * checkpoint with its rows, each applied batch (or lane share) its own; anything else written
 * there (heartbeats, the applier's lag, the cut-over's marker) is the changelog's.
 */
function changelogWriter(hint: string): keyof BinlogRead {
  if (hint === HINT.copy) return 'copy';
  if (hint === HINT.binlog || isLaneHint(hint)) return 'applier';
  return 'changelog';
}

/**
 * Whether a DDL statement changes db.table, named qualified, or unqualified while its
 * session's default database is db. Other databases' tables of the same name are not ours.
 */
export function ddlTouchesTable(query: string, sessionDb: string, db: string, table: string): boolean {
  if (!TABLE_DDL.test(query)) return false;
  for (const m of query.matchAll(QUALIFIED_NAME)) {
    const name = m[3] !== undefined ? m[3].replace(/``/g, '`') : m[4];
    if (name?.toLowerCase() !== table.toLowerCase()) continue;
    const schema = m[1] !== undefined ? m[1].replace(/``/g, '`') : (m[2] ?? sessionDb);
    if (schema === db) return true;
  }
  return false;
}

export async function drainBinlog(
  credentials: CredentialResolver,
  sink: ProgressSink | undefined,
  input: MigrationInput,
  plan: TablePlan,
  services: WorkerServices = {},
  terms?: LongRunTerms,
): Promise<ApplyProgress> {
  const ctx = Context.current();
  const handBack = new HandBack(terms);
  const reporter = ProgressReporter.forCurrentActivity(sink, plan.window !== undefined);
  const conn = await connect(applierOf(input, plan), credentials);
  const heartbeat = new Heartbeat(input, plan, credentials).start();
  let streamer: BinlogSource | undefined;
  let control: ControlReader | undefined;
  let applierRef: Applier | undefined;
  /** Where this attempt reads the binlog from. */
  let readFrom: BinlogPosition | undefined;
  try {
    await exec(conn, sql.ghostWriterSession(input));
    let start = await readStored(conn, plan, HINT.binlog, isBinlogCheckpoint);
    if (!start)
      throw ApplicationFailure.nonRetryable(
        `no binlog checkpoint in ${plan.changelogTable}: the migration was not prepared`,
      );
    if (plan.window !== undefined && start.value.window !== plan.window)
      start = await openWindow(conn, credentials, input, plan, start);
    if ((ctx.info.attempt > 1 || start.value.eventsApplied > 0) && !handBack.followsHandBack) {
      // Resuming at the committed checkpoint: only a source transaction that was applied in
      // part (too large to wait for its commit) is applied again.
      const beat = ctx.info.heartbeatDetails as BinlogCheckpoint | undefined;
      reporter.report({
        kind: 'resume',
        phase: 'apply',
        attempt: ctx.info.attempt,
        redone: start.value.partialEvents ?? 0,
        checkpoint:
          `${start.value.file}:${start.value.position}${start.value.gtid ? ` (GTID ${start.value.gtid})` : ''} committed` +
          ` (last heartbeat: ${beat ? `${beat.file}:${beat.position}` : 'none'})`,
      });
    }
    readFrom = start.value;
    const metrics = new MigrationMetrics(plan);
    control = new ControlReader(conn, plan, input, reporter, 'apply', metrics, credentials, services);
    const resumeLanes = plan.window === undefined ? await lanesAhead(conn, plan, start.value) : undefined;
    if (resumeLanes)
      ctx.log.info(
        `apply lanes ${resumeLanes.ahead.map((a) => `${a.lane} of ${a.lanes}`).join(', ')} committed past the checkpoint: their changes up to there are not applied again`,
      );
    const applier = new Applier(conn, input, plan, start, heartbeat, metrics, credentials, resumeLanes);
    applierRef = applier;
    heartbeat.tellLagOf(applier);
    control.progress = () => ({ apply: applier.progress() });
    streamer = openBinlogReader({
      server: input.server,
      credentials,
      from: start.value,
      tables: { [plan.database]: [plan.table, plan.changelogTable] },
      used: {
        database: plan.database,
        table: plan.table,
        key: plan.key.columns,
        values: plan.columns.map((c) => c.source),
      },
      approximateJson: input.allowDataLoss === true,
      silenceLimitMs: silenceLimitMs(input),
    });
    await streamer.start(binlogReaderServerId());

    let beatAt = 0;
    while (!ctx.cancellationSignal.aborted && !handBack.due) {
      // Not at every turn: a heartbeat is encoded and handed to Temporal's core each time, and
      // under a heavy load the loop turns hundreds of times a second (core sends fewer anyway).
      if (Date.now() - beatAt >= HEARTBEAT_EVERY_MS) {
        ctx.heartbeat(applier.heartbeatDetails());
        beatAt = Date.now();
      }
      checkPanicFlag(input);
      const settings = await control.current();
      applier.dmlBatchSize = settings.dmlBatchSize;
      applier.applyThreads = settings.applyThreads ?? 1;
      if (await control.throttled()) {
        // Throttled: apply nothing; the stream pauses itself when its queue fills.
        await applier.flush();
        await control.waitWhileThrottled(applier.heartbeatDetails());
        continue;
      }
      const items = await streamer.take(1000, FLUSH_INTERVAL_MS);
      for (const item of items) applier.accept(item);
      applier.caughtUp = streamer.backlog === 0;
      if (applier.sealed) {
        // The cut-over's RENAME is in the stream: every change before its marker is applied
        // (the cut-over saw that before it renamed), the ghost is the table now, and the
        // changelog is dropped next. Nothing more is written. (A last flush here once stalled
        // in its retries for 6 s after the cut-over, about one benchmark run in sixteen under
        // load, until the activity was given up; it had nothing left to do.) The activity ends
        // by itself: waiting to be cancelled costs a heartbeat round, seconds.
        // Changes read after the marker were made after the RENAME, to the table that has the
        // name now (the original was locked from the marker on): the server logged them ahead
        // of the RENAME. They are in that table already, and a revert window's applier starts
        // from the marker to take them (see openWindow).
        const unapplied = applier.rowChangesPending();
        if (unapplied > 0) {
          ctx.log.info(
            `${unapplied} row change(s) of ${plan.database}.${plan.table} logged between the cut-over's marker and its RENAME: ` +
              'made after the RENAME (the original was locked), so in the migrated table already',
          );
        }
        return applier.result();
      }
      if (applier.shouldFlush()) await applier.flush();
      await applier.refreshBacklog();
      const now = applier.progress();
      metrics.applyLag(now.lagSeconds);
      // News: events applied, and lag in whole seconds (a lag that grows is worth telling).
      reporter.maybeReport(
        () => ({ kind: 'apply', apply: now }),
        false,
        `${now.eventsApplied}:${Math.floor(now.lagSeconds)}`,
      );
    }
    await applier.flush();
    if (!handBack.due) return applier.result();
    ctx.log.info(`apply hands back at ${describePosition(applier.checkpoint)}: to go on at attempt 1`);
    return { ...applier.result(), handedBack: true };
  } catch (e) {
    if (e instanceof SupersededError) throw ApplicationFailure.retryable(e.message, 'Superseded');
    throw (readFrom && (await binlogGoneFailure(conn, readFrom, e))) ?? e;
  } finally {
    streamer?.stop();
    applierRef?.close();
    heartbeat.close();
    control?.close();
    conn.destroy();
  }
}

/**
 * A refused binlog read whose binlog the server no longer has (purged past the checkpoint) as a
 * final failure: retrying cannot bring the files back, and the migration would otherwise retry
 * for an hour and a half. The ghost and the checkpoints stay for a look; the migration must
 * start anew. Undefined for any other error, or when the server still has the binlog.
 */
async function binlogGoneFailure(
  conn: Conn,
  from: BinlogPosition,
  e: unknown,
): Promise<ApplicationFailure | undefined> {
  if (!isBinlogReadRefused(e)) return undefined;
  const missing = await binlogMissing(conn, from).catch(() => null);
  if (!missing) return undefined;
  return ApplicationFailure.nonRetryable(
    `the binlog from the applier's checkpoint (${describePosition(from)}) is no longer on the server (${missing}): ` +
      'the migration cannot go on: start it anew with --initially-drop-ghost-table, which drops the ghost table and changelog it leaves ' +
      `(the server said: ${(e as Error).message})`,
    'BinlogGone',
  );
}

/**
 * The lag to write for the copy (0 under LAG_STEP_MS), if it moved by LAG_STEP_MS from the one
 * last written (-1: none yet), crossed to or from 0, or was last written LAG_RETELL_MS ago;
 * else undefined.
 */
export function lagWorthTelling(lagMs: number, toldMs: number, sinceToldMs: number): number | undefined {
  const value = lagMs < LAG_STEP_MS ? 0 : lagMs;
  const moved = Math.abs(value - toldMs) >= LAG_STEP_MS || (value === 0) !== (toldMs === 0);
  return moved || sinceToldMs >= LAG_RETELL_MS ? value : undefined;
}

/** Where the heartbeat's timer takes the applier's lag to tell the copy (see Heartbeat.tellLagOf). */
interface LagSource {
  /** The lag in ms if it is worth writing now, else undefined. */
  lagToTell(): number | undefined;
  lagTold(ms: number): void;
}

/**
 * gh-ost's heartbeat: the master's clock written to the changelog every
 * --heartbeat-interval-millis, on its own connection, outside the applier's transactions.
 * Replicas compare it with their clock to measure their lag (throttler.ts); the applier, when
 * it applies one, knows it is at most that old: the apply lag, to the interval, where binlog
 * event timestamps have whole seconds. The value is this worker's clock set to the server's
 * (the offset measured every 10 s), so the applier reads it back against its own clock.
 */
class Heartbeat {
  private conn: Conn | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** The connection's work in order: a heartbeat, a lag to tell. */
  private queue: Promise<void> = Promise.resolve();
  /** The kinds of work queued: a kind still queued from its last turn skips this one. */
  private readonly queued = new Set<'beat' | 'lag'>();
  private offsetMs = 0;
  private offsetAt = 0;
  private closed = false;
  constructor(
    private readonly input: MigrationInput,
    private readonly plan: TablePlan,
    private readonly credentials: CredentialResolver,
  ) {}

  /** How often a heartbeat is written (--heartbeat-interval-millis). */
  get intervalMs(): number {
    return this.input.heartbeatIntervalMillis ?? 100;
  }

  /** On its own timer: it must beat while copy and apply are throttled, or lag could never clear. */
  start(): this {
    this.timers.push(setInterval(() => this.enqueue('beat', (conn) => this.write(conn)), this.intervalMs));
    return this;
  }

  /**
   * The applier's lag is told to the copy on this connection, on a timer of its own, not between
   * the applier's batches: the applier's connection is busy for as long as a batch takes, and a
   * batch that waits (on MariaDB, a copy chunk holds the ghost's AUTO-INC lock for its whole
   * INSERT ... SELECT) left the copy reading the lag from before it, low, until it was over.
   */
  tellLagOf(source: LagSource): void {
    this.timers.push(
      setInterval(
        () =>
          this.enqueue('lag', async (conn) => {
            const lag = source.lagToTell();
            if (lag === undefined) return;
            await exec(
              conn,
              sql.upsertChangelog(this.plan.database, this.plan.changelogTable, HINT.applyBehind, String(lag)),
            );
            source.lagTold(lag);
          }),
        LAG_PUBLISH_MS,
      ),
    );
  }

  private enqueue(kind: 'beat' | 'lag', work: (conn: Conn) => Promise<void>): void {
    if (this.queued.has(kind)) return;
    this.queued.add(kind);
    this.queue = this.queue.then(async () => {
      this.queued.delete(kind);
      if (this.closed) return;
      try {
        this.conn ??= await connect(applierOf(this.input, this.plan), this.credentials);
        // Closed while it connected: the connection must not outlive the activity.
        if (this.closed) this.conn.destroy();
        else await work(this.conn);
      } catch {
        // A missed heartbeat reads as lag, which throttles: the safe side. Reconnect next time.
        this.conn?.destroy();
        this.conn = undefined;
      }
    });
  }

  /** One heartbeat: the server's clock, measured against this worker's every 10 s. */
  private async write(conn: Conn): Promise<void> {
    if (Date.now() - this.offsetAt >= 10_000) {
      const sent = Date.now();
      const [r] = await rows(conn, sql.serverClockMillis());
      const received = Date.now();
      this.offsetMs = Number(r.ms) - (sent + received) / 2;
      this.offsetAt = received;
    }
    const value = new Date(Date.now() + this.offsetMs).toISOString().replace('T', ' ').replace('Z', '');
    await exec(conn, sql.writeHeartbeat(this.plan.database, this.plan.changelogTable, value));
  }

  /** When, by this worker's clock, a heartbeat value was written (NaN: not one of ours). */
  private writtenAt(value: string): number {
    return heartbeatMillis(value) - this.offsetMs;
  }

  /** The later of `since` and when heartbeat `value` was written (`since` for a value not ours). */
  laterOf(since: number, value: string): number {
    const at = this.writtenAt(value);
    return Number.isFinite(at) ? Math.max(since, at) : since;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.conn?.destroy();
  }
}

/**
 * A revert window's applier takes over from the applier of the cut-over that opened the window.
 * That applier's last checkpoint is at or just past the cut-over's marker, which was written
 * with the table locked: every change of the table read after it was made after the RENAME, to
 * the table that now has its name. They are the window's, even those the binlog holds before
 * the RENAME itself: MariaDB can log writes that waited on the table ahead of the RENAME that let
 * them through (a test run saw 41 of them, which a window started after the RENAME had lost:
 * the kept table missed them). So the window's applier starts at that checkpoint; this only finds the
 * RENAME (proof that the cut-over happened) and records where it ends, for the window's
 * applier to step over it. The checkpoint is marked as this window's (compare-and-set: a retry
 * that finds it moved starts from it).
 */
async function openWindow(
  conn: Conn,
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
  stored: Stored<BinlogCheckpoint>,
): Promise<Stored<BinlogCheckpoint>> {
  const ctx = Context.current();
  const opened = sql.swapTables(plan.database, plan.table, plan.ghostTable, plan.oldTable).sql;
  // A cut-over together swapped this table in one RENAME with others (cutover-together.ts): its two pairs are in it.
  const pairs = sql.swapPairs(plan.database, plan.table, plan.ghostTable, plan.oldTable).map((x) => x.toLowerCase());
  const same = (query: string) => {
    const text = query.replace(/\s+/g, ' ').trim().toLowerCase();
    return text === opened.toLowerCase() || (text.startsWith('rename table ') && pairs.every((x) => text.includes(x)));
  };
  const streamer = new BinlogStreamer({
    server: input.server,
    credentials,
    from: stored.value,
    tables: { [plan.database]: [plan.changelogTable] },
  });
  let after: BinlogPosition | undefined;
  try {
    await streamer.start(binlogReaderServerId());
    while (!after) {
      if (ctx.cancellationSignal.aborted)
        throw ApplicationFailure.retryable('cancelled while finding the cut-over in the binlog', 'Cancelled');
      ctx.heartbeat(stored.value);
      for (const item of await streamer.take(1000, 500)) {
        if (item.type === 'ddl' && same(item.query)) {
          after = item.position;
          break;
        }
      }
    }
  } finally {
    streamer.stop();
  }
  const { file, position, gtid, appliedHeartbeat } = stored.value;
  const next: BinlogCheckpoint = {
    file,
    position,
    ...(gtid ? { gtid } : {}),
    ...(appliedHeartbeat ? { appliedHeartbeat } : {}),
    eventsApplied: 0,
    window: plan.window,
    openedBy: after,
  };
  const { statement, next: moved } = advance(plan, HINT.binlog, stored, next);
  if ((await exec(conn, statement)).affectedRows !== 1) throw new SupersededError('binlog');
  return moved;
}

/** The lanes whose checkpoint is past the applier's (an attempt died between their commits and its own). */
async function lanesAhead(conn: Conn, plan: TablePlan, start: BinlogCheckpoint): Promise<ResumeLanes | undefined> {
  const ahead: LaneAhead[] = [];
  for (const [lane, at] of await readLaneCheckpoints(conn, plan)) {
    if (compareBinlogPositions(at, start) <= 0) continue;
    ahead.push({ lane, lanes: at.lanes, position: { file: at.file, position: at.position } });
  }
  return ahead.length ? { ahead, dropped: 0 } : undefined;
}

/** The lanes a retry found ahead of its checkpoint, and the row changes of theirs it has left out. */
interface ResumeLanes {
  ahead: LaneAhead[];
  dropped: number;
}

/** Row changes in a list of ghost DML (a row, a key, an update each). */
const changeCount = (list: GhostDml[]) =>
  list.reduce((n, d) => n + (d.kind === 'replace' ? d.rows.length : d.kind === 'delete' ? d.keys.length : 1), 0);

/** A lane met what only the batch on one connection can sort out (a duplicate key, a value the ghost refuses). */
class LaneFellBack extends Error {}

class Applier {
  private stored: Stored<BinlogCheckpoint>;
  checkpoint: BinlogCheckpoint;
  caughtUp = false;
  dmlBatchSize: number;
  /** --apply-threads in force: lanes for a large batch (1: none). */
  applyThreads = 1;
  private pendingTx: GhostDml[] = [];
  private pendingTxEvents = 0;
  private pendingMarker: string | null = null;
  private batch: GhostDml[] = [];
  private batchEvents = 0;
  private batchPosition: BinlogPosition;
  private marker: string | null = null;
  private lastFlush = Date.now();
  private lastEventTs = 0;
  private lastBacklogCheck = 0;
  private backlogBytes = 0;
  /** Set once the cut-over's RENAME is in the stream: later events belong to the new table. */
  sealed = false;
  private readonly target;

  private partialEvents = 0;
  /** The binlog this activity read, by writer; and where the open transaction's bytes will go. */
  private readonly binlogRead: BinlogRead = { source: 0, copy: 0, applier: 0, changelog: 0, other: 0 };
  private readingTx: keyof BinlogRead | undefined;
  /** The lanes' connections, opened on the first batch that goes to lanes. */
  private readonly laneConns = new Map<number, Conn>();

  /** Heartbeats seen in the open source transaction, in the batch, and last committed to the ghost's side. */
  private pendingBeat: string | null = null;
  private batchBeat: string | null = null;
  private appliedBeatAt = 0;
  /** When the newest heartbeat read from the stream was written (by this worker's clock). */
  private readBeatAt = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly conn: Conn,
    private readonly input: MigrationInput,
    private readonly plan: TablePlan,
    start: Stored<BinlogCheckpoint>,
    private readonly heartbeat: Heartbeat,
    private readonly metrics?: MigrationMetrics,
    private readonly credentials?: CredentialResolver,
    /** Lanes an earlier attempt committed past the checkpoint: their changes up to there are dropped. */
    private resumeLanes?: ResumeLanes,
  ) {
    this.stored = start;
    this.checkpoint = start.value;
    this.dmlBatchSize = input.dmlBatchSize;
    const startValue = start.value;
    this.batchPosition = { file: startValue.file, position: startValue.position, gtid: startValue.gtid };
    this.target = {
      database: plan.database,
      ghostTable: plan.ghostTable,
      columns: plan.columns,
      key: plan.key,
      inOrder: plan.window !== undefined,
    };
  }

  accept(item: import('../binlog/streamer').StreamItem): void {
    if (item.type === 'rows') {
      if (item.database !== this.plan.database) return;
      if (item.table === this.plan.table) this.readingTx = 'source';
      if (item.table === this.plan.table && !this.sealed) {
        appendDml(this.pendingTx, changeToDml(item.change, this.target));
        this.pendingTxEvents += item.change.rows.length;
        this.lastEventTs = item.timestamp;
        if (this.pendingTxEvents >= MAX_PENDING_ROWS) {
          this.partialEvents += this.pendingTxEvents;
          this.moveToBatch(null);
        }
      } else if (item.table === this.plan.changelogTable && item.change.kind !== 'delete') {
        for (const r of item.change.rows as Row[] | { after: Row }[]) {
          const row = ('after' in r ? r.after : r) as Row;
          this.readingTx ??= changelogWriter(String(row.hint));
          if (row.hint === HINT.cutOverMarker) this.pendingMarker = String(row.value);
          else if (row.hint === 'heartbeat') this.pendingBeat = String(row.value);
        }
      }
    } else if (item.type === 'commit') {
      this.countRead(item.position);
      this.moveToBatch(item.position);
    } else if (item.type === 'ddl') {
      this.countRead(item.position);
      this.moveToBatch(item.position);
      // The RENAME that opened this revert window (see openWindow): the table's changes before it were already the window's.
      const openedBy = this.checkpoint.openedBy;
      if (openedBy && item.position.file === openedBy.file && item.position.position === openedBy.position) return;
      if (this.sealed || !ddlTouchesTable(item.query, item.database, this.plan.database, this.plan.table)) return;
      const q = item.query;
      if (/^\s*RENAME\s+TABLE/i.test(q) && q.includes(this.plan.oldTable) && q.includes(this.plan.ghostTable)) {
        this.sealed = true;
        return;
      }
      throw ApplicationFailure.nonRetryable(
        `${this.plan.database}.${this.plan.table} was changed by DDL during the migration (${q.slice(0, 200)}); the ghost no longer matches it`,
        'TableChangedDuringMigration',
      );
    }
  }

  /**
   * The transaction that ends at `end` was read whole, from where the last one ended (the batch's
   * position, before moveToBatch moves it to `end`): its bytes go to whoever wrote it. (After a
   * rotation the new file's bytes up to `end` are counted, its header with them.)
   */
  private countRead(end: BinlogPosition): void {
    const begun = this.batchPosition;
    const bytes = end.file === begun.file ? end.position - begun.position : end.position;
    if (bytes > 0) this.binlogRead[this.readingTx ?? 'other'] += bytes;
    this.readingTx = undefined;
  }

  /** A source transaction is complete: its statements join the batch, with the position after it. */
  private moveToBatch(position: BinlogPosition | null): void {
    if (position && this.resumeLanes) {
      const before = changeCount(this.pendingTx);
      this.pendingTx = dropCommittedLanes(this.pendingTx, this.target, this.resumeLanes.ahead, position);
      this.resumeLanes.dropped += before - changeCount(this.pendingTx);
    }
    appendDml(this.batch, this.pendingTx);
    this.batchEvents += this.pendingTxEvents;
    this.pendingTx = [];
    this.pendingTxEvents = 0;
    if (position) {
      this.batchPosition = position;
      this.partialEvents = 0;
      if (this.pendingMarker) {
        this.marker = this.pendingMarker;
        this.pendingMarker = null;
      }
      if (this.pendingBeat) {
        this.readBeatAt = this.heartbeat.laterOf(this.readBeatAt, this.pendingBeat);
        this.batchBeat = this.pendingBeat;
        this.pendingBeat = null;
      }
    }
  }

  /** Row changes of the original read but not yet written to the ghost. */
  rowChangesPending(): number {
    return this.batchEvents + this.pendingTxEvents;
  }

  private get positionAdvanced(): boolean {
    return this.batchPosition.file !== this.checkpoint.file || this.batchPosition.position !== this.checkpoint.position;
  }

  /**
   * Whether this attempt has yet to read past the lanes an earlier one committed ahead of the
   * checkpoint. It must not flush before: its batch would leave the ghost's keys at two points
   * of the binlog, those lanes' later, and a REPLACE of one key deletes the row of another that
   * still holds its unique value there (a value they traded in between). That row's changes up
   * to the lanes' checkpoint are the ones this attempt leaves out, so nothing would put it back
   * (lanes.test once ended a row short). Read past them, the batch brings every key to one point.
   */
  private get behindLanesAhead(): boolean {
    return this.resumeLanes?.ahead.some((a) => compareBinlogPositions(this.batchPosition, a.position) < 0) ?? false;
  }

  shouldFlush(): boolean {
    if (this.behindLanesAhead) return false;
    if (this.marker) return true;
    if (this.batchEvents >= this.dmlBatchSize * BATCH_ROWS_PER_DML_BATCH_UNIT) return true;
    const since = Date.now() - this.lastFlush;
    if (this.batch.length > 0 && since >= FLUSH_INTERVAL_MS) return true;
    return (
      this.positionAdvanced &&
      since >= (this.caughtUp ? POSITION_CHECKPOINT_MS.caughtUp : POSITION_CHECKPOINT_MS.behind)
    );
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0 && !this.marker && !this.positionAdvanced) return;
    if (this.behindLanesAhead) return;
    // What the cut-over reads the applier's lag from (no worker's clock needed).
    const appliedHeartbeat = this.batchBeat ?? this.checkpoint.appliedHeartbeat;
    const next: BinlogCheckpoint = {
      ...this.batchPosition,
      eventsApplied: this.checkpoint.eventsApplied + this.batchEvents,
      from: { file: this.checkpoint.file, position: this.checkpoint.position },
      ...(this.partialEvents ? { partialEvents: this.partialEvents } : {}),
      ...(appliedHeartbeat ? { appliedHeartbeat } : {}),
      // A window's checkpoint stays its own: a retry that lost it would look for the window's RENAME again, long past.
      ...(this.checkpoint.window !== undefined ? { window: this.checkpoint.window } : {}),
      ...(this.checkpoint.openedBy ? { openedBy: this.checkpoint.openedBy } : {}),
    };
    // The checkpoint moves first (compare-and-set, taking its row lock): a stale attempt
    // finds it moved and rolls back before any of its changes commit.
    const { statement, next: stored } = advance(this.plan, HINT.binlog, this.stored, next);
    const marker = this.marker
      ? [sql.upsertChangelog(this.plan.database, this.plan.changelogTable, HINT.markerApplied, this.marker)]
      : [];
    const retries = this.input.defaultRetries ?? DEFAULTS.defaultRetries;
    // Large batches go to lanes first, which commit their shares; then the checkpoint commits here.
    let inLanes = false;
    const shares = this.laneShares();
    if (shares) {
      try {
        await this.applyInLanes(shares, next);
        inLanes = true;
      } catch (e) {
        if (!(e instanceof LaneFellBack)) throw e;
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.input.panicOnWarnings) await this.applyChecked(statement, marker);
        else {
          // One statement a round trip (no connection takes several): the checkpoint first,
          // then the batch's merged changes, then the cut-over's marker.
          await this.conn.query('START TRANSACTION');
          if ((await exec(this.conn, statement)).affectedRows !== 1) throw new SupersededError('binlog');
          const statements = inLanes
            ? []
            : dmlToStatements(lastChangePerKey(this.batch, this.target), this.target, !this.ungrouped);
          for (const [i, s] of statements.entries()) {
            // Alive through a long batch (a revert window's, row by row).
            if (i % 100 === 99) Context.current().heartbeat(this.checkpoint);
            await exec(this.conn, s);
          }
          for (const m of marker) await exec(this.conn, m);
        }
        await this.conn.query('COMMIT');
        this.ungrouped = false;
        break;
      } catch (e) {
        await this.conn.query('ROLLBACK').catch(() => {});
        if (mysqlErrorCode(e) === 'ER_DUP_ENTRY' && !this.ungrouped) {
          // Two rows of a grouped UPDATE traded a unique value: the batch again, row by row, in order.
          this.ungrouped = true;
          continue;
        }
        if (isDataLossError(e) && !this.input.allowDataLoss) throw await this.dataLoss(e, next);
        // A deadlock with the application's writes rolls the whole batch back: run it again.
        const wait = retryDelay(e, attempt, {
          defaultRetries: retries,
          lockBackoffMs: 50,
          what: `applying binlog events up to ${next.file}:${next.position}`,
        });
        // Alive while it retries (see copy.ts): the failure the tries end with must end the migration.
        Context.current().heartbeat(this.checkpoint);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    this.metrics?.eventsApplied(this.batchEvents);
    if (this.batchBeat) {
      this.appliedBeatAt = this.heartbeat.laterOf(this.appliedBeatAt, this.batchBeat);
      this.batchBeat = null;
    }
    this.stored = stored;
    this.checkpoint = next;
    // A flush that got here is past every lane ahead (behindLanesAhead): the retry's dropping is over.
    if (this.resumeLanes) {
      Context.current().log.info(
        `apply lanes: ${this.resumeLanes.dropped} row change(s) that lanes had committed past the checkpoint were not applied again`,
      );
      this.resumeLanes = undefined;
    }
    this.batch = [];
    this.batchEvents = 0;
    this.marker = null;
    this.lastFlush = Date.now();
  }

  /** The batch's changes split by lane, if it goes to lanes (large, one change a key, no per-row checks). */
  private laneShares(): GhostDml[][] | undefined {
    if (
      this.applyThreads < 2 ||
      this.input.panicOnWarnings ||
      this.partialEvents > 0 ||
      this.batchEvents < LANES_FROM_EVENTS
    )
      return undefined;
    if (!laneable(this.target)) return undefined;
    return splitByLane(lastChangePerKey(this.batch, this.target), this.target, this.applyThreads);
  }

  /**
   * Each lane's share in a transaction of its own, all at once, each with the lane's checkpoint.
   * Every lane is waited for, whether the others failed or not: none commits behind a retry.
   */
  private async applyInLanes(shares: GhostDml[][], next: BinlogCheckpoint): Promise<void> {
    const at: LaneCheckpoint = { file: next.file, position: next.position, lanes: shares.length };
    const results = await Promise.allSettled(
      shares.map((share, i) => (share.length ? this.applyLane(i + 1, share, at) : Promise.resolve())),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // The moment a retry must not apply the lanes' shares again (test/integration/lanes.test.ts).
    await failpoint('apply:lanes-committed');
  }

  private async applyLane(lane: number, share: GhostDml[], at: LaneCheckpoint): Promise<void> {
    const statements = dmlToStatements(share, this.target, true);
    const retries = this.input.defaultRetries ?? DEFAULTS.defaultRetries;
    for (let attempt = 1; ; attempt++) {
      let conn: Conn | undefined;
      try {
        conn = await this.laneConn(lane);
        await conn.query('START TRANSACTION');
        // The applier's checkpoint, held shared to the commit: an attempt that moved it owns the work now.
        const [held] = await rows(
          conn,
          sql.readChangelogShared(this.plan.database, this.plan.changelogTable, HINT.binlog),
        );
        if (held?.value !== this.stored.raw) throw new SupersededError('binlog');
        await exec(
          conn,
          sql.upsertChangelog(this.plan.database, this.plan.changelogTable, laneHint(lane), JSON.stringify(at)),
        );
        for (const s of statements) await exec(conn, s);
        await conn.query('COMMIT');
        return;
      } catch (e) {
        await conn?.query('ROLLBACK').catch(() => {});
        if (e instanceof SupersededError) throw e;
        if (mysqlErrorCode(e) === 'ER_DUP_ENTRY' || isDataLossError(e)) throw new LaneFellBack(String(e));
        const wait = retryDelay(e, attempt, {
          defaultRetries: retries,
          lockBackoffMs: 50,
          what: `applying lane ${lane}'s share of the binlog events up to ${at.file}:${at.position}`,
        });
        // A connection that failed is opened again for the next try.
        if (!RETRYABLE_LOCK_ERRORS.has(mysqlErrorCode(e) ?? '')) this.dropLane(lane);
        Context.current().heartbeat(this.checkpoint);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async laneConn(lane: number): Promise<Conn> {
    const open = this.laneConns.get(lane);
    if (open) return open;
    const conn = await connect(applierOf(this.input, this.plan), must(this.credentials, "the lanes' credentials"));
    try {
      await exec(conn, sql.ghostWriterSession(this.input));
    } catch (e) {
      conn.destroy();
      throw e;
    }
    this.laneConns.set(lane, conn);
    return conn;
  }

  private dropLane(lane: number): void {
    this.laneConns.get(lane)?.destroy();
    this.laneConns.delete(lane);
  }

  close(): void {
    for (const lane of [...this.laneConns.keys()]) this.dropLane(lane);
  }

  /**
   * A change of the original that the ghost's columns cannot hold (strict session): which row,
   * found by applying the batch's changes one at a time in a transaction that is rolled back.
   */
  private async dataLoss(e: unknown, next: BinlogCheckpoint): Promise<ApplicationFailure> {
    let where = `a batch of ${this.batchEvents} row change(s) up to ${next.file}:${next.position}`;
    try {
      const keyIndex = this.target.key.columns.map((k) => this.target.columns.findIndex((c) => c.source === k));
      await this.conn.query('START TRANSACTION');
      for (const d of lastChangePerKey(this.batch, this.target)) {
        if (d.kind !== 'replace') continue;
        for (const r of d.rows) {
          try {
            await exec(this.conn, replaceStatement(this.target, [r]));
          } catch (one) {
            if (!isDataLossError(one)) continue;
            where = `REPLACE of the row ${this.target.key.columns.map((k, i) => `${k}=${JSON.stringify(r[keyIndex[i]])}`).join(', ')} (binlog up to ${next.file}:${next.position})`;
            e = one;
            throw one;
          }
        }
      }
    } catch {
      /* found, or the search itself failed: report what is known */
    }
    await this.conn.query('ROLLBACK').catch(() => {});
    return ApplicationFailure.nonRetryable(
      `the ALTER loses data: ${describeMysqlError(e)}, applying ${where} to ${this.plan.database}.${this.plan.ghostTable}. ` +
        `Nothing was cut over: ${this.plan.table} is unchanged. Rerun with --allow-data-loss to accept the loss`,
      'DataLoss',
    );
  }

  /** --panic-on-warnings: one round trip per row change, each upsert's warnings read before the next. */
  private async applyChecked(checkpoint: sql.Statement, marker: sql.Statement[]): Promise<void> {
    await this.conn.query('START TRANSACTION');
    if ((await exec(this.conn, checkpoint)).affectedRows !== 1) throw new SupersededError('binlog');
    const units = dmlToCheckedUnits(this.batch, this.target);
    for (let i = 0; i < units.length; i++) {
      let last: { warningStatus?: number } | undefined;
      for (const s of units[i].statements) last = await exec(this.conn, s);
      if (!units[i].upsert || !((last?.warningStatus ?? 0) > 0)) continue;
      // The unit deleted the row's own key first: any duplicate is another row's.
      const warnings = await rows<Warning>(this.conn, sql.showWarnings());
      if (warnings.length) {
        throw ApplicationFailure.nonRetryable(
          `warnings detected in statement ${i + 1} of ${units.length}: [${describeWarnings(warnings)}]`,
          'PanicOnWarnings',
        );
      }
    }
    for (const m of marker) await exec(this.conn, m);
  }

  /** The lag last published for the copy (-1: none yet, what an earlier attempt left is stale). */
  private publishedLagMs = -1;
  private publishedLagAt = 0;
  /** The batch under way is applied update by update (a grouped UPDATE met a duplicate key). */
  private ungrouped = false;

  /**
   * How far behind the applier is, in ms (0: caught up), if the copy should be told now: the
   * copy sets its pace by it (the heartbeat's timer writes it to the changelog). A move of
   * LAG_STEP_MS or more is told at once, the same lag again every LAG_RETELL_MS; the
   * heartbeat's timer asks every LAG_PUBLISH_MS.
   */
  lagToTell(): number | undefined {
    const lagMs = Math.round(this.progress().lagSeconds * 1000);
    return lagWorthTelling(lagMs, this.publishedLagMs, Date.now() - this.publishedLagAt);
  }

  lagTold(ms: number): void {
    this.publishedLagMs = ms;
    this.publishedLagAt = Date.now();
  }

  async refreshBacklog(): Promise<void> {
    if (Date.now() - this.lastBacklogCheck < 1000) return;
    this.lastBacklogCheck = Date.now();
    const [ms] = await rows(this.conn, binlogStatus(flavorOf(this.conn)));
    if (ms && ms.File === this.checkpoint.file)
      this.backlogBytes = Math.max(0, Number(ms.Position) - this.checkpoint.position);
    else if (ms) this.backlogBytes = Number(ms.Position);
  }

  /** The committed checkpoint (where a retry starts), and the lag now: what a revert window's status reads. */
  heartbeatDetails(): BinlogCheckpoint & { lagSeconds: number } {
    return { ...this.checkpoint, lagSeconds: this.progress().lagSeconds };
  }

  /**
   * How far behind the applier is. With changes read but not applied: the age of the last
   * heartbeat applied (before the first one, the least the last event's whole-second timestamp
   * allows: it may be up to 999 ms late). With nothing waiting to be applied: the age of the
   * newest heartbeat read, less the interval it is written at and an allowance for its round
   * trip, which is 0 when the stream is caught up. An empty queue alone does not say so: the
   * stream skips the copy's row events (another table) before they reach the queue, and it
   * empties too whenever the stream reads slower than the applier applies. Counted as caught
   * up, the lag read 0 for seconds and then 5 s at once on MariaDB at 75 % of the write ceiling,
   * too late for the copy to yield. Before the stream has brought back any heartbeat, it has
   * not reached the moment this applier started (the first is written an interval after): it
   * is behind since then. (Counted from the events' timestamps, a backlog the applier started
   * with read under a second, and the copy went on at full speed into a lag of 2 s on MariaDB
   * at half the write ceiling.)
   */
  private lagSeconds(): number {
    const now = Date.now();
    // (A heartbeat is applied only after it is read: no heartbeat read, none applied.)
    if (!this.readBeatAt || (this.caughtUp && this.batch.length === 0)) {
      const beatAt = this.readBeatAt || this.startedAt;
      return Math.max(0, now - beatAt - this.heartbeat.intervalMs - HEARTBEAT_ALLOWANCE_MS) / 1000;
    }
    const since = this.appliedBeatAt || (this.lastEventTs ? this.lastEventTs + 999 : 0);
    return since ? Math.max(0, now - since) / 1000 : 0;
  }

  /** The activity's result: its progress, and the binlog it read by writer. */
  result(): ApplyProgress {
    return { ...this.progress(), binlogRead: { ...this.binlogRead } };
  }

  progress(): ApplyProgress {
    return {
      eventsApplied: this.checkpoint.eventsApplied,
      position: { file: this.checkpoint.file, position: this.checkpoint.position },
      lagSeconds: this.lagSeconds(),
      backlogBytes: this.backlogBytes,
    };
  }
}
