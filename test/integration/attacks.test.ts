// Attacks on the migration's nearly-root MySQL user: text from a user, a row, the changelog
// or a Temporal client that tries to run as SQL, or to send the worker's login, hooks and
// requests elsewhere. Each is refused with a message naming what was refused, and each
// asserts that nothing else changed: the canary tables' checksums, the tables of the
// attack's schemas, the server's accounts, and no migration table left behind.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  admin,
  checksum,
  createTestTable,
  failureOf,
  freshDatabase,
  input,
  IS_MYSQL,
  MYSQL_PORT,
  runRevenant,
  SERVER,
  startTemporal,
  tablesIn,
  waitForPhase,
  waitForStatus,
  type Checksum,
  type TestTemporal,
  failureText,
  migrateArgs,
} from '../support/helpers';
import type { MigrationStatus } from '../../model/types';
import { cutOverSignal, setUpdate, statusQuery } from '../../model/messages';

const DB = 'rv_attack';
const OTHER = 'rv_attack_other';
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const QUEUE = 'test-attacks';
const WORK = process.env.REVENANT_TEST_WORK ?? '/tmp/revenant-test';
let temporal: TestTemporal;

/** What must not change: the canaries, the tables of the attack's schemas (but for `allowed`), the accounts. */
interface World {
  canaries: Checksum[];
  tables: string[];
  accounts: string[];
}

async function world(): Promise<World> {
  const a = await admin();
  try {
    const [accounts] = await a.query<RowDataPacket[]>("SELECT CONCAT(user, '@', host) AS u FROM mysql.user ORDER BY 1");
    return {
      canaries: [await checksum(DB, 'victim', COLS), await checksum(OTHER, 'victim', COLS)],
      tables: [
        ...(await tablesIn(DB)).map((t) => `${DB}.${t}`),
        ...(await tablesIn(OTHER)).map((t) => `${OTHER}.${t}`),
      ],
      accounts: accounts.map((r) => String(r.u)),
    };
  } finally {
    await a.end();
  }
}

let before0: World;
/** Nothing outside the migrated table changed, and no migration table was left behind. */
async function unchanged(extraTables: string[] = []): Promise<void> {
  const now = await world();
  assert.deepEqual(now.canaries, before0.canaries, 'the canary tables are unchanged');
  assert.deepEqual(now.accounts, before0.accounts, "the server's accounts are unchanged");
  assert.deepEqual(now.tables, [...before0.tables, ...extraTables].sort(), 'no table was created, dropped or renamed');
}

const cli = (alter: string, ...more: string[]) =>
  runRevenant([...migrateArgs(DB, 't', alter), '--allow-on-master', ...more], QUEUE);

