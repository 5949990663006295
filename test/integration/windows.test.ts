// Cut-over windows and --start-at, on a real server and a real Temporal: a migration ready
// outside its window waits postponed (its status says until when) and cuts over inside it;
// one whose window closes on a blocked cut-over waits for the next window; a scheduled start
// inspects at once and creates nothing before its time. The windows here are seconds long,
// written in UTC with seconds (the same reader takes "Mon-Fri 02:00-04:00 Europe/Berlin").
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { cutOverSignal } from '../../model/messages';
import {
  admin,
  checksum,
  createTestTable,
  failureOf,
  freshDatabase,
  input,
  onePass,
  startTemporal,
  tablesIn,
  waitForPhase,
  waitForStatus,
  WriteLoad,
  type TestTemporal,
} from '../support/helpers';

// The windows are the workflow's arithmetic, the same on every server: one pass runs them.
const ELSEWHERE = onePass('mariadb11', 'mysql');
const COLUMNS = ['id', 'uk', 'name', 'amount', 'note', 'created'];

let temporal: TestTemporal;
before(async () => {
  if (!ELSEWHERE) temporal = await startTemporal('test-windows');
});
after(async () => {
  await temporal?.close();
});

/** "daily HH:MM:SS-HH:MM:SS UTC" from two instants. */
const windowOf = (opens: number, closes: number) => {
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  return `daily ${clock(opens)}-${clock(closes)} UTC`;
};
const second = (ms: number) => Math.ceil(ms / 1000) * 1000;

/** The history's length, and its timers of at least `longMs` (the window's wait is one). */
async function historyEvents(handle: WorkflowHandle, longMs = 10_000): Promise<{ total: number; longTimers: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const seconds = (e: (typeof events)[number]) =>
    Number(String(e.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0));
  return { total: events.length, longTimers: events.filter((e) => seconds(e) * 1000 >= longMs).length };
}

test('a migration ready outside its window waits postponed, then cuts over inside it', {
  skip: ELSEWHERE,
  timeout: 240_000,
}, async () => {
  const db = 'rv_window_wait';
  await freshDatabase(db);
  await createTestTable(db, 't', 3000);
  const load = new WriteLoad(db, 't', 3000).start(2);
  const opens = second(Date.now() + 40_000);
  const closes = opens + 60_000;
  const handle = await temporal.start(
    input(db, 't', 'ADD COLUMN w INT NULL', { cutOverWindows: [windowOf(opens, closes)], checksum: true }),
  );
  const waiting = await waitForPhase(handle, ['postponed', 'cutting-over', 'completed'], 60_000);
  assert.equal(waiting.phase, 'postponed', `ready before its window, it waits: ${waiting.message}`);
  assert.equal(waiting.cutOverWindow?.opensAt, new Date(opens).toISOString());
  assert.equal(waiting.cutOverWindow?.closesAt, new Date(closes).toISOString());
  assert.match(waiting.message ?? '', /waits for its window "daily .* UTC", next open from/);
  // Temporal Web's "current details" say it too.
  const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  assert.match(currentDetails ?? '', new RegExp(`next open from ${new Date(opens).toISOString()}`));
  await load.stop();
  const before = await historyEvents(handle);
  const result = (await handle.result()) as { status: { renamedAt?: number } };
  const renamedAt = result.status.renamedAt ?? 0;
  assert.ok(
    renamedAt >= opens && renamedAt < closes,
    `renamed at ${new Date(renamedAt).toISOString()}, inside the window`,
  );
  const afterWait = await historyEvents(handle);
  // The wait is one timer, however long: the events it adds are the timer's, the phase's and at most a few reports.
  assert.equal(afterWait.longTimers, 1, 'one timer for the wait');
  assert.ok(
    afterWait.total - before.total < 50,
    `${afterWait.total - before.total} events from postponed to completed`,
  );
  assert.deepEqual(await checksum(db, 't', COLUMNS), await checksum(db, '_t_del', COLUMNS));
});

test('a cut-over the window closes on (a lock held) waits for the next window; cut-over overrides', {
  skip: ELSEWHERE,
  timeout: 240_000,
}, async () => {
  const db = 'rv_window_short';
  await freshDatabase(db);
  await createTestTable(db, 't', 2000);
  const opens = second(Date.now() + 35_000);
  const closes = opens + 12_000;
  const handle = await temporal.start(
    input(db, 't', 'ADD COLUMN w INT NULL', {
      cutOverWindows: [windowOf(opens, closes)],
      cutOverLockTimeoutSeconds: 1,
    }),
  );
  await waitForPhase(handle, ['postponed'], 60_000);
  // An open transaction that read the table holds its metadata lock: no cut-over can lock it.
  const blocker = await admin(db);
  await blocker.query('BEGIN');
  await blocker.query('SELECT COUNT(*) FROM t');
  try {
    await waitForStatus(handle, (s) => s.phase === 'cutting-over', 'the window to open', 60_000);
    const next = await waitForStatus(
      handle,
      (s) => s.phase === 'postponed' && !!s.cutOverWindow && Date.parse(s.cutOverWindow.opensAt) > closes,
      'the next window',
      60_000,
    );
    assert.equal(next.cutOverWindow?.opensAt, new Date(opens + 86_400_000).toISOString(), 'the same time tomorrow');
    assert.ok(next.cutOverAttempts >= 1, 'it tried inside the window');
    assert.ok(!(await tablesIn(db)).includes('_t_del'), 'the original is still in place');
  } finally {
    await blocker.query('COMMIT');
    await blocker.end();
  }
  await handle.signal(cutOverSignal);
  await handle.result();
  assert.deepEqual(await checksum(db, 't', COLUMNS), await checksum(db, '_t_del', COLUMNS));
});

test('--start-at: inspected at once, nothing created before its time', {
  skip: ELSEWHERE,
  timeout: 120_000,
}, async () => {
  const db = 'rv_start_at';
  await freshDatabase(db);
  await createTestTable(db, 't', 500);
  const startAt = new Date(second(Date.now() + 20_000)).toISOString();
  const handle = await temporal.start(input(db, 't', 'ADD COLUMN w INT NULL', { startAt }));
  const scheduled = await waitForPhase(handle, ['scheduled', 'preparing', 'migrating', 'completed'], 30_000);
  assert.equal(scheduled.phase, 'scheduled');
  assert.match(scheduled.message ?? '', new RegExp(`begins at ${startAt}`));
  assert.deepEqual(await tablesIn(db), ['t'], 'nothing created while scheduled');
  const result = (await handle.result()) as { status: { renamedAt?: number } };
  assert.ok((result.status.renamedAt ?? 0) >= Date.parse(startAt), 'migrated after its start time');
  // A table that is not there is refused at once, not at the start time.
  const missing = await temporal.start(input(db, 'nope', 'ADD COLUMN w INT NULL', { startAt: '2030-01-01T00:00:00Z' }));
  const began = Date.now();
  assert.match(await failureOf(missing), /does not exist/);
  assert.ok(Date.now() - began < 10_000, 'refused within seconds');
});
