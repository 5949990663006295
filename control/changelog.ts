// The changelog table (_<t>_ghc) holds revenant's state on the server itself, next to the
// data it describes: the migration record, the copy checkpoint and the binlog checkpoint,
// each written in the same transaction as the work it records.
import type { BinlogPosition, TablePlan } from '../model/types';
import type { ChunkRange, ClaimedChunk } from '../table/chunks';
import type { EncodedKey } from '../table/keys';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { refuse } from '../checks/refuse';
import { laneCheckpointShape, type Shape } from './stored-shapes';
import { MAX_APPLY_THREADS } from '../model/settings';

export const HINT = {
  migration: 'migration',
  copy: 'copy-checkpoint',
  binlog: 'binlog-checkpoint',
  cutOverMarker: 'cut-over-marker',
  markerApplied: 'cut-over-marker-applied',
  control: 'control',
  /** The applier's lag in ms while it is behind, '0' once caught up: the copy yields to it (control.ts). */
  applyBehind: 'apply-behind',
} as const;

const LANE_HINT_PREFIX = 'apply-lane-';
/** The binlog position up to which apply lane `lane` (1-based) committed its share of a batch (activities/apply.ts). */
export const laneHint = (lane: number) => `${LANE_HINT_PREFIX}${lane}`;
/** Whether a changelog hint is an apply lane's checkpoint (laneHint). */
export const isLaneHint = (hint: string) => hint.startsWith(LANE_HINT_PREFIX);

/** A lane's checkpoint: the position up to which it committed its share, and how many lanes shared the keys then. */
export interface LaneCheckpoint extends BinlogPosition {
  lanes: number;
}

export interface MigrationRecord {
  workflowId: string;
  database: string;
  table: string;
  alter: string;
  plan: TablePlan;
  startPosition: BinlogPosition;
  startedAt: string;
}

export interface CopyCheckpoint {
  /** Key range of the table when the copy began; rows beyond max arrive through the binlog. */
  min: EncodedKey | null;
  max: EncodedKey | null;
  /** The low watermark: every key up to it (inclusive) is copied; null before any. */
  lastKey: EncodedKey | null;
  /** Ranges claimed beyond the watermark, in key order, each committed (done) or not (see chunks.ts). */
  claimed?: ClaimedChunk[];
  /** The range this version of the checkpoint committed. Lets an audit check that chunks tile the key range. */
  chunk?: ChunkRange;
  rowsCopied: number;
  chunksCopied: number;
  done: boolean;
}

export interface BinlogCheckpoint extends BinlogPosition {
  eventsApplied: number;
  /** The position the last batch started from: consecutive batches must chain (audit). */
  from?: BinlogPosition;
  /** Events of a source transaction applied before its commit was seen; replayed on resume. */
  partialEvents?: number;
  /** The last heartbeat value applied with or before this checkpoint (see heartbeatMillis). */
  appliedHeartbeat?: string;
  /** The revert window this checkpoint belongs to (TablePlan.window); absent before the cut-over. */
  window?: number;
  /**
   * A window's: the position right after the RENAME that opened it. The window's applier reads
   * from the cut-over's marker, not from there (see openWindow in drain.ts), and steps over that
   * RENAME when it comes.
   */
  openedBy?: BinlogPosition;
}

/**
 * A heartbeat value as epoch milliseconds. Heartbeats are written as the server's clock in
 * UTC ('YYYY-MM-DD HH:MM:SS.sss'); NaN for anything else.
 */
export const heartbeatMillis = (value: string): number => Date.parse(`${value.replace(' ', 'T')}Z`);

export async function readHints(
  conn: Conn,
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
  hints: string[],
): Promise<Map<string, string>> {
  const rs = await rows(conn, sql.readChangelog(plan.database, plan.changelogTable, hints));
  return new Map(rs.map((r) => [r.hint as string, r.value as string]));
}

/**
 * A value of the changelog, parsed and of `shape` (stored-shapes.ts), or undefined when the row
 * is not there. Any other row is refused: the table is one anyone with rights on the schema can
 * write, and a value that does not parse fails the same way on every retry.
 */
export async function readJson<T>(
  conn: Conn,
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
  hint: string,
  shape: Shape<T>,
): Promise<T | undefined> {
  return (await readStored(conn, plan, hint, shape))?.value;
}

/** The apply lanes' checkpoints there are, by lane (1-based), each of the shape its lane writes. */
export async function readLaneCheckpoints(
  conn: Conn,
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
): Promise<Map<number, LaneCheckpoint>> {
  const lanes = Array.from({ length: MAX_APPLY_THREADS }, (_, i) => i + 1);
  const found = await readHints(conn, plan, lanes.map(laneHint));
  const out = new Map<number, LaneCheckpoint>();
  for (const lane of lanes) {
    const raw = found.get(laneHint(lane));
    if (raw !== undefined) out.set(lane, parseStored(plan, laneHint(lane), raw, laneCheckpointShape(lane)));
  }
  return out;
}

/** A checkpoint as stored (raw, for compare-and-set) and parsed. */
export interface Stored<T> {
  raw: string;
  value: T;
}

/** As readJson, with the row's text as stored (for compare-and-set). */
export async function readStored<T>(
  conn: Conn,
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
  hint: string,
  shape: Shape<T>,
): Promise<Stored<T> | undefined> {
  const raw = (await readHints(conn, plan, [hint])).get(hint);
  return raw === undefined ? undefined : { raw, value: parseStored(plan, hint, raw, shape) };
}

/** A changelog row's text parsed as `shape`, or refused by the row's name. */
export function parseStored<T>(
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
  hint: string,
  raw: string,
  shape: Shape<T>,
): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (!shape(value))
    refuse(
      `cannot continue from ${plan.database}.${plan.changelogTable}: its '${hint}' row is not one revenant wrote ` +
        `(it is malformed); drop the ghost and changelog tables and start anew`,
    );
  return value;
}

/** The statement that advances a checkpoint from `from` to `to`, and what it stores. */
export function advance<T>(
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
  hint: string,
  from: Stored<T>,
  to: T,
): { statement: sql.Statement; next: Stored<T> } {
  const raw = JSON.stringify(to);
  return {
    statement: sql.compareAndSetChangelog(plan.database, plan.changelogTable, hint, from.raw, raw),
    next: { raw, value: to },
  };
}

/** Thrown when a checkpoint moved under this attempt: another attempt owns the work now. */
export class SupersededError extends Error {
  constructor(what: string) {
    super(`${what} checkpoint was advanced by another attempt; this one stops (nothing of it was committed)`);
  }
}

export function writeJson(
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
  hint: string,
  value: unknown,
): sql.Statement {
  return sql.upsertChangelog(plan.database, plan.changelogTable, hint, JSON.stringify(value));
}
