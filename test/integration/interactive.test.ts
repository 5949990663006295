// gh-ost's interactive commands (its doc/interactive-commands.md), scripted over the socket
// file and the TCP port as a gh-ost user scripts them: each command's effect checked on the
// migration (throttle holds the copy; chunk-size=50 shows in the next chunks; unpostpone cuts
// over; panic stops with the tables kept), for one followed by `revenant migrate` and one
// served by `revenant serve` while it runs detached.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  createTestTable,
  freshDatabase,
  MYSQL_PORT,
  startTemporal,
  tablesIn,
  TEMPORAL_ADDRESS,
  WriteLoad,
  type TestTemporal,
  ONE_SERVER,
  failureText,
  PORT_OFFSET,
  tableArgs,
} from '../support/helpers';
import { migrationWorkflowId } from '../../model/types';
import { REVENANT_BIN } from '../support/paths';
import { sleep } from '../support/wait';
import { statusQuery } from '../../model/messages';

const SOCKET = `/tmp/rv-interactive-${MYSQL_PORT}.sock`;
const TCP_PORT = 29500 + PORT_OFFSET;
let temporal: TestTemporal;
before(async () => {
  temporal = await startTemporal('test-interactive');
});
after(async () => {
  await temporal.close();
});

/** `echo LINE | nc -U SOCKET` (or to the TCP port): the answer, whole. */
function send(to: string | number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = typeof to === 'number' ? createConnection(to, '127.0.0.1') : createConnection(to);
    let out = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      out += d;
    });
    c.on('end', () => resolve(out));
    c.on('error', reject);
    c.write(`${line}\n`);
  });
}

/** A revenant command left running; its output collected; resolves with its exit code. */
function revenant(args: string[]): { child: ChildProcess; out: () => string; exit: Promise<number> } {
  const child = spawn('node', [REVENANT_BIN, ...args], {
    env: { ...process.env, TEMPORAL_ADDRESS, REVENANT_TASK_QUEUE: temporal.taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  return { child, out: () => out, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1))) };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(200);
  }
}