/** A plain TCP listener on another loopback address: it counts every connection made to it. */
async function listener(): Promise<{
  port: number;
  connections: () => number;
  requests: string[];
  close: () => Promise<void>;
}> {
  let count = 0;
  const requests: string[] = [];
  const server: Server = createServer((s) => {
    count++;
    s.on('data', (d) => requests.push(String(d).split('\n')[0]));
    s.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, connections: () => count, requests, close: () => new Promise((r) => server.close(() => r())) };
}

before(async () => {
  temporal = await startTemporal(QUEUE);
  for (const db of [DB, OTHER]) {
    await freshDatabase(db);
    await createTestTable(db, 'victim', 500);
  }
  await createTestTable(DB, 't', 2_000);
  before0 = await world();
});
after(async () => {
  await temporal.close();
});

/** A fresh migrated table for an attack that changes it. */
async function freshT(rows = 2_000): Promise<void> {
  const a = await admin(DB);
  await a.query('DROP TABLE IF EXISTS t, _t_gho, _t_ghc, _t_del');
  await a.end();
  await createTestTable(DB, 't', rows);
}

// ---- The ALTER: one specification list, nothing riding along -----------------------------

const refusedAlters: [string, string, RegExp][] = [
  [
    'a second statement in a dry run',
    'ADD COLUMN x INT; DROP TABLE rv_attack.victim',
    /second statement after ";": "DROP TABLE rv_attack\.victim"/,
  ],
  ['a second statement without a space', 'ADD COLUMN x INT;DROP TABLE rv_attack_other.victim', /second statement/],
  ['a statement after a line comment', 'ADD COLUMN x INT -- note\n; DROP TABLE rv_attack.victim', /second statement/],
  [
    'a statement inside an executable comment',
    'ADD COLUMN x INT /*!; DROP TABLE rv_attack.victim */',
    /executable comment/,
  ],
  [
    'a RENAME inside a MariaDB executable comment',
    'ADD COLUMN x INT /*M!100000 , RENAME TO rv_attack_other.stolen */',
    /executable comment/,
  ],
  ['a string that closes early', "ADD COLUMN x INT DEFAULT 'a'; DROP TABLE rv_attack.victim; -- '", /second statement/],
  [
    'a prefix naming another table',
    'ALTER TABLE victim ADD COLUMN x INT',
    /names the table victim, but the migration is of rv_attack\.t/,
  ],
  [
    'a prefix naming another schema',
    'ALTER TABLE rv_attack_other.t ADD COLUMN x INT',
    /names the table rv_attack_other\.t/,
  ],
  ['a table rename', 'RENAME TO rv_attack_other.stolen', /seems to RENAME the table/],
  ['a table rename among clauses', 'ADD COLUMN x INT, RENAME AS rv_attack.stolen', /seems to RENAME the table/],
  ['another statement altogether', "ALTER USER 'revenant'@'%' IDENTIFIED BY 'owned'", /ALTER USER statement/],
  ['a grant after the ALTER', "ADD COLUMN x INT; GRANT ALL ON *.* TO 'evil'@'%' IDENTIFIED BY 'x'", /second statement/],
  ['an unterminated comment', 'ADD COLUMN x INT /* DROP TABLE rv_attack.victim', /unterminated comment/],
];

for (const [name, alter, message] of refusedAlters) {
  test(`attack refused: ${name}`, { timeout: 60_000 }, async () => {
    // A dry run first (the reviewer's approval), then --execute: both refused before anything runs.
    for (const more of [[], ['--execute']]) {
      const r = await cli(alter, ...more);
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, message);
    }
    await unchanged();
  });
}

test('attack refused by the worker: a multi-statement ALTER started from a Temporal client, bypassing the CLI', {
  timeout: 60_000,
}, async () => {
  for (const execute of [false, true]) {
    const handle = await temporal.start(input(DB, 't', 'ADD COLUMN x INT; DROP TABLE rv_attack.victim', { execute }));
    assert.match(await failureOf(handle), /second statement after ";"/);
  }
  await unchanged();
});

test('attack defused: a trailing -- comment cannot swallow ALGORITHM=INSTANT (--attempt-instant-ddl)', {
  timeout: 120_000,
}, async () => {
  await freshT();
  const before1 = await checksum(DB, 't', COLS);
  // Widening a column is not INSTANT: the server must refuse ALGORITHM=INSTANT, and the
  // migration go through a ghost; with the comment swallowing it, a blocking copy would have run in place.
  const r = await cli('MODIFY uk BIGINT NOT NULL -- widen', '--attempt-instant-ddl', '--execute');
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /altered in place with ALGORITHM=INSTANT/);
  assert.deepEqual(await tablesIn(DB), ['_t_del', 't', 'victim'], 'the ghost path ran: the original is kept as _t_del');
  assert.deepEqual(await checksum(DB, '_t_del', COLS), before1);
  await unchanged(['rv_attack._t_del']);
  await freshT();
});

// ---- Row data under NO_BACKSLASH_ESCAPES --------------------------------------------------

