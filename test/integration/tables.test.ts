// Several tables in one migration (--alter-table T="…" …), cut over together in ONE RENAME
// (activities/cutover-together.ts). Writers change orders and order_items in one transaction
// each, a matching pair; a reader reads both in one transaction throughout and must never see
// one migrated and the other not; the revert swaps both back in one RENAME. The tables are
// compared at the end with what the writers were told was committed, row for row.
import type { FieldPacket, RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { after, before, test } from 'node:test';
import {
  admin,
  binlogPosition,
  databaseArgs,
  checksum,
  freshDatabase,
  renamesInBinlog,
  runRevenant,
  seq,
  tableArgs,
  TEMPORAL_ADDRESS,
  WorkerProcess,
} from '../support/helpers';
import { sleep, waitForValue } from '../support/wait';
import { fleetWorkflowId, type FleetStatus } from '../../model/types';
import { fleetStatusQuery } from '../../model/messages';

const QUEUE = 'tables';
const ROWS = 20_000;
let connection: Connection;
let client: Client;
const worker = new WorkerProcess(QUEUE);

before(async () => {
  connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  client = new Client({ connection });
  await worker.start();
});
after(async () => {
  worker.kill9();
  await connection?.close();
});

async function makeTables(db: string): Promise<void> {
  await freshDatabase(db);
  const c = await admin(db);
  await c.query(
    'CREATE TABLE orders (id INT NOT NULL, v BIGINT NOT NULL, note VARCHAR(40) NULL, PRIMARY KEY (id)) ENGINE=InnoDB',
  );
  await c.query(
    'CREATE TABLE order_items (id INT NOT NULL, order_id INT NOT NULL, v BIGINT NOT NULL, PRIMARY KEY (id), KEY order_idx (order_id)) ENGINE=InnoDB',
  );
  await c.query(`INSERT INTO orders SELECT seq, 0, CONCAT('order ', seq) FROM ${seq(ROWS)} AS s`);
  await c.query(`INSERT INTO order_items SELECT seq, seq, 0 FROM ${seq(ROWS)} AS s`);
  await c.end();
}

const ALTERS = [
  '--alter-table',
  'orders=ADD COLUMN o_new INT NOT NULL DEFAULT 7',
  '--alter-table',
  'order_items=ADD COLUMN i_new INT NOT NULL DEFAULT 9, ADD INDEX v_idx (v)',
];

const migrateTables = (db: string, ...more: string[]) => [
  'migrate',
  ...databaseArgs(db),
  ...ALTERS,
  '--allow-on-master',
  '--execute',
  '--detach',
  ...more,
];

/**
 * Writers that change an order and its item in one transaction, to the same value: each writer
 * its own keys (odd or even), so that what it was told was committed is what must be there.
 */
class PairWriters {
  /** Every key's value as last committed; absent: deleted. */
  readonly model = new Map<number, number>();
  commits = 0;
  readonly errors: string[] = [];
  private stopping = false;
  private readonly loops: Promise<void>[];
  constructor(private readonly db: string) {
    for (let id = 1; id <= ROWS; id++) this.model.set(id, 0);
    this.loops = [0, 1].map((w) => this.loop(w));
  }
  private async loop(w: number): Promise<void> {
    const c = await admin(this.db);
    let value = w;
    let next = ROWS + 1 + w;
    for (let n = 0; !this.stopping; n++) {
      value += 2;
      const op = n % 10;
      const mine = [...this.keysOf(w, 50)];
      const id =
        op < 8 || mine.length === 0 ? 1 + w + 2 * Math.floor(Math.random() * (ROWS / 2 - 1)) : mine[n % mine.length];
      try {
        await c.query('START TRANSACTION');
        if (op === 8) {
          await c.query('INSERT INTO orders (id, v, note) VALUES (?, ?, ?)', [next, value, `new ${next}`]);
          await c.query('INSERT INTO order_items (id, order_id, v) VALUES (?, ?, ?)', [next, next, value]);
        } else if (op === 9 && this.model.has(id)) {
          await c.query('DELETE FROM order_items WHERE id = ?', [id]);
          await c.query('DELETE FROM orders WHERE id = ?', [id]);
        } else {
          await c.query('UPDATE orders SET v = ? WHERE id = ?', [value, id]);
          await c.query('UPDATE order_items SET v = ? WHERE id = ?', [value, id]);
        }
        await c.query('COMMIT');
        this.commits++;
        if (op === 8) this.model.set(next++, value);
        else if (op === 9 && this.model.has(id)) this.model.delete(id);
        else if (this.model.has(id)) this.model.set(id, value);
        next += op === 8 ? 1 : 0;
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        if (!['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'].includes(code)) this.errors.push((e as Error).message);
        await c.query('ROLLBACK').catch(() => {});
      }
      await sleep(3);
    }
    await c.end();
  }
  /** Some keys of writer w's that exist now (inserted ones first). */
  private *keysOf(w: number, n: number): Iterable<number> {
    let found = 0;
    for (const id of this.model.keys()) {
      if (id > ROWS && id % 2 === (ROWS + 1 + w) % 2) {
        yield id;
        if (++found >= n) return;
      }
    }
  }
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }
  /** Both tables hold exactly what was committed: every key, every value, and each pair alike. */
  async verify(orders: string, items: string): Promise<void> {
    assert.deepEqual(this.errors, [], 'writer errors');
    const c = await admin(this.db);
    for (const table of [orders, items]) {
      const [r] = await c.query<RowDataPacket[]>(`SELECT id, v FROM \`${table}\` ORDER BY id`);
      const found = new Map(r.map((x) => [Number(x.id), Number(x.v)]));
      const wrong = [...this.model].filter(([id, v]) => found.get(id) !== v).slice(0, 5);
      const extra = [...found.keys()].filter((id) => !this.model.has(id)).slice(0, 5);
      assert.deepEqual(
        wrong,
        [],
        `${table}: committed values missing or different (key, value): ${JSON.stringify(wrong.map(([id]) => [id, found.get(id)]))}`,
      );
      assert.deepEqual(extra, [], `${table}: rows that were deleted`);
      assert.equal(found.size, this.model.size, `${table}: rows`);
    }
    await c.end();
  }
}

