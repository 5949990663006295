// Throttling on load and by the operator's means, and gh-ost's hooks: each throttle reason
// holds the copy (no chunk while it holds, the reason in the status) and releases it; hook
// executables run in gh-ost's order with gh-ost's environment, and a failing
// on-before-cut-over hook keeps the original table in place.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  createTestTable,
  freshDatabase,
  input,
  startTemporal,
  tablesIn,
  terminateLeftover,
  type TestTemporal,
  failureText,
} from '../support/helpers';
import { migrationWorkflowId, type MigrationInput, type MigrationStatus } from '../../model/types';
import { sleep } from '../support/wait';
import { cutOverSignal, setUpdate, statusQuery } from '../../model/messages';
import { HINT } from '../../control/changelog';
import * as sql from '../../mysql/statements';

const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('gentle');
});
after(async () => {
  await temporal.close();
});

async function start(i: MigrationInput) {
  await terminateLeftover(temporal.client, migrationWorkflowId(i.server, i.database, i.table));
  return temporal.start(i);
}

async function waitFor(
  handle: any,
  pred: (s: MigrationStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<MigrationStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s: MigrationStatus = await handle.query(statusQuery);
    if (pred(s)) return s;
    if (s.phase === 'failed') throw new Error(`failed while waiting for ${what}: ${s.message}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; phase ${s.phase}, throttled ${s.throttled}`);
    await sleep(100);
  }
}

/**
 * A migration whose copy is slow on purpose (10-row chunks, ten times each chunk's time
 * asleep), so that it cannot finish while holds are checked on a fast machine.
 */
const slowCopy = (db: string, more: Partial<MigrationInput> = {}) =>
  input(db, 't', 'ADD COLUMN c INT NOT NULL DEFAULT 0', {
    chunkSize: 10,
    copyThreads: 1,
    niceRatio: 10,
    postponeCutOver: true,
    ...more,
  });

/** Holds while `hold` is in force: the reason shows and no row is copied; after `release` the copy goes on. */
async function holdsAndReleases(
  handle: any,
  reason: RegExp,
  hold: () => Promise<unknown>,
  release: () => Promise<unknown>,
): Promise<void> {
  await hold();
  // The copy's own reason: the applier's may be reported first, while the copy's report (which
  // carries the rows it held at) still waits in the worker's batch of reports.
  const copyHeld = (st: MigrationStatus) =>
    (st.throttled ?? '').split('; ').some((part) => part.startsWith('copy: ') && reason.test(part));
  const held = await waitFor(handle, copyHeld, `the copy throttled: ${reason}`, 15_000);
  // A hold checked after the last row went in would prove nothing: the copy must still have rows to go.
  assert.ok(
    held.phase === 'migrating' && held.rowsCopied < held.rowsEstimate,
    `held mid-copy (${held.phase}, ${held.rowsCopied} of ${held.rowsEstimate} rows)`,
  );
  await sleep(1000);
  const a: MigrationStatus = await handle.query(statusQuery);
  await sleep(2500);
  const b: MigrationStatus = await handle.query(statusQuery);
  assert.equal(b.rowsCopied, a.rowsCopied, `no rows copied while throttled (${held.throttled})`);
  await release();
  await waitFor(handle, (s) => s.rowsCopied > b.rowsCopied && !reason.test(s.throttled ?? ''), `released: ${reason}`);
}