const rowsCopied = (sup: string) => Number(/Copy: (\d+)\//.exec(sup)?.[1] ?? NaN);
const flags = (db: string) => [
  ...tableArgs(db, 't'),
  '--alter',
  'ADD COLUMN extra INT NOT NULL DEFAULT 7',
  '--allow-on-master',
  '--checksum=false',
  '--execute',
];

test('interactive commands on the socket file and TCP port of a followed migration: throttle, chunk-size, unpostpone', {
  skip: ONE_SERVER,
  timeout: 300_000,
}, async () => {
  const db = 'rv_interactive';
  await freshDatabase(db);
  // Enough rows that the copy (200-row chunks, resting twice as long as each took) is still
  // going after the commands below, on an idle machine too.
  await createTestTable(db, 't', 100_000);
  const load = new WriteLoad(db, 't', 100_000).start(2);
  const run = revenant([
    'migrate',
    ...flags(db),
    '--chunk-size',
    '200',
    '--nice-ratio',
    '2',
    '--postpone-cut-over',
    '--serve-socket-file',
    SOCKET,
    '--serve-tcp-port',
    String(TCP_PORT),
  ]);
  const handle = temporal.client.workflow.getHandle(
    migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, db, 't'),
  );
  try {
    await until('the copy, seen on the socket', async () =>
      existsSync(SOCKET) && rowsCopied(await send(SOCKET, 'sup')) > 0 ? true : undefined,
    );
    assert.match(run.out(), /interactive commands for rv_interactive\.t on unix socket .* and tcp port \d+/);
    assert.match(await send(SOCKET, 'help'), /^available commands:\n(.|\n)*unpostpone +# Bail out a cut-over postpone/);
    assert.equal(await send(SOCKET, 'chunk-size=?'), '200\n');
    assert.match(await send(SOCKET, 'coordinates'), /^[\w.-]+\.\d+:\d+\n$/);
    assert.equal(await send(SOCKET, 'inspector'), `Host: 127.0.0.1:${MYSQL_PORT}\n`);
    assert.equal(
      await send(SOCKET, 'throttle=other'),
      "user commanded 'throttle' on other, but migrated table is t; ignoring request\n",
    );
    assert.equal(await send(SOCKET, 'no-such-thing'), 'unknown command: no-such-thing\n');
    assert.match(await send(SOCKET, 'chunk-size=5'), /chunk-size must be between 10 and 100000/);
    assert.match(await send(SOCKET, 'throttle-http=ftp://x'), /throttle-http must be an http:\/\/ or https:\/\/ URL/);
    assert.match(
      await send(SOCKET, 'throttle-control-replicas=db9:3306'),
      /restart it with --throttle-control-replicas/,
    );
    assert.equal(
      await send(SOCKET, 'unpostpone'),
      'You may only invoke this when revenant is actively postponing migration. At this time it is not\n',
    );

    // throttle holds the copy; no-throttle lets it go on.
    assert.match(
      await send(SOCKET, 'throttle'),
      /^# Note: you may only throttle for as long as your binary logs are not purged\n(.|\n)*paused=true|^# Note/,
    );
    await until('the pause to be in force', async () =>
      (await handle.query(statusQuery)).settings.paused ? true : undefined,
    );
    // Once the copy and the applier say they hold (each reads the settings from the workflow
    // and reports a reason that held half a second), the ghost's rows are the truth: the status
    // may take a report window to show the last chunks committed as the pause began.
    await until(
      'the copy and the applier to hold',
      async () => {
        const held = (await handle.query(statusQuery)).throttled ?? '';
        return /copy: paused by operator/.test(held) && /apply: paused by operator/.test(held) ? true : undefined;
      },
      10_000,
    );
    await sleep(500);
    const ghostRows = async () => {
      const c = await admin(db);
      try {
        const [r] = await c.query('SELECT COUNT(*) AS n FROM `_t_gho`');
        return Number((r as { n: string }[])[0].n);
      } finally {
        await c.end();
      }
    };
    const heldInGhost = await ghostRows();
    await sleep(3000);
    assert.equal(await ghostRows(), heldInGhost, 'no row copied or applied while throttled');
    const held = rowsCopied(await send(TCP_PORT, 'sup'));
    assert.ok(held > 0, `the status over TCP shows the rows copied: ${held}`);
    // chunk-size=50, given while the copy holds, is in force when it goes on (given after, the
    // copy may be over before its next chunk: then no chunk of 50 is ever seen).
    assert.match(await send(SOCKET, 'chunk-size=50'), /# paused=true chunk-size=50 /);
    assert.equal(await send(SOCKET, 'chunk-size=?'), '50\n');
    assert.match(await send(SOCKET, 'no-throttle'), /Copy: \d+\/\d+/);
    await until('the copy to go on', async () => (rowsCopied(await send(SOCKET, 'sup')) > held ? true : undefined));

    // chunk-size=50 shows in the next chunks.
    await until('chunks of 50 rows', async () =>
      (await handle.query(statusQuery)).chunkSizeInUse === 50 ? true : undefined,
    );
    // Temporal Web shows the run's summary, and gh-ost's status line as its current details.
    assert.equal(
      await (await handle.describe()).staticSummary(),
      'rv_interactive.t: ADD COLUMN extra INT NOT NULL DEFAULT 7',
    );
    const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(
      meta.currentDetails ?? '',
      /^\*\*rv_interactive\.t\*\*: `ADD COLUMN extra INT NOT NULL DEFAULT 7`\n\nCopy: \d+\/\d+ [\d.]+%; Applied: \d+;(.|\n)*Settings: paused=false chunk-size=50 /,
    );
    assert.match(await send(SOCKET, 'nice-ratio=0'), /nice-ratio=0 /);
    assert.match(await send(SOCKET, 'chunk-size=5000'), /chunk-size=5000 /);

    // unpostpone cuts over.
    await until('the postponed cut-over', async () =>
      /State: postponed/.test(await send(SOCKET, 'sup')) ? true : undefined,
    );
    await load.stop();
    assert.deepEqual(load.errors, []);
    assert.match(await send(SOCKET, 'unpostpone'), /^Unpostponed\n/);
    assert.equal(await run.exit, 0, run.out());
    assert.match(run.out(), /rv_interactive\.t migrated; old table kept as _t_del/);
    assert.ok(!existsSync(SOCKET), 'the socket file is removed at the end');
    const cols = ['id', 'uk', 'name', 'amount', 'note', 'created'];
    assert.deepEqual(await checksum(db, 't', cols), await checksum(db, '_t_del', cols));
  } finally {
    run.child.kill('SIGKILL');
    await load.stop();
  }
});

test('revenant serve answers for a detached migration; panic stops it with its tables kept', {
  skip: ONE_SERVER,
  timeout: 300_000,
}, async () => {
  const db = 'rv_interactive_panic';
  await freshDatabase(db);
  await createTestTable(db, 't', 40_000);
  const started = revenant(['migrate', ...flags(db), '--chunk-size', '200', '--nice-ratio', '2', '--detach']);
  assert.equal(await started.exit, 0, started.out());
  const serve = revenant([
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(MYSQL_PORT),
    '--database',
    db,
    '--table',
    't',
    '--serve-socket-file',
    SOCKET,
  ]);
  try {
    await until('the copy, seen on the socket', async () =>
      existsSync(SOCKET) && rowsCopied(await send(SOCKET, 'sup')) > 0 ? true : undefined,
    );
    assert.equal(
      await send(SOCKET, 'panic=other'),
      "user commanded 'panic' on other, but migrated table is t; ignoring request\n",
    );
    assert.match(
      await send(SOCKET, 'panic'),
      /^user commanded 'panic'\. The migration will be aborted without cleanup/,
    );
    assert.equal(await serve.exit, 0, serve.out());
    assert.match(serve.out(), /the migration ended; no longer serving/);
    const handle = temporal.client.workflow.getHandle(
      migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, db, 't'),
    );
    await assert.rejects(handle.result(), (e: unknown) =>
      /aborted by the operator; the ghost table, changelog and checkpoint are kept/.test(failureText(e)),
    );
    assert.deepEqual(await tablesIn(db), ['_t_ghc', '_t_gho', 't']);
  } finally {
    serve.child.kill('SIGKILL');
  }
});