/** Reads both tables in one transaction, again and again: which structure each has. */
class PairReader {
  old = 0;
  migrated = 0;
  mixed: string[] = [];
  /** old → migrated → old …: the states seen, each change once. */
  readonly seen: string[] = [];
  private stopping = false;
  private readonly loop: Promise<void>;
  constructor(db: string) {
    this.loop = (async () => {
      const c = await admin(db);
      while (!this.stopping) {
        try {
          await c.query('START TRANSACTION');
          const [, of] = await c.query<RowDataPacket[]>('SELECT * FROM orders WHERE id = 2');
          const [, ii] = await c.query<RowDataPacket[]>('SELECT * FROM order_items WHERE id = 2');
          await c.query('COMMIT');
          const has = (f: FieldPacket[], col: string) => f.some((x) => x.name === col);
          const o = has(of, 'o_new');
          const i = has(ii, 'i_new');
          const state =
            o && i
              ? 'migrated'
              : !o && !i
                ? 'old'
                : `orders ${o ? 'migrated' : 'old'}, order_items ${i ? 'migrated' : 'old'}`;
          if (state === 'migrated') this.migrated++;
          else if (state === 'old') this.old++;
          else this.mixed.push(state);
          if (this.seen[this.seen.length - 1] !== state) this.seen.push(state);
        } catch (e) {
          await c.query('ROLLBACK').catch(() => {});
          const code = (e as { code?: string }).code ?? '';
          if (!['ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK'].includes(code))
            this.mixed.push(`error: ${(e as Error).message}`);
        }
        await sleep(1);
      }
      await c.end();
    })();
  }
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }
}

/** The RENAME statements the server logged since `from` of this database's tables. */
const renamesLogged = (db: string, from: { file: string; position: number }) =>
  renamesInBinlog(from, (statement) => statement.includes(`\`${db}\`.`));

async function columnsOf(db: string): Promise<{ orders: boolean; items: boolean }> {
  const c = await admin();
  const [r] = await c.query<RowDataPacket[]>(
    "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('orders', 'order_items') AND COLUMN_NAME IN ('o_new', 'i_new')",
    [db],
  );
  await c.end();
  return { orders: r.some((x) => x.t === 'orders'), items: r.some((x) => x.t === 'order_items') };
}