test('attack defused: rows holding quotes, backslashes and SQL, written under NO_BACKSLASH_ESCAPES, migrate byte for byte', {
  timeout: 300_000,
}, async () => {
  await freshT(1_000);
  const a = await admin(DB);
  const [[{ mode }]] = await a.query<RowDataPacket[]>('SELECT @@global.sql_mode AS mode');
  const hostile = [
    "x\\'; DROP TABLE rv_attack.victim; -- ",
    "'); DROP TABLE rv_attack_other.victim; --",
    '\\',
    "\\'",
    "''",
    '"',
    '\\0\\Z%_',
    "a\\'),(999999,1,'b',0,'c','2024-01-01'); DELETE FROM rv_attack.victim; -- ",
    'back\\\\slash\\',
  ];
  try {
    await a.query(`SET GLOBAL sql_mode = CONCAT(@@global.sql_mode, ',NO_BACKSLASH_ESCAPES')`);
    // Rows the copy takes, written by an application under the mode.
    const app = await admin(DB);
    await app.query("SET SESSION sql_mode = CONCAT(@@session.sql_mode, ',NO_BACKSLASH_ESCAPES')");
    // Server-side prepared statements: an application under this mode cannot escape with backslashes either.
    const put = (id: number, s: string) =>
      app.execute(
        `INSERT INTO t (id, uk, name, amount, note, created) VALUES (${id}, ${id * 3}, ?, 1, ?, '2024-01-01') ` +
          'ON DUPLICATE KEY UPDATE name = VALUES(name), note = VALUES(note)',
        [s.slice(0, 64), s],
      );
    for (let i = 0; i < hostile.length; i++) await put(50_000 + i, hostile[i]);
    const handle = await temporal.start(
      input(DB, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 1', { postponeCutOver: true }),
    );
    await waitForPhase(handle, ['postponed', 'failed']);
    // Rows the applier takes: new ones, and updates of copied ones to hostile values.
    for (let i = 0; i < hostile.length; i++) await put(60_000 + i, hostile[i]);
    for (let i = 0; i < hostile.length; i++) await put(10 + i, hostile[hostile.length - 1 - i]);
    await app.end();
    const status = await waitForStatus(
      handle,
      (st) => st.eventsApplied >= hostile.length * 2,
      'the applier to apply the hostile rows',
      120_000,
    );
    assert.ok(status.eventsApplied >= hostile.length * 2, `applied ${status.eventsApplied}`);
    await handle.signal(cutOverSignal);
    const result = (await handle.result()) as { status: MigrationStatus };
    assert.equal(result.status.phase, 'completed', result.status.message);
    assert.deepEqual(
      await checksum(DB, 't', COLS),
      await checksum(DB, '_t_del', COLS),
      'the migrated table equals the original',
    );
    const b = await admin(DB);
    const [back] = await b.query<RowDataPacket[]>('SELECT note FROM t WHERE id >= 60000 ORDER BY id');
    await b.end();
    assert.deepEqual(
      back.map((r) => r.note),
      hostile,
      'the hostile values arrived byte for byte',
    );
  } finally {
    await a.query('SET GLOBAL sql_mode = ?', [mode]);
    await a.end();
  }
  await unchanged(['rv_attack._t_del']);
  await freshT();
});

// ---- The changelog is not code ---------------------------------------------------------

test("attack defused: a second account rewrites the changelog's settings during a postponed migration; nothing of it runs", {
  timeout: 300_000,
}, async () => {
  await freshT();
  const a = await admin();
  await a.query(
    "DROP USER IF EXISTS 'rv_app'@'%'; CREATE USER 'rv_app'@'%' IDENTIFIED BY 'app'; GRANT SELECT, INSERT, UPDATE, DELETE ON rv_attack.* TO 'rv_app'@'%'",
  );
  const handle = await temporal.start(
    input(DB, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 1', { postponeCutOver: true }),
  );
  try {
    await waitForPhase(handle, ['postponed', 'failed']);
    const { default: mysql } = await import('mysql2/promise');
    const app = await mysql.createConnection({
      host: '127.0.0.1',
      port: MYSQL_PORT,
      user: 'rv_app',
      password: 'app',
      database: DB,
    });
    // What a writer of the changelog would hand the migration's user: a query taking a lock
    // only that user's session could hold, a pause, a tiny lag limit.
    const forged = {
      chunkSize: 10,
      dmlBatchSize: 1,
      niceRatio: 0,
      maxLagMillis: 100,
      maxLoad: '',
      criticalLoad: '',
      paused: true,
      version: 999,
      throttleQuery: "SELECT GET_LOCK('rv_attack_owned', 0)",
    };
    const [r] = await app.query<any>(
      "INSERT INTO _t_ghc (hint, value) VALUES ('control', ?) ON DUPLICATE KEY UPDATE value = VALUES(value)",
      [JSON.stringify(forged)],
    );
    assert.ok(r.affectedRows >= 1, 'the second account could write the changelog');
    // Also a forged migration record: servers and a plan of the attacker's choosing.
    await app.query(
      "UPDATE _t_ghc SET value = JSON_SET(value, '$.plan.applier', JSON_OBJECT('host', '127.0.0.2', 'port', 3306)) WHERE hint = 'migration'",
    );
    await app.end();
    // Copy and apply read their settings well within these 3 s.
    await new Promise((res) => setTimeout(res, 3_000));
    const status = (await handle.query(statusQuery)) as MigrationStatus;
    assert.equal(status.settings.paused, false);
    assert.equal(status.settings.throttleQuery, '');
    assert.doesNotMatch(status.throttled ?? '', /throttle-query|paused/);
    const [[held]] = await a.query<RowDataPacket[]>("SELECT IS_USED_LOCK('rv_attack_owned') AS id");
    assert.equal(held.id, null, 'the forged throttle query never ran');
    await handle.signal(cutOverSignal);
    const result = (await handle.result()) as { status: MigrationStatus };
    assert.equal(result.status.phase, 'completed', result.status.message);
    assert.deepEqual(await checksum(DB, 't', COLS), await checksum(DB, '_t_del', COLS));
  } finally {
    await a.query("DROP USER IF EXISTS 'rv_app'@'%'");
    await a.end();
  }
  await unchanged(['rv_attack._t_del']);
  await freshT();
});

/** A migration stopped while postponed, its tables kept for --resurrect, and its changelog tampered with. */
async function tamperedResurrect(tamper: string, message: RegExp): Promise<void> {
  await freshT();
  const handle = await temporal.start(
    input(DB, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 1', { postponeCutOver: true }),
  );
  await waitForPhase(handle, ['postponed', 'failed']);
  await handle.terminate('attack test: stopped to resurrect');
  const a = await admin(DB);
  await a.query(tamper);
  const [[count]] = await a.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM _t_gho');
  await a.end();
  const again = await temporal.start(input(DB, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 1', { resurrect: true }));
  assert.match(await failureOf(again), message);
  const b = await admin(DB);
  const [[after1]] = await b.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM _t_gho');
  await b.query('DROP TABLE _t_gho, _t_ghc');
  await b.end();
  assert.equal(after1.n, count.n, 'the ghost was not written');
}

test('attack refused: a changelog plan that points the ghost at another table is not resurrected', {
  timeout: 300_000,
}, async () => {
  await tamperedResurrect(
    `UPDATE _t_ghc SET value = JSON_SET(value, '$.plan.ghostTable', 'victim') WHERE hint = 'migration'`,
    /its recorded plan names other tables \(victim/,
  );
  await unchanged();
});

test('attack refused: a changelog plan whose deferred index is DDL is not resurrected', {
  timeout: 300_000,
}, async () => {
  const ddl = 'KEY `k` (`name`), DROP COLUMN `amount`, ADD KEY `z` (`id`)';
  await tamperedResurrect(
    `UPDATE _t_ghc SET value = JSON_SET(value, '$.plan.deferredIndexes', JSON_ARRAY(JSON_OBJECT('name', 'k', 'definition', '${ddl}'))) WHERE hint = 'migration'`,
    /holds an index definition that is not a plain index/,
  );
  await unchanged();
});

test('attack refused: a changelog plan with other columns is not resurrected', { timeout: 300_000 }, async () => {
  await tamperedResurrect(
    `UPDATE _t_ghc SET value = JSON_SET(value, '$.plan.columns[1].ghost', 'amount') WHERE hint = 'migration'`,
    /does not match the ghost table/,
  );
  await unchanged();
});

test("attack refused: a forged apply lane's checkpoint (a lane count past the most) is not resurrected", {
  timeout: 300_000,
}, async () => {
  // A lane ahead of the applier's checkpoint has its changes up to there left out: a forged one
  // would make a retry skip them. This one claims 99 lanes, more than --apply-threads allows.
  await tamperedResurrect(
    `INSERT INTO _t_ghc (hint, value) VALUES ('apply-lane-3', '{"file":"binlog.999999","position":4,"lanes":99}')`,
    /its 'apply-lane-3' row is not one revenant wrote/,
  );
  await unchanged();
});

test('attack refused: a copy checkpoint whose key is SQL text is not resurrected', { timeout: 300_000 }, async () => {
  await tamperedResurrect(
    `UPDATE _t_ghc SET value = JSON_SET(value, '$.lastKey', JSON_ARRAY('1) OR (1=1')) WHERE hint = 'copy-checkpoint'`,
    /its 'copy-checkpoint' row is not one revenant wrote/,
  );
  await unchanged();
});

// ---- A Temporal client is not a database admin ------------------------------------------

test('attack refused by the worker: a workflow naming a server the worker was not given; no connection is attempted', {
  timeout: 60_000,
}, async () => {
  const fake = await listener();
  try {
    const handle = await temporal.start({
      ...input(DB, 't', 'ADD COLUMN x INT'),
      server: { host: '127.0.0.2', port: fake.port, user: 'revenant' },
    });
    assert.match(
      await failureOf(handle),
      /this worker does not connect to 127\.0\.0\.2:\d+: its configuration names no such server/,
    );
    assert.equal(fake.connections(), 0, 'no connection reached the named host');
  } finally {
    await fake.close();
  }
  await unchanged();
});

test('attack refused by the worker: another user, and TLS weakened, against its configured login', {
  timeout: 60_000,
}, async () => {
  const config = join(WORK, 'attacks-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      mysql: {
        [`127.0.0.1:${MYSQL_PORT}`]: {
          user: 'revenant',
          password: 'revenant',
          ssl: { ca: join(WORK, 'no-such-ca.pem') },
        },
      },
    }),
  );
  const own = await startTemporal('test-attacks-configured', { REVENANT_CONFIG: config });
  try {
    let handle = await own.start({ ...input(DB, 't', 'ADD COLUMN x INT'), server: { ...SERVER, user: 'root' } });
    assert.match(
      await failureOf(handle),
      /this worker logs in to 127\.0\.0\.1:\d+ as revenant only; the migration asked for root/,
    );
    handle = await own.start({
      ...input(DB, 't', 'ADD COLUMN x INT'),
      server: { ...SERVER, tls: { allowInsecure: true } },
    });
    assert.match(
      await failureOf(handle),
      /with the TLS settings of its own configuration; the migration may not set --ssl/,
    );
  } finally {
    await own.close();
  }
  await unchanged();
});

test('attack refused by the worker: TLS files from outside the directories it reads them from', {
  timeout: 60_000,
}, async () => {
  // A worker with no TLS of its own for the server takes gh-ost's --ssl flags from the
  // migration, but never a file its operator did not put where TLS files live.
  for (const [field, flag] of [
    ['key', '--ssl-key'],
    ['cert', '--ssl-cert'],
    ['ca', '--ssl-ca'],
  ] as const) {
    const handle = await temporal.start({
      ...input(DB, 't', 'ADD COLUMN x INT'),
      server: { ...SERVER, tls: { [field]: '/etc/hostname' } },
    });
    assert.match(
      await failureOf(handle),
      new RegExp(
        `${flag} /etc/hostname is not in a directory this worker reads TLS files from \\(REVENANT_MYSQL_SSL_DIRS: `,
      ),
    );
  }
  await unchanged();
});

test('attack refused by the worker: a hooks path it does not allow; the hook never runs', {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync('/var/tmp/rv-attack-hooks-');
  const marker = join(dir, 'ran');
  writeFileSync(join(dir, 'gh-ost-on-startup'), `#!/bin/sh\ntouch ${marker}\n`);
  chmodSync(join(dir, 'gh-ost-on-startup'), 0o755);
  try {
    const handle = await temporal.start(input(DB, 't', 'ADD COLUMN x INT', { hooksPath: dir }));
    assert.match(
      await failureOf(handle),
      /--hooks-path \/var\/tmp\/rv-attack-hooks-\w+ is not among the hook directories this worker allows/,
    );
    assert.equal(existsSync(marker), false, 'the hook did not run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await unchanged();
});

test("attack defused: hooks get gh-ost's variables and PATH, not the worker's secrets", {
  timeout: 120_000,
}, async () => {
  await freshT(500);
  const dir = mkdtempSync(join(tmpdir(), 'rv-attack-hookenv-'));
  writeFileSync(join(dir, 'gh-ost-on-startup'), `#!/bin/sh\nenv > ${join(dir, 'env')}\n`);
  chmodSync(join(dir, 'gh-ost-on-startup'), 0o755);
  process.env.REVENANT_ATTACK_SECRET = 'do-not-leak';
  try {
    const handle = await temporal.start(input(DB, 't', 'ADD COLUMN x INT', { hooksPath: dir, execute: false }));
    await handle.result();
    const env = readFileSync(join(dir, 'env'), 'utf8');
    assert.match(env, /^GH_OST_TABLE_NAME=t$/m);
    assert.doesNotMatch(env, /do-not-leak|REVENANT_|TEMPORAL_|MYSQL_PWD/);
  } finally {
    delete process.env.REVENANT_ATTACK_SECRET;
    rmSync(dir, { recursive: true, force: true });
  }
  await unchanged();
});

test('attack refused by the worker: a throttle URL it does not allow is never asked; the copy holds', {
  timeout: 120_000,
}, async () => {
  await freshT();
  const fake = await listener();
  const handle = await temporal.start(
    input(DB, 't', 'ADD COLUMN x INT', { throttleHttp: `http://127.0.0.2:${fake.port}/`, chunkSize: 100 }),
  );
  try {
    const s = await waitForStatus(
      handle,
      (st) => /is not under a URL this worker allows/.test(st.throttled ?? ''),
      'the refused URL as the throttle reason',
      60_000,
    );
    assert.match(
      s.throttled ?? '',
      /throttle-http: --throttle-http http:\/\/127\.0\.0\.2:\d+\/ is not under a URL this worker allows/,
    );
    assert.equal(fake.connections(), 0, 'the URL was never asked');
  } finally {
    await handle.terminate('attack test over').catch(() => {});
    await fake.close();
  }
  const a = await admin(DB);
  await a.query('DROP TABLE IF EXISTS _t_gho, _t_ghc');
  await a.end();
  await unchanged();
});

test("attack refused: set refuses a throttle query with a second statement; a query's value never shows in the status", {
  timeout: 120_000,
}, async () => {
  await freshT();
  const handle = await temporal.start(input(DB, 't', 'ADD COLUMN x INT', { postponeCutOver: true }));
  try {
    await waitForPhase(handle, ['postponed', 'failed']);
    await assert.rejects(
      handle.executeUpdate(setUpdate, { args: [{ 'throttle-query': 'SELECT 1; DROP TABLE rv_attack.victim' }] }),
      (e: unknown) => /single SELECT/.test(failureText(e)),
    );
    // A query that reads a secret: the status says it throttles, not what it read.
    await handle.executeUpdate(setUpdate, { args: [{ 'throttle-query': 'SELECT 424242' }] });
    const s = await waitForStatus(
      handle,
      (st) => /throttle-query/.test(st.throttled ?? ''),
      'the throttle query to hold',
      60_000,
    );
    assert.doesNotMatch(JSON.stringify(s.throttled), /424242/);
    await handle.executeUpdate(setUpdate, { args: [{ 'throttle-query': '' }] });
  } finally {
    await handle.terminate('attack test over').catch(() => {});
    const a = await admin(DB);
    await a.query('DROP TABLE IF EXISTS _t_gho, _t_ghc');
    await a.end();
  }
  await unchanged();
});

test('attack refused: a socket file path holding another file; that file is not deleted', {
  timeout: 60_000,
}, async () => {
  const path = join(WORK, 'attacks-not-a-socket');
  mkdirSync(WORK, { recursive: true });
  writeFileSync(path, 'precious');
  const r = await cli('ADD COLUMN x INT', '--serve-socket-file', path);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /a file that is not a socket is there; revenant does not delete it/);
  assert.equal(readFileSync(path, 'utf8'), 'precious');
  rmSync(path);
  await unchanged();
});

test('attack refused by the worker: a password asked for over plain TCP goes to no RSA key the worker does not trust', {
  skip: IS_MYSQL ? false : 'MariaDB 10.11 has no caching_sha2_password',
  timeout: 120_000,
}, async () => {
  const a = await admin();
  await a.query(
    "DROP USER IF EXISTS 'rv_attack_sha2'@'%'; CREATE USER 'rv_attack_sha2'@'%' IDENTIFIED WITH caching_sha2_password BY 'sha2-attack'; " +
      "GRANT ALL ON *.* TO 'rv_attack_sha2'@'%'",
  );
  // An empty cache: the login must take the full exchange, where the server offers its key.
  await a.query('FLUSH PRIVILEGES');
  const own = await startTemporal('test-attacks-rsa', {
    REVENANT_MYSQL_PASSWORD: 'sha2-attack',
    REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY: '0',
  });
  try {
    const handle = await own.start({
      ...input(DB, 't', 'ADD COLUMN x INT'),
      server: { ...SERVER, user: 'rv_attack_sha2' },
    });
    assert.match(
      await failureOf(handle),
      /asks for the password over plain TCP \(caching_sha2_password full authentication\), and this worker trusts no RSA key for it/,
    );
  } finally {
    await own.close();
    await a.query("DROP USER IF EXISTS 'rv_attack_sha2'@'%'");
    await a.end();
  }
  await unchanged();
});

test('attack refused: an ALTER holding a NUL byte', { timeout: 60_000 }, async () => {
  const handle = await temporal.start(input(DB, 't', 'ADD COLUMN x INT\0; DROP TABLE rv_attack.victim'));
  assert.match(await failureOf(handle), /NUL character/);
  await unchanged();
});
