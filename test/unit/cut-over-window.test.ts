// Cut-over windows and --start-at, as pure functions: how a window is read, when the next one
// opens in its time zone, and what the command line and the input refuse.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrateRequest, parseFlags, startAtInstant, UsageError } from '../../client/flags';
import { parseCutOverWindow, windowState, WindowRefused } from '../../model/cut-over-window';
import { completeInput, InputRefused } from '../../model/migration-input';
import { validateChange } from '../../model/settings';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const state = (now: string, ...texts: string[]) => windowState(at(now), texts.map(parseCutOverWindow));

test('cut-over window: days, times and zone read as written', () => {
  const w = parseCutOverWindow('Mon-Fri 02:00-04:00 Europe/Berlin');
  assert.deepEqual(w.days, [false, true, true, true, true, true, false]);
  assert.equal(w.opens, 7200);
  assert.equal(w.closes, 14_400);
  assert.equal(w.timeZone, 'Europe/Berlin');
  assert.deepEqual(parseCutOverWindow('Fri-Mon 22:00-02:00').days, [true, true, false, false, false, true, true]);
  assert.deepEqual(parseCutOverWindow('sat,sun 00:00-24:00 UTC').days, [true, false, false, false, false, false, true]);
  assert.equal(parseCutOverWindow('03:15:30-03:16').opens, 3 * 3600 + 15 * 60 + 30);
  assert.equal(parseCutOverWindow('daily 01:00-02:00').timeZone, 'UTC');
});

test('cut-over window: what is not a window is refused, saying why', () => {
  for (const [text, words] of [
    ['Mon-Fri 02:00', /is not \[days\] HH:MM-HH:MM/],
    ['Xyz 02:00-03:00', /"Xyz" is not a day/],
    ['Mon-Xyz 02:00-03:00', /"Mon-Xyz" is not a day/],
    ['02:00-02:00', /opens and closes at the same time/],
    ['25:00-26:00', /"25:00" is not a time of day/],
    ['02:00-03:61', /"03:61" is not a time of day/],
    ['Mon 02:00-04:00 Mars/Olympus', /"Mars\/Olympus" is not a time zone/],
    ['Mon 02:00-04:00 UTC extra', /is not \[days\]/],
    ['', /is not \[days\]/],
  ] as const) {
    assert.throws(
      () => parseCutOverWindow(text),
      (e: Error) => e instanceof WindowRefused && words.test(e.message),
      text,
    );
  }
});

test('cut-over window: the next opening, in the window time zone', () => {
  // Wednesday noon UTC; Berlin is UTC+1 in December: Thursday 02:00 there is 01:00 UTC.
  const next = state('2026-12-02T12:00:00Z', 'Mon-Fri 02:00-04:00 Europe/Berlin');
  assert.equal(next.inside, false);
  assert.equal(iso(!next.inside ? next.opensAt : 0), '2026-12-03T01:00:00.000Z');
  assert.equal(iso(next.closesAt), '2026-12-03T03:00:00.000Z');
  // Inside: until it closes.
  const inside = state('2026-12-03T01:30:00Z', 'Mon-Fri 02:00-04:00 Europe/Berlin');
  assert.deepEqual(inside, {
    inside: true,
    closesAt: at('2026-12-03T03:00:00Z'),
    window: 'Mon-Fri 02:00-04:00 Europe/Berlin',
  });
  // Friday after the window: the next is Monday's.
  const weekend = state('2026-12-04T05:00:00Z', 'Mon-Fri 02:00-04:00 Europe/Berlin');
  assert.equal(iso(!weekend.inside ? weekend.opensAt : 0), '2026-12-07T01:00:00.000Z');
  // In summer Berlin is UTC+2.
  const summer = state('2026-07-01T12:00:00Z', 'daily 02:00-04:00 Europe/Berlin');
  assert.equal(iso(!summer.inside ? summer.opensAt : 0), '2026-07-02T00:00:00.000Z');
  // A window across midnight is still open after it, and the earliest of several wins.
  assert.equal(state('2026-12-03T01:00:00Z', 'daily 22:00-02:00').inside, true);
  const earliest = state('2026-12-03T12:00:00Z', 'daily 20:00-21:00', 'daily 13:00-13:30');
  assert.equal(iso(!earliest.inside ? earliest.opensAt : 0), '2026-12-03T13:00:00.000Z');
  assert.equal(earliest.window, 'daily 13:00-13:30');
  // The day Berlin's clocks go forward (02:00 → 03:00): a window in the gap opens once it is over.
  const gap = state('2026-03-28T12:00:00Z', 'Sun 02:30-04:00 Europe/Berlin');
  assert.equal(gap.inside, false);
  const opens = !gap.inside ? gap.opensAt : 0;
  assert.ok(opens >= at('2026-03-29T00:30:00Z') && opens <= at('2026-03-29T01:30:00Z'), iso(opens));
  assert.equal(iso(gap.closesAt), '2026-03-29T02:00:00.000Z');
});