test('two tables migrated as one: one RENAME under paired writers, never seen mixed; revert swaps both back in one RENAME', {
  timeout: 600_000,
}, async () => {
  const db = 'rv_tables';
  await makeTables(db);
  const from = await binlogPosition();
  const writers = new PairWriters(db);
  const reader = new PairReader(db);
  try {
    const started = await runRevenant(migrateTables(db, '--revert-window', '10m', '--chunk-size', '1000'), QUEUE);
    assert.equal(started.code, 0, started.out);
    const name = `${db}.orders.order_items`;
    const handle = client.workflow.getHandle(fleetWorkflowId(name));
    // Both copy, both hold, then the one RENAME.
    const swapped = await waitForValue(
      'the cut-over together',
      async () => {
        const s = await handle.query(fleetStatusQuery);
        assert.ok(!['failed', 'aborted'].includes(s.phase), `the migration ended: ${s.message}`);
        return s.groupCutOvers === 1 ? s : undefined;
      },
      { timeoutMs: 300_000 },
    );
    assert.equal(swapped.renames?.length, 1);
    assert.deepEqual(swapped.renames?.[0].tables, [`${db}.orders`, `${db}.order_items`]);
    assert.equal(swapped.renameSpreadMs, 0);
    const forward = await renamesLogged(db, from);
    assert.equal(forward.length, 1, `one RENAME in the binlog: ${forward.join(' | ')}`);
    for (const pair of [
      '`orders` TO `rv_tables`.`_orders_del`',
      '`_orders_gho` TO `rv_tables`.`orders`',
      '`order_items` TO `rv_tables`.`_order_items_del`',
      '`_order_items_gho` TO `rv_tables`.`order_items`',
    ])
      assert.ok(forward[0].includes(pair), `${pair} in ${forward[0]}`);
    assert.deepEqual(await columnsOf(db), { orders: true, items: true });
    // A while on the migrated tables, the writers on; then the revert, one RENAME back.
    await waitForValue(
      'reads and writes on the migrated tables',
      async () => (reader.migrated > 50 && writers.commits > 200 ? true : undefined),
      { timeoutMs: 60_000 },
    );
    const single = await runRevenant(['revert', ...tableArgs(db, 'orders')], QUEUE);
    assert.notEqual(single.code, 0, single.out);
    assert.match(single.out, /reverts with it: revenant revert --fleet NAME/);
    const revert = await runRevenant(['revert', '--fleet', name], QUEUE);
    assert.equal(revert.code, 0, revert.out);
    assert.match(revert.out, /2 tables swapped back in 1 RENAME/);
    const back = await renamesLogged(db, from);
    assert.equal(back.length, 2, `two RENAMEs in all: ${back.join(' | ')}`);
    assert.ok(
      back[1].includes('`orders` TO `rv_tables`.`_orders_gho`') &&
        back[1].includes('`order_items` TO `rv_tables`.`_order_items_gho`'),
      back[1],
    );
    assert.deepEqual(await columnsOf(db), { orders: false, items: false });
    const oldBefore = reader.old;
    await waitForValue('reads of the reverted tables', async () => (reader.old > oldBefore + 50 ? true : undefined), {
      timeoutMs: 60_000,
    });
    // Writers stopped, each window ends: its kept (migrated) table is brought up to the end.
    await writers.stop();
    for (const table of ['orders', 'order_items']) {
      const f = await runRevenant(['finalize', ...tableArgs(db, table)], QUEUE);
      assert.equal(f.code, 0, f.out);
    }
    const s = ((await handle.result()) as { status: FleetStatus }).status;
    assert.equal(s.phase, 'completed', s.message);
    await reader.stop();
    assert.deepEqual(reader.mixed, [], 'a transaction saw one table migrated and the other not');
    assert.deepEqual(reader.seen.slice(0, 3), ['old', 'migrated', 'old'], `states seen: ${reader.seen.join(' → ')}`);
    console.log(
      `one RENAME each way; ${writers.commits} paired transactions committed; the reader saw ${reader.old} old and ${reader.migrated} migrated, none mixed`,
    );
    // The originals (in place again) and the migrated tables kept beside them (as _<t>_del once
    // the windows closed) hold every commit.
    await writers.verify('orders', 'order_items');
    await writers.verify('_orders_del', '_order_items_del');
    assert.deepEqual(
      await checksum(db, 'orders', ['id', 'v', 'note']),
      await checksum(db, '_orders_del', ['id', 'v', 'note']),
    );
    assert.deepEqual(
      await checksum(db, 'order_items', ['id', 'order_id', 'v']),
      await checksum(db, '_order_items_del', ['id', 'order_id', 'v']),
    );
  } finally {
    await writers.stop();
    await reader.stop();
  }
});

/** The RENAME of this database's tables another session runs now (a cut-over's), if any. */
async function renameRunning(db: string): Promise<boolean> {
  const c = await admin();
  const [r] = await c.query<RowDataPacket[]>(
    "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'RENAME TABLE%' AND INFO LIKE ?",
    [`%\`${db}\`.%`],
  );
  await c.end();
  return r.length > 0;
}

async function sentryLeft(db: string): Promise<boolean> {
  const c = await admin(db);
  const [r] = await c.query<RowDataPacket[]>("SHOW TABLES LIKE '~revenant%'");
  await c.end();
  return r.length > 0;
}

