// The revert window (--revert-window): after the cut-over the table put aside follows every
// write; `revert` swaps it back in under writes, and the window goes on the other way, so the
// revert can be reverted; `finalize` ends it. At each step, with writes stopped, the table and
// the one kept beside it are equal on the columns both have, row for row by checksum; every
// acknowledged insert is in the table; the column the ALTER dropped kept its values in the
// rows that had them, updated or moved to another key during the window.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  createTestTable,
  freshDatabase,
  input,
  runRevenant,
  startTemporal,
  tablesIn,
  waitForPhase,
  type TestTemporal,
  WRITE_PAUSE_MS,
  tableArgs,
} from '../support/helpers';
import type { MigrationResult, MigrationStatus } from '../../model/types';
import { sleep } from '../support/wait';
import { finalizeUpdate, revertUpdate, statusQuery } from '../../model/messages';

const ROWS = 20_000;
const SHARED = ['id', 'uk', 'name', 'amount', 'created'];
let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-revert');
});
after(async () => {
  await temporal.close();
});

/** Writers on the columns both structures have: inserts (a ledger of names), updates, deletes, keys moved. */
class Writers {
  private stopping = false;
  private loops: Promise<void>[] = [];
  private next = 0;
  readonly inserted: string[] = [];
  readonly errors: string[] = [];
  constructor(private readonly db: string) {}
  /**
   * Returns once the writers have inserted `rows` more rows (updates, deletes and key moves
   * between them): writes made during a phase, counted, not a fixed pause.
   */
  async wrote(rows: number, what: string): Promise<void> {
    const target = this.inserted.length + rows;
    const deadline = Date.now() + 60_000;
    while (this.inserted.length < target) {
      assert.ok(
        Date.now() < deadline,
        `the writers inserted ${this.inserted.length} of ${target} rows in 60 s (${what})`,
      );
      assert.deepEqual(this.errors, [], what);
      await sleep(50);
    }
  }
  start(n = 2): this {
    this.stopping = false;
    this.loops = Array.from({ length: n }, (_, i) => this.loop(i));
    return this;
  }
  private async loop(index: number): Promise<void> {
    const c = await admin(this.db);
    const rnd = () => 1 + Math.floor(Math.random() * ROWS);
    let n = 0;
    try {
      while (!this.stopping) {
        n++;
        try {
          switch (n % 5) {
            case 0: {
              const name = `live-${index}-${n}-${Date.now()}`;
              await c.query('INSERT INTO t (uk, name, amount, created) VALUES (?, ?, ?, NOW(6))', [
                1_000_000_000 + this.next++,
                name,
                n / 3,
              ]);
              this.inserted.push(name);
              break;
            }
            case 1:
              await c.query("UPDATE t SET amount = amount + 1, name = CONCAT(name, '+') WHERE id = ?", [rnd()]);
              break;
            case 2:
              await c.query('DELETE FROM t WHERE id = ?', [rnd()]);
              break;
            case 3:
              await c.query('UPDATE t SET id = id + 100000000 WHERE id = ?', [rnd()]);
              break;
            default:
              await c.query('UPDATE t SET uk = uk + 1000000 WHERE id = ?', [rnd()]);
          }
        } catch (e) {
          const code = (e as { code?: string }).code ?? '';
          // The table is locked and renamed under the writers at each cut-over: a statement may wait or collide, as an application's would.
          if (!['ER_DUP_ENTRY', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'].includes(code))
            this.errors.push((e as Error).message);
        }
        await sleep(WRITE_PAUSE_MS);
      }
    } finally {
      await c.end();
    }
  }
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }
}

/**
 * With writes stopped: a last row written to the table shows in the kept table once every
 * change before it is applied there (in order); then both are compared.
 */
async function assertKeptEqual(db: string, kept: string, what: string): Promise<void> {
  const c = await admin(db);
  const marker = `marker-${kept}-${Date.now()}`;
  await c.query('INSERT INTO t (uk, name, amount, created) VALUES (?, ?, 0, NOW(6))', [
    2_000_000_000 + (Date.now() % 100_000_000),
    marker,
  ]);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [r] = await c.query<RowDataPacket[]>(`SELECT 1 FROM \`${kept}\` WHERE name = ?`, [marker]);
    if (r.length) break;
    assert.ok(Date.now() < deadline, `${kept} did not catch up with t within 60 s (${what})`);
    await sleep(100);
  }
  const [keptSum, tableSum] = [await checksum(db, kept, SHARED), await checksum(db, 't', SHARED)];
  let rowsThatDiffer: unknown[] = [];
  if (JSON.stringify(keptSum) !== JSON.stringify(tableSum)) {
    const same = SHARED.map((col) => `a.${col} <=> b.${col}`).join(' AND ');
    [rowsThatDiffer] = await c.query<
      any[]
    >(`(SELECT 't' AS side, a.* FROM t a LEFT JOIN \`${kept}\` b ON ${same} WHERE b.id IS NULL LIMIT 5)
        UNION ALL (SELECT '${kept}', a.* FROM \`${kept}\` a LEFT JOIN t b ON ${same} WHERE b.id IS NULL LIMIT 5)`);
  }
  await c.end();
  assert.deepEqual(
    keptSum,
    tableSum,
    `${what}: ${kept} equals t on the shared columns; rows that differ: ${JSON.stringify(rowsThatDiffer)}`,
  );
}