test('--max-load, --throttle-query, --throttle-http and the throttle flag files each hold the copy and release it', {
  timeout: 300_000,
}, async () => {
  const db = 'rv_gentle_throttle';
  await freshDatabase(db);
  await createTestTable(db, 't', 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'revenant-flags-'));
  const flag = join(dir, 'throttle');
  const extra = join(dir, 'throttle-more');
  // --throttle-http's URL: a local server answering HEAD with the code set here.
  let answer = 200;
  const asked: string[] = [];
  const http = createServer((req, res) => {
    asked.push(req.method ?? '');
    res.writeHead(answer).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/throttle`;
  // Sped up once the five holds are checked.
  const handle = await start(
    slowCopy(db, {
      throttleFlagFile: flag,
      throttleAdditionalFlagFile: extra,
      throttleHttp: url,
      throttleHttpIntervalMillis: 100,
    }),
  );
  try {
    await waitFor(handle, (s) => s.rowsCopied > 1000, 'copy under way');
    const set = (change: Record<string, string>) => handle.executeUpdate(setUpdate, { args: [change] });
    // Threads_connected is never below 1: a ceiling of 1 holds, an empty setting releases.
    await holdsAndReleases(
      handle,
      /(^|; )copy: max-load Threads_connected=\d+ >= 1(;|$)/,
      () => set({ 'max-load': 'Threads_connected=1' }),
      () => set({ 'max-load': '' }),
    );
    await holdsAndReleases(
      handle,
      /(^|; )copy: throttle-query returned a positive value(;|$)/,
      () => set({ 'throttle-query': 'SELECT 1' }),
      () => set({ 'throttle-query': '' }),
    );
    await holdsAndReleases(
      handle,
      /(^|; )copy: throttle-http: Too many requests \(http=429\)(;|$)/,
      async () => {
        answer = 429;
      },
      async () => {
        answer = 200;
      },
    );
    assert.ok(
      asked.length > 0 && asked.every((m) => m === 'HEAD'),
      `the URL was asked with HEAD (${asked.length} times)`,
    );
    // Set while running: a URL nobody answers on holds too (no --ignore-http-errors), none releases.
    await holdsAndReleases(
      handle,
      /(^|; )copy: throttle-http: Connection error \(http=-1\)(;|$)/,
      () => set({ 'throttle-http': 'http://127.0.0.1:9/none' }),
      () => set({ 'throttle-http': '' }),
    );
    await holdsAndReleases(
      handle,
      /flag-file .*throttle exists/,
      async () => writeFileSync(flag, ''),
      async () => rmSync(flag),
    );
    await holdsAndReleases(
      handle,
      /flag-file .*throttle-more exists/,
      async () => writeFileSync(extra, ''),
      async () => rmSync(extra),
    );
    await set({ 'chunk-size': '5000', 'nice-ratio': '0' });
    await waitFor(handle, (s) => s.phase === 'postponed', 'postponed');
    await handle.signal(cutOverSignal);
    assert.equal((await handle.result()).status.phase, 'completed');
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));
  } finally {
    http.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an apply lag another writer left in the changelog holds the copy a moment, not for good', {
  timeout: 120_000,
}, async () => {
  const db = 'rv_gentle_stale_lag';
  await freshDatabase(db);
  await createTestTable(db, 't', 50_000);
  const handle = await start(slowCopy(db));
  try {
    await waitFor(handle, (s) => s.rowsCopied > 500 && !s.throttled, 'copy under way');
    // What a terminated run's applier, still running until its heartbeat told it, wrote into
    // the changelog of the migration started after it under the same names. This one's applier
    // (an idle table: caught up) had told 0 already.
    const c = await admin(db);
    const stale = sql.upsertChangelog(db, '_t_ghc', HINT.applyBehind, '5000');
    await c.query(stale.sql, stale.params);
    await c.end();
    const at: MigrationStatus = await handle.query(statusQuery);
    assert.ok(at.rowsCopied < at.rowsEstimate, `mid-copy (${at.rowsCopied} of ${at.rowsEstimate} rows)`);
    await waitFor(
      handle,
      (s) => s.rowsCopied > at.rowsCopied + 100 && !/apply lag/.test(s.throttled ?? ''),
      'the copy going on past the stale lag',
      15_000,
    );
  } finally {
    await handle.terminate('test over').catch(() => {});
  }
});

test('--panic-flag-file stops the migration at once, the original untouched', { timeout: 120_000 }, async () => {
  const db = 'rv_gentle_panic';
  await freshDatabase(db);
  await createTestTable(db, 't', 50_000);
  const dir = mkdtempSync(join(tmpdir(), 'revenant-panic-'));
  const handle = await start(
    input(db, 't', 'ADD COLUMN c INT NOT NULL DEFAULT 0', {
      chunkSize: 100,
      copyThreads: 1,
      niceRatio: 2,
      postponeCutOver: true,
      panicFlagFile: join(dir, 'panic'),
    }),
  );
  await waitFor(handle, (s) => s.rowsCopied > 1000, 'copy under way');
  writeFileSync(join(dir, 'panic'), '');
  await assert.rejects(handle.result(), (e: unknown) =>
    /panic flag file .*panic exists: stopped at once/.test(failureText(e)),
  );
  assert.deepEqual(
    await tablesIn(db),
    ['_t_ghc', '_t_gho', 't'],
    'original in place; ghost and changelog kept for --resurrect',
  );
  rmSync(dir, { recursive: true, force: true });
});

const HOOKS = [
  'on-startup',
  'on-validated',
  'on-rowcount-complete',
  'on-before-row-copy',
  'on-status',
  'on-row-copy-complete',
  'on-begin-postponed',
  'on-before-cut-over',
  'on-success',
  'on-failure',
];

/** A hooks directory whose scripts append their name and environment to a log; `failing` exits 1. */
function hooksDir(failing?: string): { dir: string; log: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'revenant-hooks-'));
  const logFile = join(dir, 'calls.log');
  for (const h of HOOKS) {
    const f = join(dir, `gh-ost-${h}`);
    writeFileSync(
      f,
      `#!/bin/sh\necho "${h} db=$GH_OST_DATABASE_NAME table=$GH_OST_TABLE_NAME ghost=$GH_OST_GHOST_TABLE_NAME ddl=$GH_OST_DDL copied=$GH_OST_COPIED_ROWS hint=$GH_OST_HOOKS_HINT" >> ${logFile}\n${h === failing ? 'echo "refusing the cut-over" >&2; exit 1\n' : ''}`,
    );
    chmodSync(f, 0o755);
  }
  writeFileSync(join(dir, 'README'), 'not executable: never run');
  return { dir, log: () => readFileSync(logFile, 'utf8').trim().split('\n') };
}

