// The applier's lanes: a batch reduced to each key's last change (lastChangePerKey) applies in
// any order and leaves the ghost as the original was, so its changes can be split by key
// across connections that write at once. A key always goes to the same lane (a hash of it),
// so each lane's share of the binlog is a fixed set of keys, and a lane can say exactly which
// changes it committed: its checkpoint (control/changelog.ts laneHint) is the position up to
// which its share of every batch is in the ghost. A retry that starts from the applier's
// checkpoint drops the changes of the lanes that were already past it (dropCommittedLanes),
// and commits nothing until it has read past them, so that every key is at one point of the
// binlog when it does (Applier.behindLanesAhead): nothing is applied twice, nothing is skipped.
// Pure: the applier (activities/apply.ts) runs the lanes.
import type { BinlogPosition } from '../model/types';
import { compareBinlogPositions } from './position';
import { appendDml, type ApplyTarget, type GhostDml } from './row-events';

/** Whether a batch of `target` can go to lanes: its changes reduce to one a key (integer keys, not a revert window's). */
export function laneable(t: ApplyTarget): boolean {
  return !t.inOrder && t.key.integer.every(Boolean);
}

/** The lane (1..lanes) of a key: FNV-1a of its values, so the same key always goes to the same lane. */
export function laneOf(key: unknown[], lanes: number): number {
  let h = 0x811c9dc5;
  const text = key.map(String).join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % lanes) + 1;
}

const keyIndexOf = (t: ApplyTarget) => t.key.columns.map((k) => t.columns.findIndex((c) => c.source === k));

/**
 * A batch's changes, one a key (the output of lastChangePerKey), split by lane: element i-1
 * is lane i's. Undefined if a change is not by key (an in-order UPDATE).
 */
export function splitByLane(changes: GhostDml[], t: ApplyTarget, lanes: number): GhostDml[][] | undefined {
  const keyIndex = keyIndexOf(t);
  const out: GhostDml[][] = Array.from({ length: lanes }, () => []);
  for (const d of changes) {
    if (d.kind === 'delete')
      for (const k of d.keys) appendDml(out[laneOf(k, lanes) - 1], [{ kind: 'delete', keys: [k] }]);
    else if (d.kind === 'replace')
      for (const r of d.rows)
        appendDml(
          out[
            laneOf(
              keyIndex.map((i) => r[i]),
              lanes,
            ) - 1
          ],
          [{ kind: 'replace', rows: [r] }],
        );
    else return undefined;
  }
  return out;
}

/** A lane an earlier attempt committed past the applier's checkpoint: its keys' changes up to `position` are in the ghost. */
export interface LaneAhead {
  /** The lane (1..lanes), of `lanes` that shared the keys then (--apply-threads can change between attempts). */
  lane: number;
  lanes: number;
  position: BinlogPosition;
}

/**
 * A source transaction's changes (committed at `at`) without those of keys a lane ahead
 * committed at or past it: an earlier attempt applied them. A key is the lane's if it hashes
 * to it among the lanes there were then: two attempts killed in a row with different
 * --apply-threads leave lanes of two counts ahead, and a key can be in one of each.
 */
export function dropCommittedLanes(
  changes: GhostDml[],
  t: ApplyTarget,
  ahead: LaneAhead[],
  at: BinlogPosition,
): GhostDml[] {
  const done = (key: unknown[]) =>
    ahead.some((a) => compareBinlogPositions(at, a.position) <= 0 && laneOf(key, a.lanes) === a.lane);
  const keyIndex = keyIndexOf(t);
  const out: GhostDml[] = [];
  for (const d of changes) {
    if (d.kind === 'delete') {
      const keys = d.keys.filter((k) => !done(k));
      if (keys.length) appendDml(out, [{ kind: 'delete', keys }]);
    } else if (d.kind === 'replace') {
      const rows = d.rows.filter((r) => !done(keyIndex.map((i) => r[i])));
      if (rows.length) appendDml(out, [{ kind: 'replace', rows }]);
    } else out.push(d);
  }
  return out;
}
