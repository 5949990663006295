// The embedded CLI (no Temporal configured: a local dev server and a worker in the CLI's own
// process) runs its own migration only. Two CLIs on two servers with different passwords at
// once: neither server sees a refused login (the password goes only to the server it was
// typed for). A CLI started with a wrong password and killed: its migration never alters the
// table, whatever other CLIs run afterwards.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import {
  admin,
  checksum,
  createTestTable,
  freshDatabase,
  IS_MYSQL,
  MYSQL_PORT,
  runCommand,
  ServerInstance,
  showCreate,
  TEMPORAL_ADDRESS,
  ONE_SERVER,
} from '../support/helpers';
import { migrationWorkflowId } from '../../model/types';
import { REVENANT_BIN } from '../support/paths';

const WORK = process.env.REVENANT_TEST_WORK ?? '/tmp/revenant-test';
const SECOND_PORT = Number(process.env.REVENANT_TEST_SECOND_PORT ?? MYSQL_PORT + 6);
const second = new ServerInstance(join(WORK, 'embedded-second'), SECOND_PORT, 31);
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
let connection: Connection;
let client: Client;

before(async () => {
  await second.start();
  connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  client = new Client({ connection });
});
after(async () => {
  await connection?.close();
  await second.stop();
});

/** `revenant migrate` with nothing configured: the embedded path, on the test's Temporal server. */
function embeddedCli(args: string[], extra: NodeJS.ProcessEnv = { REVENANT_LOG_LEVEL: 'ERROR' }) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REVENANT_EMBEDDED_TEMPORAL_PORT: TEMPORAL_ADDRESS.split(':')[1],
    ...extra,
  };
  for (const k of Object.keys(env))
    if (
      (k.startsWith('TEMPORAL_') && !(k in extra)) ||
      (k === 'REVENANT_LOG_LEVEL' && !(k in extra)) ||
      k === 'REVENANT_TASK_QUEUE' ||
      k === 'REVENANT_MYSQL_PASSWORD' ||
      k === 'MYSQL_PWD'
    )
      delete env[k];
  const child = spawn('node', [REVENANT_BIN, 'migrate', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number>((r) => child.on('exit', (code, signal) => r(code ?? (signal ? 128 : 1))));
  return { child, exited, output: () => out };
}

/** Logins the server refused so far. */
async function refusedLogins(port: number): Promise<number> {
  const c = await admin(undefined, port);
  try {
    if (IS_MYSQL) {
      const [[r]] = await c.query<RowDataPacket[]>(
        "SELECT SUM_ERROR_RAISED AS n FROM performance_schema.events_errors_summary_global_by_error WHERE ERROR_NAME = 'ER_ACCESS_DENIED_ERROR'",
      );
      return Number(r?.n ?? 0);
    }
    const [[r]] = await c.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Access_denied_errors'");
    return Number(r.Value);
  } finally {
    await c.end();
  }
}

async function userWithPassword(port: number, user: string, password: string): Promise<void> {
  const c = await admin(undefined, port);
  await c.query(
    `DROP USER IF EXISTS '${user}'@'%'; CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO '${user}'@'%'`,
  );
  await c.end();
}

const flags = (port: number, user: string, password: string, db: string) => [
  '--host',
  '127.0.0.1',
  '--port',
  String(port),
  '--user',
  user,
  '--password',
  password,
  '--database',
  db,
  '--table',
  't',
  '--alter',
  'ADD COLUMN e INT NOT NULL DEFAULT 1',
  '--allow-on-master',
  '--execute',
  '--chunk-size',
  '500',
  '--nice-ratio',
  '1',
];

test('two embedded CLIs on two servers with different passwords: neither server refuses a login', {
  skip: ONE_SERVER,
  timeout: 300_000,
}, async () => {
  await userWithPassword(MYSQL_PORT, 'rv_one', 'password-one');
  await userWithPassword(SECOND_PORT, 'rv_two', 'password-two');
  await freshDatabase('rv_emb_one', MYSQL_PORT);
  await createTestTable('rv_emb_one', 't', 30_000, MYSQL_PORT);
  await freshDatabase('rv_emb_two', SECOND_PORT);
  await createTestTable('rv_emb_two', 't', 30_000, SECOND_PORT);
  const before = [await refusedLogins(MYSQL_PORT), await refusedLogins(SECOND_PORT)];
  const a = embeddedCli(flags(MYSQL_PORT, 'rv_one', 'password-one', 'rv_emb_one'));
  const b = embeddedCli(flags(SECOND_PORT, 'rv_two', 'password-two', 'rv_emb_two'));
  const [ca, cb] = await Promise.all([a.exited, b.exited]);
  assert.equal(ca, 0, a.output());
  assert.equal(cb, 0, b.output());
  assert.match(a.output(), /rv_emb_one\.t migrated/);
  assert.match(b.output(), /rv_emb_two\.t migrated/);
  assert.deepEqual(
    [await refusedLogins(MYSQL_PORT), await refusedLogins(SECOND_PORT)],
    before,
    'no login was refused on either server',
  );
  assert.deepEqual(
    await checksum('rv_emb_one', 't', COLS, MYSQL_PORT),
    await checksum('rv_emb_one', '_t_del', COLS, MYSQL_PORT),
  );
  assert.deepEqual(
    await checksum('rv_emb_two', 't', COLS, SECOND_PORT),
    await checksum('rv_emb_two', '_t_del', COLS, SECOND_PORT),
  );
});

test("a CLI with a wrong password fails at once; killed before that, its migration never runs under another CLI's credentials", {
  skip: ONE_SERVER,
  timeout: 300_000,
}, async () => {
  await userWithPassword(MYSQL_PORT, 'rv_one', 'password-one');
  await freshDatabase('rv_emb_wrong', MYSQL_PORT);
  await createTestTable('rv_emb_wrong', 't', 5_000, MYSQL_PORT);
  const created = await showCreate('rv_emb_wrong', 't', MYSQL_PORT);

  // Left to run, the wrong password fails the migration within seconds, in the server's words.
  const started = Date.now();
  const failing = embeddedCli(flags(MYSQL_PORT, 'rv_one', 'not-the-password', 'rv_emb_wrong'));
  assert.equal(await failing.exited, 1, failing.output());
  assert.ok(Date.now() - started < 20_000, `failed after ${Date.now() - started} ms`);
  assert.match(
    failing.output(),
    /ERROR cannot log in to 127\.0\.0\.1:\d+ as rv_one: Error 1045 \(28000\): Access denied/,
  );

  // Killed before its worker ran anything: the migration is left waiting for a worker of its own.
  const id = migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, 'rv_emb_wrong', 't');
  const killed = embeddedCli(flags(MYSQL_PORT, 'rv_one', 'not-the-password', 'rv_emb_wrong'));
  for (let i = 0; !/migration started/.test(killed.output()); i++) {
    assert.ok(i < 600, killed.output());
    await new Promise((r) => setTimeout(r, 20));
  }
  killed.child.kill('SIGKILL');
  await killed.exited;
  // Whatever happened before the kill, the migration is still running (waiting) or failed: never completed.
  // Another CLI, right password, another table, same server: completes, and touches only its own.
  await freshDatabase('rv_emb_other', MYSQL_PORT);
  await createTestTable('rv_emb_other', 't', 5_000, MYSQL_PORT);
  const other = embeddedCli(flags(MYSQL_PORT, 'rv_one', 'password-one', 'rv_emb_other'));
  assert.equal(await other.exited, 0, other.output());
  await new Promise((r) => setTimeout(r, 2000));
  const d = await client.workflow.getHandle(id).describe();
  assert.notEqual(d.status.name, 'COMPLETED', "the killed CLI's migration never completed");
  assert.equal(await showCreate('rv_emb_wrong', 't', MYSQL_PORT), created, 'its table was never altered');
  const c = await admin('rv_emb_wrong', MYSQL_PORT);
  const [tables] = await c.query<RowDataPacket[]>("SHOW TABLES LIKE '\\_t\\_%'");
  await c.end();
  assert.deepEqual(tables, [], 'no ghost or changelog of it');
  if (d.status.name === 'RUNNING') await client.workflow.getHandle(id).terminate('test over');
});

