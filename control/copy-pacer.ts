// The copy's pace, set by the applier's lag. Every row the copy inserts is also a row event in
// the binlog, which the applier must read (and step over) before it reaches the application's
// next change, on a server the copy also keeps busy. Under a heavy write load a copy at full
// speed puts the applier seconds behind; a copy that only stops once the applier is far behind
// and starts again at full speed swings between the two (the benchmark saw 0.5 s, 1.6 s, 1.4 s
// within ten seconds on MariaDB at half its write ceiling). So the copy works a share of the
// time, its duty: it rests after each chunk for as long as the chunk took, times
// (1 / duty - 1). The duty falls by a factor while the applier's lag is above a mark and climbs
// back by steps while it is under a lower one (additive increase, multiplicative decrease, as
// TCP finds a link's rate); past a higher mark the copy holds until the lag is low again.
// A busy table's copy starts at a quarter of the time and climbs from there (TCP's slow
// start): at full speed from its first chunk, MySQL's copy at 75 % of sysbench's ceiling put
// the applier 1.2-1.6 s behind within three seconds, before the first lag it read was high.
// Pure: it is told the lag and the time, and answers; the copy's reader feeds it.

export const PACE = {
  /** Under this lag the duty climbs, a step a turn. */
  raiseBelowMs: 250,
  /** Over this lag the duty falls, by a factor a turn. (Lower marks, 250 ms, slowed MySQL's copy at half its write ceiling to a crawl: 104 s against 29.) */
  lowerAboveMs: 500,
  /** Over this lag the copy holds, */
  holdAboveMs: 800,
  /** until the lag is under this. */
  resumeBelowMs: 250,
  /** How often the duty may change: about the applier's flush interval, so one lag is not counted twice. */
  turnMs: 100,
  raiseStep: 0.1,
  lowerFactor: 0.7,
  /** The least share of the time the copy works while it is not holding. */
  minDuty: 0.02,
  /** The longest rest: a lag that clears is seen within it. */
  maxRestMs: 1_000,
  /** The duty a busy table's copy starts at (model/types.ts: BUSY_TABLE_WRITES_PER_SECOND). */
  busyStartDuty: 0.25,
} as const;

export class CopyPacer {
  /** The share of the time the copy works, in (0, 1]. */
  duty: number;
  /** The applier is far behind: no chunk starts. */
  holding = false;
  private turnAt = Number.NEGATIVE_INFINITY;

  constructor(startDuty = 1) {
    this.duty = startDuty;
  }

  /** The applier's lag now (0: caught up). */
  observe(lagMs: number, now: number): void {
    if (this.holding ? lagMs < PACE.resumeBelowMs : lagMs > PACE.holdAboveMs) this.holding = !this.holding;
    if (now - this.turnAt < PACE.turnMs) return;
    this.turnAt = now;
    if (lagMs > PACE.lowerAboveMs) this.duty = Math.max(PACE.minDuty, this.duty * PACE.lowerFactor);
    else if (lagMs < PACE.raiseBelowMs) this.duty = Math.min(1, this.duty + PACE.raiseStep);
  }

  /** How long to rest after a chunk that took `chunkMs`. */
  restAfter(chunkMs: number): number {
    return this.duty >= 1 ? 0 : Math.min(PACE.maxRestMs, Math.round(chunkMs * (1 / this.duty - 1)));
  }
}
