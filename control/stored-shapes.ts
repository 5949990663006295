// The shapes of what revenant writes to the changelog, checked on every read. Anyone with
// write rights on the schema can change that table, and its checkpoints decide what is
// copied, applied and skipped, and where the binlog is read from: a value of another shape
// (a key that is not one, a count that is negative, a lane count past the most there can be)
// is refused by name, once, since it would fail the same way on every retry.
import { MAX_APPLY_THREADS } from '../model/settings';
import type { BinlogPosition, SharedKey } from '../model/types';
import type { EncodedKey } from '../table/keys';
import type { ChunkRange, ClaimedChunk } from '../table/chunks';
import type { BinlogCheckpoint, CopyCheckpoint, LaneCheckpoint, MigrationRecord } from './changelog';

/** Whether a value parsed from the changelog has the shape of a T. */
export type Shape<T> = (value: unknown) => value is T;

type Fields = Record<string, unknown>;

const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string';
const isFlag = (v: unknown): v is boolean => typeof v === 'boolean';
const optional = (v: unknown, is: (x: unknown) => boolean) => v === undefined || is(v);

/** A binlog file's name as servers make it (`mysql-bin.000042`): it goes to the binlog dump, and into messages. */
const BINLOG_FILE = /^[\w.-]{1,255}$/;
/** A GTID set (MySQL: `uuid[:tag]:1-5,…`) or position (MariaDB: `0-1-42,…`). */
const GTID_TEXT = /^[\w:,\s-]{0,65535}$/;
/** An integer key's bound: it goes back to the server as a BigInt (table/keys.ts). */
const INTEGER_TEXT = /^-?\d{1,20}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A binlog position, its other fields still to check. */
const isPositionFields = (v: unknown): v is Fields & BinlogPosition =>
  isFields(v) &&
  isText(v.file) &&
  BINLOG_FILE.test(v.file) &&
  isCount(v.position) &&
  optional(v.gtid, (g) => isText(g) && GTID_TEXT.test(g));

const isBinlogPosition: Shape<BinlogPosition> = isPositionFields;

export const isBinlogCheckpoint: Shape<BinlogCheckpoint> = (v): v is BinlogCheckpoint =>
  isPositionFields(v) &&
  isCount(v.eventsApplied) &&
  optional(v.from, isBinlogPosition) &&
  optional(v.partialEvents, isCount) &&
  optional(v.appliedHeartbeat, isText) &&
  optional(v.window, isCount) &&
  optional(v.openedBy, isBinlogPosition);

/** A lane's checkpoint, under the hint of lane `lane` (1-based): that lane of at most MAX_APPLY_THREADS. */
export const laneCheckpointShape =
  (lane: number): Shape<LaneCheckpoint> =>
  (v): v is LaneCheckpoint =>
    isPositionFields(v) &&
    Number.isSafeInteger(v.lanes) &&
    lane <= Number(v.lanes) &&
    Number(v.lanes) <= MAX_APPLY_THREADS;

/** A key's values as encodeKey writes them: one a key column, integers as integers. */
function isKeyOf(key: SharedKey, v: unknown): v is EncodedKey {
  if (!Array.isArray(v) || v.length !== key.columns.length) return false;
  return v.every((x: unknown, i) => {
    if (x === null) return true;
    if (isFields(x)) return Object.keys(x).length === 1 && isText(x.b64) && BASE64.test(x.b64);
    if (key.integer[i])
      return (isText(x) && INTEGER_TEXT.test(x)) || (typeof x === 'number' && Number.isSafeInteger(x));
    return isText(x) || (typeof x === 'number' && Number.isFinite(x));
  });
}

const isRangeOf = (key: SharedKey, v: unknown): v is Fields & ChunkRange =>
  isFields(v) && (v.after === null || isKeyOf(key, v.after)) && isKeyOf(key, v.to);

/** The copy's checkpoint over `key`, the key it walks (the plan's copyKey, else its key). */
export const copyCheckpointShape =
  (key: SharedKey): Shape<CopyCheckpoint> =>
  (v): v is CopyCheckpoint =>
    isFields(v) &&
    (v.min === null || isKeyOf(key, v.min)) &&
    (v.max === null || isKeyOf(key, v.max)) &&
    (v.lastKey === null || isKeyOf(key, v.lastKey)) &&
    optional(
      v.claimed,
      (c) => Array.isArray(c) && c.every((x: unknown): x is ClaimedChunk => isRangeOf(key, x) && isFlag(x.done)),
    ) &&
    optional(v.chunk, (c) => isRangeOf(key, c)) &&
    isCount(v.rowsCopied) &&
    isCount(v.chunksCopied) &&
    isFlag(v.done);

/**
 * A migration record's fields that are read before its plan is checked (stored-plan.ts checks
 * the plan against the tables themselves).
 */
export const isMigrationRecord: Shape<MigrationRecord> = (v): v is MigrationRecord =>
  isFields(v) &&
  isText(v.workflowId) &&
  isText(v.database) &&
  isText(v.table) &&
  isText(v.alter) &&
  isFields(v.plan) &&
  isBinlogPosition(v.startPosition) &&
  isText(v.startedAt);

/** The control mirror's version, the one field read back from it (live-settings.ts writes it, and reads nothing else). */
export const isVersioned: Shape<{ version: number }> = (v): v is { version: number } =>
  isFields(v) && typeof v.version === 'number' && Number.isFinite(v.version);