async function missing(db: string, names: string[]): Promise<string[]> {
  const c = await admin(db);
  const [r] = await c.query<RowDataPacket[]>("SELECT name FROM t WHERE name LIKE 'live-%'");
  await c.end();
  const present = new Set(r.map((x) => String(x.name).replace(/\+*$/, '')));
  return names.filter((n) => !present.has(n));
}

test('revert window: revert under writes, revert the revert, finalize; equal at each step, every write kept, dropped column values kept', {
  timeout: 300_000,
}, async () => {
  const db = 'rv_revert';
  await freshDatabase(db);
  await createTestTable(db, 't', ROWS);
  const writers = new Writers(db).start();
  const handle = await temporal.start(
    input(db, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 7, DROP COLUMN note, ADD INDEX amount_idx (amount)', {
      revertWindowSeconds: 3600,
      checksum: false,
    }),
  );
  try {
    const open = await waitForPhase(handle, ['revertible', 'failed']);
    assert.equal(open.phase, 'revertible', open.message);
    assert.equal(open.revert?.tableHas, 'migrated');
    assert.equal(open.revert?.keptTable, '_t_del');
    assert.equal(open.revert?.warning, undefined, 'note is nullable: nothing stops the window');
    await writers.wrote(60, 'in the window');

    // 1. Revert under writes.
    assert.match(
      await handle.executeUpdate(revertUpdate),
      /reverted: it has the original structure; _t_gho is kept up to date/,
    );
    await writers.wrote(40, 'after the revert');
    await writers.stop();
    assert.deepEqual(writers.errors, []);
    let s: MigrationStatus = await handle.query(statusQuery);
    assert.equal(s.phase, 'revertible');
    assert.deepEqual(
      { has: s.revert?.tableHas, kept: s.revert?.keptTable, reverts: s.revert?.reverts },
      { has: 'original', kept: '_t_gho', reverts: 1 },
    );
    assert.deepEqual(await tablesIn(db), ['_t_ghc', '_t_gho', 't']);
    await assertKeptEqual(db, '_t_gho', 'after the revert');
    assert.deepEqual(await missing(db, writers.inserted), [], 'every acknowledged insert is in the reverted table');
    const a = await admin(db);
    const [cols] = await a.query<RowDataPacket[]>(
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION",
      [db],
    );
    assert.deepEqual(
      cols.map((r) => r.c),
      ['id', 'uk', 'name', 'amount', 'note', 'created'],
      'the original structure is back',
    );
    // Rows of before the migration kept their note through updates and key moves in the window.
    const [[notes]] = await a.query<
      any[]
    >(`SELECT COUNT(*) AS n, SUM(NOT (note <=> IF(uk DIV 3 % 5 = 0, NULL, CONCAT('note ', uk DIV 3)))) AS wrong
        FROM t WHERE uk <= ${3 * ROWS}`);
    assert.ok(Number(notes.n) > ROWS / 4, `rows of before the migration remain (${notes.n})`);
    assert.equal(Number(notes.wrong), 0, 'the dropped column kept its values');

    // 2. Revert the revert, under writes.
    writers.start();
    await writers.wrote(40, 'before the revert of the revert');
    assert.match(
      await handle.executeUpdate(revertUpdate),
      /reverted: it has the migrated structure; _t_del is kept up to date/,
    );
    await writers.wrote(40, 'after the revert of the revert');
    await writers.stop();
    assert.deepEqual(writers.errors, []);
    s = await handle.query(statusQuery);
    assert.deepEqual(
      { has: s.revert?.tableHas, kept: s.revert?.keptTable, reverts: s.revert?.reverts },
      { has: 'migrated', kept: '_t_del', reverts: 2 },
    );
    await assertKeptEqual(db, '_t_del', 'after the revert of the revert');
    assert.deepEqual(await missing(db, writers.inserted), [], 'every acknowledged insert is in the table');
    const [[extra]] = await a.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM t WHERE extra <> 7');
    assert.equal(Number(extra.n), 0, 'the added column has its default');
    await a.end();

    // 3. Finalize: the window ends, the changelog goes, the original structure is kept as _t_del.
    assert.match(await handle.executeUpdate(finalizeUpdate), /the revert window ends now/);
    const r = (await handle.result()) as MigrationResult;
    assert.equal(r.status.phase, 'completed');
    assert.match(r.status.message ?? '', /migrated; old table kept as _t_del; the revert window closed \(finalized\)/);
    assert.equal(r.status.revert?.reverts, 2);
    assert.equal(r.status.redoneEvents, 0);
    assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
    await assert.rejects(handle.executeUpdate(revertUpdate));
  } finally {
    await writers.stop();
  }
});

