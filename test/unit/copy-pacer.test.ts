// The copy's pace (control/copy-pacer.ts): it slows while the applier's lag is high, holds when
// it is far behind, and climbs back to full speed once the applier keeps up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CopyPacer, PACE } from '../../control/copy-pacer';

/** Feeds the pacer one lag a turn, from `t`; returns the time after the last. */
const feed = (p: CopyPacer, lagMs: number, turns: number, t = 0) => {
  for (let i = 0; i < turns; i++) p.observe(lagMs, t + i * PACE.turnMs);
  return t + turns * PACE.turnMs;
};

test('a caught-up applier leaves the copy at full speed, with no rest', () => {
  const p = new CopyPacer();
  feed(p, 0, 20);
  assert.equal(p.duty, 1);
  assert.equal(p.holding, false);
  assert.equal(p.restAfter(40), 0);
});

test('a lag over the mark lowers the duty by a factor a turn, never under the floor', () => {
  const p = new CopyPacer();
  feed(p, PACE.lowerAboveMs + 50, 1);
  assert.equal(p.duty, PACE.lowerFactor);
  // The copy works 70 % of the time: a 70 ms chunk, then a 30 ms rest.
  assert.equal(p.restAfter(70), 30);
  feed(p, PACE.lowerAboveMs + 50, 100, PACE.turnMs);
  assert.equal(p.duty, PACE.minDuty);
  assert.equal(p.restAfter(10), 490);
  // A long chunk's rest is capped: a lag that clears is seen within it.
  assert.equal(p.restAfter(500), PACE.maxRestMs);
});

test('one turn counts one lag: readings closer together than a turn change the duty once', () => {
  const p = new CopyPacer();
  for (let ms = 0; ms < PACE.turnMs; ms += 10) p.observe(PACE.lowerAboveMs + 50, ms);
  assert.equal(p.duty, PACE.lowerFactor);
});

test('between the marks the duty stays; under the lower one it climbs back by steps to full', () => {
  const p = new CopyPacer();
  const t = feed(p, PACE.lowerAboveMs + 100, 3);
  const low = p.duty;
  const t2 = feed(p, (PACE.raiseBelowMs + PACE.lowerAboveMs) / 2, 10, t);
  assert.equal(p.duty, low);
  feed(p, 0, 1, t2);
  assert.ok(Math.abs(p.duty - (low + PACE.raiseStep)) < 1e-9);
  feed(p, 0, 100, t2 + PACE.turnMs);
  assert.equal(p.duty, 1);
});

test('far behind, the copy holds until the lag is low again, not merely under the hold mark', () => {
  const p = new CopyPacer();
  p.observe(PACE.holdAboveMs + 1, 0);
  assert.equal(p.holding, true);
  p.observe(PACE.holdAboveMs - 100, 100);
  assert.equal(p.holding, true);
  p.observe(PACE.resumeBelowMs - 1, 200);
  assert.equal(p.holding, false);
});

test("a busy table's copy starts at a quarter of the time and climbs to full while the applier keeps up", () => {
  const p = new CopyPacer(PACE.busyStartDuty);
  assert.equal(p.duty, 0.25);
  // A 100 ms chunk, then a 300 ms rest.
  assert.equal(p.restAfter(100), 300);
  feed(p, 0, 8);
  assert.equal(p.duty, 1);
  assert.equal(p.restAfter(100), 0);
});
