// The changelog table (_<t>_ghc) holds revenant's state on the server itself, next to the
// data it describes: the migration record, the copy checkpoint and the binlog checkpoint,
// each written in the same transaction as the work it records.
import type { BinlogPosition, TablePlan } from '../model/types';
import type { ChunkRange, ClaimedChunk } from '../table/chunks';
import type { EncodedKey } from '../table/keys';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';

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

export async function readJson<T>(
  conn: Conn,
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
  hint: string,
): Promise<T | undefined> {
  const v = (await readHints(conn, plan, [hint])).get(hint);
  return v === undefined ? undefined : (JSON.parse(v) as T);
}

/** A checkpoint as stored (raw, for compare-and-set) and parsed. */
export interface Stored<T> {
  raw: string;
  value: T;
}

export async function readStored<T>(
  conn: Conn,
  plan: Pick<TablePlan, 'database' | 'changelogTable'>,
  hint: string,
): Promise<Stored<T> | undefined> {
  const raw = (await readHints(conn, plan, [hint])).get(hint);
  return raw === undefined ? undefined : { raw, value: JSON.parse(raw) as T };
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