test('--cut-over-window is repeatable; --start-at takes an instant, a time of day or a delay', () => {
  const base = ['--database', 'd', '--table', 't', '--alter', 'ADD COLUMN c INT'];
  const request = migrateRequest(
    parseFlags([
      ...base,
      '--cut-over-window',
      'Mon-Fri 02:00-04:00 Europe/Berlin',
      '--cut-over-window=Sat 10:00-11:00',
    ]),
  );
  assert.deepEqual(request.input.cutOverWindows, ['Mon-Fri 02:00-04:00 Europe/Berlin', 'Sat 10:00-11:00']);
  assert.throws(
    () => migrateRequest(parseFlags([...base, '--cut-over-window', 'Mon 02:00-04:00 Nowhere'])),
    (e: Error) => e instanceof UsageError && /--cut-over window .*"Nowhere" is not a time zone/.test(e.message),
  );
  const now = at('2026-12-03T12:00:00Z');
  assert.equal(startAtInstant('2026-12-24T02:00:00+01:00', now), '2026-12-24T02:00:00+01:00');
  assert.equal(startAtInstant('30m', now), '2026-12-03T12:30:00.000Z');
  const clock = at(startAtInstant('11:00', now));
  assert.ok(clock > now && clock <= now + 86_400_000, 'HH:MM is its next occurrence');
  for (const bad of ['tomorrow', '2026-12-24T02:00:00', '25:00', '-5m'])
    assert.throws(() => startAtInstant(bad, now), UsageError, bad);
});

test('the input refuses a bad window or start time, naming the field', () => {
  const given = { server: { host: 'h' }, database: 'd', table: 't', alter: 'ADD COLUMN c INT' };
  assert.throws(
    () => completeInput({ ...given, cutOverWindows: ['Mon 02:00-04:00', 'whenever'] }),
    (e: Error) => e instanceof InputRefused && /input field cutOverWindows: cut-over window "whenever"/.test(e.message),
  );
  assert.throws(
    () => completeInput({ ...given, startAt: '2026-12-24 02:00' }),
    (e: Error) => e instanceof InputRefused && /input field startAt: .* is not an ISO 8601 instant/.test(e.message),
  );
  assert.deepEqual(completeInput({ ...given, cutOverWindows: ['daily 01:00-02:00'] }).cutOverWindows, [
    'daily 01:00-02:00',
  ]);
});

test('--force-cut-over-after takes a duration; --force-cut-over-kill-large needs it', () => {
  const base = ['--database', 'd', '--table', 't', '--alter', 'ADD COLUMN c INT'];
  assert.equal(migrateRequest(parseFlags([...base, '--force-cut-over-after', '5s'])).input.forceCutOverAfterSeconds, 5);
  assert.equal(migrateRequest(parseFlags([...base, '--force-cut-over-after=2m'])).input.forceCutOverAfterSeconds, 120);
  // Settable while the migration runs: `revenant set force-cut-over-after=5s`, the socket, the update.
  assert.equal(validateChange({ 'force-cut-over-after': '5s' }).forceCutOverAfterSeconds, 5);
  assert.equal(validateChange({ forceCutOverAfterSeconds: 0 }).forceCutOverAfterSeconds, 0);
  assert.throws(() => validateChange({ 'force-cut-over-after': 'soon' }), /takes a duration such as 90s/);
  assert.throws(
    () => migrateRequest(parseFlags([...base, '--force-cut-over-after', 'soon'])),
    (e: Error) => e instanceof UsageError && /--force-cut-over-after takes a duration/.test(e.message),
  );
  assert.throws(
    () => migrateRequest(parseFlags([...base, '--force-cut-over-kill-large'])),
    (e: Error) => e instanceof UsageError && /needs --force-cut-over-after/.test(e.message),
  );
});