test('kill -9 of the worker during the cut-over together: all migrated or all original, never mixed; it completes', {
  timeout: 600_000,
}, async () => {
  const db = 'rv_tables_kill';
  await makeTables(db);
  const writers = new PairWriters(db);
  const reader = new PairReader(db);
  // A transaction that read order_items holds its metadata lock: the cut-over's locks wait.
  const blocker = await admin(db);
  // Workers that pause where a kill is otherwise a matter of luck (runtime/failpoints.ts).
  const pausing = (failpoint: string) =>
    new WorkerProcess(QUEUE, TEMPORAL_ADDRESS, { REVENANT_FAILPOINTS: `${failpoint}=4000` });
  let current = worker;
  const kills: string[] = [];
  try {
    const started = await runRevenant(
      migrateTables(db, '--cut-over-lock-timeout-seconds', '2', '--checksum=false'),
      QUEUE,
    );
    assert.equal(started.code, 0, started.out);
    const handle = client.workflow.getHandle(fleetWorkflowId(`${db}.orders.order_items`));
    await waitForValue(
      'both tables holding',
      async () => {
        const s = await handle.query(fleetStatusQuery);
        assert.ok(!['failed', 'aborted', 'completed'].includes(s.phase), `the migration ended: ${s.message}`);
        return s.counts.holding + s.counts['cutting-over'] === 2 ? true : undefined;
      },
      { timeoutMs: 300_000 },
    );
    await blocker.query('START TRANSACTION');
    await blocker.query('SELECT COUNT(*) FROM order_items');
    const attemptRunning = () =>
      waitForValue(
        'an attempt of the cut-over together',
        async () => {
          const d = await handle.describe();
          return d.raw.pendingActivities?.some(
            (a) => a.activityType?.name === 'cutOverTogether' && Number(a.state) === 2,
          )
            ? true
            : undefined;
        },
        { timeoutMs: 120_000 },
      );
    const kill = async (what: string, next: WorkerProcess) => {
      current.kill9();
      const cols = await columnsOf(db);
      assert.equal(
        cols.orders,
        cols.items,
        `after a kill (${what}): orders ${cols.orders ? 'migrated' : 'original'}, order_items ${cols.items ? 'migrated' : 'original'}`,
      );
      kills.push(`${what}: ${cols.orders ? 'all migrated' : 'all original'}`);
      current = next;
      await current.start();
      return cols.orders;
    };
    // 1. Twice while its locks wait on the blocker.
    await attemptRunning();
    await sleep(500);
    await kill('waiting for its locks', worker);
    await attemptRunning();
    await sleep(1500);
    await kill('waiting for its locks', pausing('cut-over-together:original-let-go'));
    await blocker.query('ROLLBACK');
    // 2. The RENAME queued, holding order_items and waiting on orders, the sentry in place: the
    // worker dies, its locks go, and the RENAME fails whole on the sentry. The writes that were
    // waiting on orders go to the original, and its applier takes them up.
    await waitForValue('the RENAME queued', async () => ((await renameRunning(db)) ? true : undefined), {
      timeoutMs: 120_000,
    });
    await sleep(300);
    assert.equal(await kill('the RENAME queued, one original let go', pausing('cut-over-together:renamed')), false);
    await waitForValue('the RENAME failed', async () => (!(await renameRunning(db)) ? true : undefined), {
      timeoutMs: 30_000,
    });
    assert.deepEqual(await columnsOf(db), { orders: false, items: false }, 'the RENAME failed whole');
    assert.ok(await sentryLeft(db), "the dead attempt's sentry is still there");
    // 3. Renamed, the worker dies before it cleans up: its retry finds every pair swapped.
    await waitForValue('both renamed', async () => ((await columnsOf(db)).orders ? true : undefined), {
      timeoutMs: 120_000,
    });
    assert.equal(await kill('just after the RENAME', worker), true);
    const s = ((await handle.result()) as { status: FleetStatus }).status;
    assert.equal(s.phase, 'completed', s.message);
    assert.deepEqual(await columnsOf(db), { orders: true, items: true });
    await writers.stop();
    await reader.stop();
    assert.deepEqual(reader.mixed, [], 'a transaction saw one table migrated and the other not');
    console.log(`kills: ${kills.join('; ')}; ${writers.commits} paired commits; reader: ${reader.seen.join(' → ')}`);
    // Every commit is in the migrated tables, those made while the failed RENAME held its locks included.
    await writers.verify('orders', 'order_items');
    assert.equal(await sentryLeft(db), false, 'no sentry left behind');
  } finally {
    await blocker.query('ROLLBACK').catch(() => {});
    await blocker.end().catch(() => {});
    await writers.stop();
    await reader.stop();
    if (current !== worker) current.kill9();
    try {
      worker.pid();
    } catch {
      await worker.start();
    }
  }
});