test('revert window: a revert leaves the migrated table as _t_del at the end; the window ends by itself when its time is up', {
  timeout: 180_000,
}, async () => {
  const db = 'rv_revert_timer';
  await freshDatabase(db);
  await createTestTable(db, 't', 2000);
  const handle = await temporal.start(
    input(db, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 7', { revertWindowSeconds: 8, checksum: false }),
  );
  assert.equal((await waitForPhase(handle, ['revertible', 'failed'])).phase, 'revertible');
  await handle.executeUpdate(revertUpdate);
  const r = (await handle.result()) as MigrationResult;
  assert.match(
    r.status.message ?? '',
    /and reverted \(1 revert in the window\): it has its original structure; the migrated table kept as _t_del; the revert window closed \(its time was up\)/,
  );
  assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
  const a = await admin(db);
  const [[withExtra]] = await a.query<RowDataPacket[]>(
    "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = '_t_del' AND COLUMN_NAME = 'extra'",
    [db],
  );
  await a.end();
  assert.equal(Number(withExtra.n), 1, '_t_del is the migrated table');
  assert.deepEqual(await checksum(db, '_t_del', SHARED), await checksum(db, 't', SHARED));
});

/** Events in the history from the window's opening (its applier scheduled) to the end. */
async function windowEvents(handle: { fetchHistory: () => Promise<{ events?: any[] | null }> }): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  const drains = events
    .map((e, i) => (e.activityTaskScheduledEventAttributes?.activityType?.name === 'drainBinlog' ? i : -1))
    .filter((i) => i >= 0);
  assert.ok(drains.length >= 2, 'the window had an applier of its own');
  return events.length - drains[1];
}

test('revert window: its history does not grow with its length under writes (10 s and 70 s windows); the status reads its progress', {
  timeout: 300_000,
}, async (t) => {
  const windows = [10, 70];
  const dbs = windows.map((s) => `rv_revert_hist_${s}`);
  const writers: Writers[] = [];
  try {
    const handles = await Promise.all(
      windows.map(async (seconds, i) => {
        await freshDatabase(dbs[i]);
        await createTestTable(dbs[i], 't', 5000);
        writers.push(new Writers(dbs[i]).start(1));
        return temporal.start(
          input(dbs[i], 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 7', {
            revertWindowSeconds: seconds,
            checksum: false,
          }),
        );
      }),
    );
    const long = handles[1];
    await waitForPhase(long, ['revertible', 'failed']);
    await sleep(15_000);
    // The CLI's status reads the window's progress from its applier's heartbeat.
    const out = await runRevenant(['status', ...tableArgs(dbs[1], 't')], temporal.taskQueue);
    const m =
      /Revert window: t has the migrated structure; _t_del kept up to date \((\d+) changes applied, lag [\d.]+s\); 0 revert\(s\); (\d+)s left/.exec(
        out.out,
      );
    assert.ok(m, out.out);
    assert.ok(Number(m[1]) > 0, `changes applied in the window, as the status reads them: ${m[1]}`);
    assert.ok(Number(m[2]) > 0 && Number(m[2]) <= 60, `time left: ${m[2]}`);
    const results = (await Promise.all(handles.map((h) => h.result()))) as MigrationResult[];
    for (const r of results) assert.match(r.status.message ?? '', /the revert window closed \(its time was up\)/);
    const [short, longer] = await Promise.all(handles.map(windowEvents));
    t.diagnostic(
      `window history: ${short} events for 10 s, ${longer} for 70 s, under writes; the window applied ${results[1].status.revert!.eventsApplied} changes in 70 s`,
    );
    // The window's history is its applier, its timer and the cleanup, however long it stays open.
    assert.ok(
      longer <= short + 4 && longer < 40,
      `history of the window: ${short} events for 10 s, ${longer} for 70 s of writes`,
    );
    assert.ok(results[1].status.revert!.eventsApplied > 0, "the window's count, as its applier ended");
  } finally {
    await Promise.all(writers.map((w) => w.stop()));
  }
});