test("hooks run in gh-ost's order with its environment", { timeout: 120_000 }, async () => {
  const db = 'rv_gentle_hooks';
  await freshDatabase(db);
  await createTestTable(db, 't', 20_000);
  const hooks = hooksDir();
  const handle = await start(
    input(db, 't', 'ADD COLUMN c INT NOT NULL DEFAULT 0', {
      chunkSize: 1000,
      postponeCutOver: true,
      hooksPath: hooks.dir,
      hooksHint: 'ticket-42',
    }),
  );
  await waitFor(handle, (s) => s.phase === 'postponed', 'postponed');
  await handle.signal(cutOverSignal);
  assert.equal((await handle.result()).status.phase, 'completed');
  const calls = hooks.log();
  const order = calls.map((l) => l.split(' ')[0]).filter((h) => h !== 'on-status');
  assert.deepEqual(order, [
    'on-startup',
    'on-validated',
    'on-rowcount-complete',
    'on-before-row-copy',
    'on-row-copy-complete',
    'on-begin-postponed',
    'on-before-cut-over',
    'on-success',
  ]);
  assert.ok(
    calls.some((l) => l.startsWith('on-status ')),
    'on-status ran during the copy',
  );
  assert.match(
    calls[0],
    /^on-startup db=rv_gentle_hooks table=t ghost=_t_gho ddl=ADD COLUMN c INT NOT NULL DEFAULT 0 copied=0 hint=ticket-42$/,
  );
  assert.match(calls.find((l) => l.startsWith('on-row-copy-complete'))!, /copied=20000 /);
  rmSync(hooks.dir, { recursive: true, force: true });
});

test('a failing on-before-cut-over hook stops the cut-over; the original stays', { timeout: 120_000 }, async () => {
  const db = 'rv_gentle_hookfail';
  await freshDatabase(db);
  await createTestTable(db, 't', 5_000);
  const hooks = hooksDir('on-before-cut-over');
  const handle = await start(input(db, 't', 'ADD COLUMN c INT NOT NULL DEFAULT 0', { hooksPath: hooks.dir }));
  await assert.rejects(handle.result(), (e: unknown) =>
    /hook .*gh-ost-on-before-cut-over failed \(exit 1\); its output is in the worker's log/.test(failureText(e)),
  );
  assert.deepEqual(await tablesIn(db), ['_t_ghc', '_t_gho', 't'], 'no cut-over happened');
  const order = hooks
    .log()
    .map((l) => l.split(' ')[0])
    .filter((h) => h !== 'on-status');
  assert.deepEqual(
    order.slice(-3),
    ['on-row-copy-complete', 'on-before-cut-over', 'on-failure'],
    'the hook said no once; then on-failure',
  );
  rmSync(hooks.dir, { recursive: true, force: true });
});
