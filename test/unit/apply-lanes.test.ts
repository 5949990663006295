// The applier's lanes (binlog/apply-lanes.ts): a key always goes to the same lane, every change
// goes to exactly one lane, and a retry drops exactly the changes the lanes ahead committed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dropCommittedLanes, laneable, laneOf, splitByLane } from '../../binlog/apply-lanes';
import { compareBinlogPositions } from '../../binlog/position';
import type { ApplyTarget, GhostDml } from '../../binlog/row-events';
import { applyTarget } from '../support/apply-target';

const target = applyTarget();

test('a key has one lane, the same each time, and the lanes share the keys', () => {
  const counts = [0, 0, 0, 0];
  for (let id = 1; id <= 4000; id++) {
    const lane = laneOf([id], 4);
    assert.equal(laneOf([String(id)], 4), lane);
    assert.ok(lane >= 1 && lane <= 4);
    counts[lane - 1]++;
  }
  for (const c of counts) assert.ok(c > 800 && c < 1200, `lane sizes ${counts}`);
});

test('splitting a batch puts every change in exactly the lane of its key', () => {
  const changes: GhostDml[] = [
    { kind: 'delete', keys: [[1], [2], [3]] },
    {
      kind: 'replace',
      rows: Array.from({ length: 50 }, (_, i) => [i + 10, `v${i}`]),
    },
  ];
  const shares = splitByLane(changes, target, 4);
  assert.ok(shares);
  const seen: string[] = [];
  for (const [i, share] of shares.entries()) {
    for (const d of share) {
      if (d.kind === 'delete')
        for (const k of d.keys) {
          assert.equal(laneOf(k, 4), i + 1);
          seen.push(`d${k[0]}`);
        }
      if (d.kind === 'replace')
        for (const r of d.rows) {
          assert.equal(laneOf([r[0]], 4), i + 1);
          seen.push(`r${r[0]}`);
        }
    }
  }
  assert.equal(seen.length, 53);
  assert.equal(new Set(seen).size, 53);
  // A revert window's in-order updates are not by key alone: no lanes.
  assert.equal(splitByLane([{ kind: 'update', key: [1], row: [1, 'x'] }], target, 4), undefined);
  assert.equal(laneable({ ...target, inOrder: true }), false);
  assert.equal(laneable({ ...target, key: { ...target.key, integer: [false] } } as ApplyTarget), false);
});

test('positions compare by file number, then offset', () => {
  const after = (a: { file: string; position: number }, b: { file: string; position: number }) =>
    compareBinlogPositions(a, b) > 0;
  assert.ok(after({ file: 'b.000002', position: 4 }, { file: 'b.000001', position: 900 }));
  assert.ok(after({ file: 'b.000001', position: 901 }, { file: 'b.000001', position: 900 }));
  assert.ok(!after({ file: 'b.000001', position: 900 }, { file: 'b.000001', position: 900 }));
  // By the file's number, not its name: the index outgrows six digits.
  assert.ok(after({ file: 'b.1000000', position: 4 }, { file: 'b.999999', position: 900 }));
});

test("a retry drops the changes of transactions a lane ahead committed, and only that lane's", () => {
  const ids = Array.from({ length: 40 }, (_, i) => i + 1);
  const lane2 = ids.filter((id) => laneOf([id], 4) === 2);
  const others = ids.filter((id) => laneOf([id], 4) !== 2);
  const tx: GhostDml[] = [
    { kind: 'delete', keys: ids.map((id) => [id]) },
    { kind: 'replace', rows: ids.map((id) => [id, 'x']) },
  ];
  const ahead = [{ lane: 2, lanes: 4, position: { file: 'b.000001', position: 5000 } }];
  const kept = (list: GhostDml[]) =>
    list.flatMap((d) =>
      d.kind === 'delete' ? d.keys.map((k) => `d${k[0]}`) : d.kind === 'replace' ? d.rows.map((r) => `r${r[0]}`) : [],
    );
  // Committed at or before the lane's checkpoint: lane 2's changes are in the ghost already.
  const before = dropCommittedLanes(tx, target, ahead, { file: 'b.000001', position: 5000 });
  assert.deepEqual(kept(before), [...others.map((id) => `d${id}`), ...others.map((id) => `r${id}`)]);
  // After it: nothing dropped.
  const after = dropCommittedLanes(tx, target, ahead, { file: 'b.000001', position: 5001 });
  assert.deepEqual(kept(after), [...ids.map((id) => `d${id}`), ...ids.map((id) => `r${id}`)]);
  assert.ok(lane2.length > 0);
});

test('lanes of two counts ahead (--apply-threads changed between two killed attempts): a key is dropped by the lane it hashed to then', () => {
  const ids = Array.from({ length: 60 }, (_, i) => i + 1);
  const tx: GhostDml[] = [{ kind: 'delete', keys: ids.map((id) => [id]) }];
  const kept = (list: GhostDml[]) => list.flatMap((d) => (d.kind === 'delete' ? d.keys.map((k) => Number(k[0])) : []));
  // The first attempt's lane 2 of 3 reached 5000; the next attempt's lane 1 of 2 reached 9000.
  const ahead = [
    { lane: 2, lanes: 3, position: { file: 'b.000001', position: 5000 } },
    { lane: 1, lanes: 2, position: { file: 'b.000001', position: 9000 } },
  ];
  const at = (position: number) => kept(dropCommittedLanes(tx, target, ahead, { file: 'b.000001', position }));
  const inThree2 = (id: number) => laneOf([id], 3) === 2;
  const inTwo1 = (id: number) => laneOf([id], 2) === 1;
  assert.deepEqual(
    at(5000),
    ids.filter((id) => !inThree2(id) && !inTwo1(id)),
  );
  assert.deepEqual(
    at(7000),
    ids.filter((id) => !inTwo1(id)),
  );
  assert.deepEqual(at(9001), ids);
  // The two lanes share some keys and not others: each case is met.
  assert.ok(ids.some((id) => inThree2(id) && !inTwo1(id)));
  assert.ok(ids.some((id) => inTwo1(id) && !inThree2(id)));
  assert.ok(ids.some((id) => inTwo1(id) && inThree2(id)));
});