test('revenant server status|stop: the embedded Temporal server, started by a command, seen and stopped', {
  skip: ONE_SERVER,
  timeout: 120_000,
}, async () => {
  const port = Number(TEMPORAL_ADDRESS.split(':')[1]) + 17;
  const home = mkdtempSync(join(tmpdir(), 'rv-home-'));
  const env: NodeJS.ProcessEnv = { ...process.env, REVENANT_EMBEDDED_TEMPORAL_PORT: String(port), REVENANT_HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_')) delete env[k];
  const cli = (args: string[]) => runCommand('node', [REVENANT_BIN, ...args], env);
  try {
    let r = await cli(['server', 'status']);
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, new RegExp(`no embedded Temporal server runs on 127\\.0\\.0\\.1:${port}`));
    // Any command that needs Temporal starts it.
    r = await cli(['list']);
    assert.equal(r.code, 0, r.out);
    r = await cli(['server', 'status']);
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      new RegExp(
        `embedded Temporal server on 127\\.0\\.0\\.1:${port} \\(pid \\d+\\), Web UI http://127\\.0\\.0\\.1:${port + 1000}, state in .*temporal\\.db; 0 migration\\(s\\) running`,
      ),
    );
    r = await cli(['server', 'stop']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /embedded Temporal server on .* stopped \(pid \d+\)/);
    r = await cli(['server', 'status']);
    assert.equal(r.code, 3, r.out);
  } finally {
    await cli(['server', 'stop', '--force']);
    rmSync(home, { recursive: true, force: true });
  }
});

