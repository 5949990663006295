// Chunk arithmetic for a parallel copy, pure (no I/O): which key ranges are claimed, which
// are committed, and the low watermark below which every key is copied. Several copiers
// claim ranges in key order and commit them in whatever order they finish; the checkpoint
// stores the watermark and the claimed ranges beyond it, in key order, each marked done or
// not. A resumed copy redoes exactly the claimed ranges not done (they never committed) and
// goes on after the last claimed one: nothing committed is copied twice, nothing skipped.
import type { CopyCheckpoint } from '../control/changelog';
import { sameKey, type EncodedKey } from './keys';
import { must } from '../model/must';

/** A key range: keys above `after` (null: from the table's first key, inclusive) up to `to` inclusive. */
export interface ChunkRange {
  after: EncodedKey | null;
  to: EncodedKey;
}

export interface ClaimedChunk extends ChunkRange {
  done: boolean;
}

const sameBound = (a: EncodedKey | null, b: EncodedKey | null) => (a === null || b === null ? a === b : sameKey(a, b));

export class ChunkWindow {
  private lastKey: EncodedKey | null;
  private readonly claimed: ClaimedChunk[];
  /** Claimed ranges a copier is working on now (the others, after a resume, wait for one). */
  private readonly inHand = new Set<ClaimedChunk>();

  constructor(private readonly checkpoint: Pick<CopyCheckpoint, 'lastKey' | 'max' | 'claimed'>) {
    this.lastKey = checkpoint.lastKey;
    this.claimed = (checkpoint.claimed ?? []).map((c) => ({ ...c }));
  }

  /** Where the next new range starts: after the last one claimed, or the watermark. */
  get cursor(): EncodedKey | null {
    return this.claimed.length ? this.claimed[this.claimed.length - 1].to : this.lastKey;
  }

  /** No new range to claim: the last claimed (or copied) one ends at the key range's max. */
  get exhausted(): boolean {
    const c = this.cursor;
    return c !== null && this.checkpoint.max !== null && sameKey(c, this.checkpoint.max);
  }

  /** Every key up to max is copied. */
  get complete(): boolean {
    return (
      this.claimed.length === 0 &&
      this.lastKey !== null &&
      this.checkpoint.max !== null &&
      sameKey(this.lastKey, this.checkpoint.max)
    );
  }

  /** Nothing left to hand out: no new range, and every unfinished one is in a copier's hands. */
  get drained(): boolean {
    return this.exhausted && !this.claimed.some((c) => !c.done && !this.inHand.has(c));
  }

  /** A range an earlier attempt claimed and did not commit, and no copier holds now. */
  takeUnfinished(): ClaimedChunk | undefined {
    const c = this.claimed.find((x) => !x.done && !this.inHand.has(x));
    if (c) this.inHand.add(c);
    return c;
  }

  /** Claims the range from the cursor to `to`. */
  claim(to: EncodedKey): ClaimedChunk {
    if (this.exhausted) throw new Error('chunk window: claim past the end of the key range');
    const c: ClaimedChunk = { after: this.cursor, to, done: false };
    this.claimed.push(c);
    this.inHand.add(c);
    return c;
  }

  /** The watermark and claimed ranges once `chunk` is committed (nothing changes here). */
  afterCommitting(chunk: ClaimedChunk): { lastKey: EncodedKey | null; claimed: ClaimedChunk[] } {
    const i = this.claimed.indexOf(chunk);
    if (i < 0 || chunk.done) throw new Error('chunk window: commit of a range not claimed, or committed already');
    const claimed = this.claimed.map((c, j) => ({ after: c.after, to: c.to, done: c.done || j === i }));
    let lastKey = this.lastKey;
    while (claimed.length && claimed[0].done && sameBound(claimed[0].after, lastKey))
      lastKey = must(claimed.shift(), 'a claimed range').to;
    return { lastKey, claimed };
  }

  /** Records the commit of `chunk` (after the server confirmed it). */
  committed(chunk: ClaimedChunk): void {
    const next = this.afterCommitting(chunk);
    this.inHand.delete(chunk);
    chunk.done = true;
    this.lastKey = next.lastKey;
    // The watermark passed the leading done ranges: they leave the window.
    this.claimed.splice(0, this.claimed.length - next.claimed.length);
  }

  /** Claimed ranges in key order (for reports). */
  get claimedRanges(): readonly ClaimedChunk[] {
    return this.claimed;
  }
}

/** The largest chunk an adaptive copy grows to. */
export const MAX_ADAPTIVE_CHUNK = 100_000;

/**
 * The next chunk's size for a chunk of `size` rows that took `elapsedMs`, aiming at
 * `targetMs` a chunk (Spirit's target chunk time): at most twice or half the last, so one
 * slow or fast chunk (a lock wait, a cached range) does not swing it, between 10 rows and
 * MAX_ADAPTIVE_CHUNK.
 */
export function nextChunkSize(size: number, elapsedMs: number, targetMs: number): number {
  const factor = Math.min(2, Math.max(0.5, targetMs / Math.max(1, elapsedMs)));
  return Math.min(MAX_ADAPTIVE_CHUNK, Math.max(10, Math.round(size * factor)));
}

/**
 * Whether a key of one integer column is dense (an AUTO_INCREMENT, rows deleted here and
 * there): its span at most DENSE_SPAN times the rows the table holds by its statistics. Its
 * ranges are then cut by arithmetic (chunkEndByArithmetic), where finding a range's end
 * otherwise reads its rows once more on the original (LIMIT 1 OFFSET: a fifth of the checksum
 * on MySQL 9.7, nearly half on MariaDB 10.11, one range at a time; for the copy, one index walk
 * a chunk while the other copier waits to claim). A unique key holds at most one row a value,
 * so a range of n key values holds at most n rows whatever the statistics say, and a quarter
 * of n on average when they are right. With no statistics, or a wider span, the ranges are
 * found by reading.
 */
const DENSE_SPAN = 4;
export function denseIntegerKey(lo: bigint, hi: bigint, estimatedRows: number): boolean {
  const rows = BigInt(Math.max(0, Math.floor(estimatedRows)));
  return rows > 0n && hi - lo + 1n <= rows * BigInt(DENSE_SPAN);
}

/**
 * The last key of the next range of a dense integer key (denseIntegerKey): `size` key values
 * from the cursor, the first range from `min` included, none past `max`.
 */
export function chunkEndByArithmetic(after: bigint | null, min: bigint, max: bigint, size: number): bigint {
  const width = BigInt(Math.max(1, Math.floor(size)));
  const end = after === null ? min + width - 1n : after + width;
  return end < max ? end : max;
}