test("gh-ost's --revert --old-table: a migration without a window, kept with --checkpoint, reverted later from the binlog of its cut-over", {
  timeout: 300_000,
}, async () => {
  const db = 'rv_revert_later';
  await freshDatabase(db);
  await createTestTable(db, 't', ROWS);
  const writers = new Writers(db).start();
  const flags = [...tableArgs(db, 't'), '--allow-on-master'];
  const cli = (args: string[]) => runRevenant(['migrate', ...flags, ...args], temporal.taskQueue);
  try {
    let r = await cli([
      '--alter',
      'ADD COLUMN extra INT NOT NULL DEFAULT 7, DROP COLUMN note',
      '--checkpoint',
      '--checksum=false',
      '--execute',
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /its checkpoint kept as _t_ghk for --revert --old-table _t_del/);
    assert.deepEqual(await tablesIn(db), ['_t_del', '_t_ghk', 't']);
    // The migrated table in use for a while: all of it must reach _t_del at the revert.
    await writers.wrote(60, 'on the migrated table');
    await writers.stop();
    assert.deepEqual(writers.errors, []);

    // Refused by name, nothing changed.
    r = await cli(['--revert']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /--revert needs --old-table/);
    r = await cli(['--revert', '--old-table', '_t_old', '--execute']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /cannot revert: --old-table rv_revert_later\._t_old does not exist/);
    r = await cli(['--revert', '--old-table', '_t_del', '--alter', 'ADD COLUMN other INT', '--execute']);
    assert.match(
      r.out,
      /cannot revert: the checkpoint is of the migration "ADD COLUMN extra INT NOT NULL DEFAULT 7, DROP COLUMN note", this command has "ADD COLUMN other INT"/,
    );
    r = await cli(['--revert', '--old-table', '_t_del']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /dry run: _t_del can be brought up to date from the binlog and swapped back in/);
    assert.deepEqual(await tablesIn(db), ['_t_del', '_t_ghk', 't']);

    r = await cli(['--revert', '--old-table', '_t_del', '--execute']);
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /rv_revert_later\.t reverted \(--revert\): it has its original structure; the migrated table kept as _t_del/,
    );
    assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
    const a = await admin(db);
    const [cols] = await a.query<RowDataPacket[]>(
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION",
      [db],
    );
    const [[notes]] = await a.query<RowDataPacket[]>(
      `SELECT SUM(NOT (note <=> IF(uk DIV 3 % 5 = 0, NULL, CONCAT('note ', uk DIV 3)))) AS wrong FROM t WHERE uk <= ${3 * ROWS}`,
    );
    await a.end();
    assert.deepEqual(
      cols.map((x) => x.c),
      ['id', 'uk', 'name', 'amount', 'note', 'created'],
      'the original structure is back',
    );
    assert.equal(Number(notes.wrong), 0, 'the dropped column kept its values');
    // Every write made to the migrated table is in the reverted one.
    assert.deepEqual(await checksum(db, 't', SHARED), await checksum(db, '_t_del', SHARED));
    assert.deepEqual(await missing(db, writers.inserted), []);
  } finally {
    await writers.stop();
  }

  // Under writes, with a window after it: the revert's window goes on the other way.
  const db2 = 'rv_revert_later_window';
  await freshDatabase(db2);
  await createTestTable(db2, 't', ROWS);
  const w2 = new Writers(db2).start();
  try {
    const migrated = (await (
      await temporal.start(
        input(db2, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 7', { checkpoint: true, checksum: false }),
      )
    ).result()) as MigrationResult;
    assert.equal(migrated.status.phase, 'completed');
    await w2.wrote(40, 'on the migrated table');
    const handle = await temporal.start(
      input(db2, 't', '', { revert: { oldTable: '_t_del' }, revertWindowSeconds: 3600 }),
    );
    let s: MigrationStatus;
    // Revertible at once (reverts 0), cutting over, then revertible the other way.
    for (const deadline = Date.now() + 120_000; ; await sleep(200)) {
      s = await handle.query(statusQuery);
      if (s.phase === 'failed' || (s.phase === 'revertible' && (s.revert?.reverts ?? 0) >= 1)) break;
      assert.ok(Date.now() < deadline, `the revert did not happen in 120 s: ${s.phase}`);
    }
    assert.equal(s.phase, 'revertible', s.message);
    assert.deepEqual({ has: s.revert?.tableHas, kept: s.revert?.keptTable }, { has: 'original', kept: '_t_gho' });
    await w2.wrote(40, "in the revert's window");
    await w2.stop();
    assert.deepEqual(w2.errors, []);
    await assertKeptEqual(db2, '_t_gho', 'after --revert, in its window');
    assert.deepEqual(await missing(db2, w2.inserted), []);
    await handle.executeUpdate(finalizeUpdate);
    const r = (await handle.result()) as MigrationResult;
    assert.match(
      r.status.message ?? '',
      /reverted \(--revert\): it has its original structure; the migrated table kept as _t_del; the revert window closed \(finalized\)/,
    );
    assert.equal(r.status.redoneEvents, 0);
    assert.deepEqual(await tablesIn(db2), ['_t_del', 't']);
  } finally {
    await w2.stop();
  }
});