test("the embedded CLI's terminal: gh-ost's lines and one-line notices (a chunk retried); the SDK's entries in a log file", {
  skip: ONE_SERVER,
  timeout: 300_000,
}, async () => {
  const db = 'rv_emb_quiet';
  await userWithPassword(MYSQL_PORT, 'rv_one', 'password-one');
  await freshDatabase(db, MYSQL_PORT);
  await createTestTable(db, 't', 5_000, MYSQL_PORT);
  const home = mkdtempSync(join(tmpdir(), 'rv-home-'));
  // A writer holds the first rows locked: the copy's first chunk waits a second (its sessions
  // begin after the global changes), gives up, and is retried until the lock goes.
  const a = await admin(undefined, MYSQL_PORT);
  const [[was]] = await a.query<RowDataPacket[]>('SELECT @@global.innodb_lock_wait_timeout AS t');
  const holder = await admin(db, MYSQL_PORT);
  try {
    await a.query('SET GLOBAL innodb_lock_wait_timeout = 1');
    await holder.query('START TRANSACTION');
    await holder.query('SELECT id FROM t WHERE id <= 100 FOR UPDATE');
    const cli = embeddedCli(flags(MYSQL_PORT, 'rv_one', 'password-one', db), { REVENANT_HOME: home });
    for (let i = 0; !/chunk .* retried/.test(cli.output()); i++) {
      assert.ok(i < 1200, `no chunk was retried: ${cli.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await holder.query('ROLLBACK');
    assert.equal(await cli.exited, 0, cli.output());
    const out = cli.output();
    assert.match(out, new RegExp(`${db}\\.t migrated`));
    const notices = out.split('\n').filter((l) => /retried/.test(l));
    assert.ok(notices.length > 0);
    for (const line of notices) {
      assert.match(
        line,
        /^revenant: chunk (start|\[.*\])\.\.\[.*\] retried after a lock wait timeout \(Error 1205/,
        line,
      );
    }
    assert.doesNotMatch(out, /^\d{4}-\d\d-\d\dT\S+ \[(WARN|INFO|DEBUG)\]/m, 'no SDK entry on the terminal');
    assert.doesNotMatch(out, /taskToken|sdkComponent|workflowRunId/, 'no structured entry on the terminal');
    const file = /^revenant: the worker's log: (.+)$/m.exec(out)?.[1] ?? '';
    assert.ok(file.startsWith(join(home, 'logs')), out);
    const entries = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(
      entries.some((e) => e.message === 'chunk retried' && /1205/.test(e.error)),
      'the retry is in the log file, whole',
    );
    assert.ok(
      entries.every((e) => !('taskToken' in e)),
      'no task token in the file',
    );
    assert.deepEqual(await checksum(db, 't', COLS, MYSQL_PORT), await checksum(db, '_t_del', COLS, MYSQL_PORT));
  } finally {
    await holder.end();
    await a.query('SET GLOBAL innodb_lock_wait_timeout = ?', [Number(was.t)]);
    await a.end();
    rmSync(home, { recursive: true, force: true });
  }
});
