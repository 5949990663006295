// MySQL's authentication as production has it: caching_sha2_password (the only built-in method
// on MySQL 9, the default since 8.0), for every connection a migration makes, the binlog
// reader's included; once over plain TCP (the password exchanged under the server's RSA key,
// its cache flushed first so the full exchange runs) and once over TLS with the CA MySQL made
// at initialization, for a user the server refuses without TLS. MariaDB 10.11 has neither the
// method nor certificates of its own: there these tests are skipped.
import type { RowDataPacket } from 'mysql2';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
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
  startTemporal,
  tablesIn,
  waitForPhase,
  waitForStatus,
  WriteLoad,
} from '../support/helpers';
import { migrationWorkflowId, type MigrationResult } from '../../model/types';
import { cutOverSignal } from '../../model/messages';

const WORK = process.env.REVENANT_TEST_WORK ?? '/tmp/revenant-test';
const CA = join(WORK, 'server', 'instance', 'data', 'ca.pem');
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const skip = IS_MYSQL ? false : 'MariaDB 10.11 has no caching_sha2_password and makes no certificates';

async function migrateAs(db: string, user: string, env: NodeJS.ProcessEnv): Promise<void> {
  await freshDatabase(db);
  await createTestTable(db, 't', 20_000);
  const load = new WriteLoad(db, 't', 20_000).start(2);
  const temporal = await startTemporal(`test-auth-${user}`, env);
  try {
    const handle = await temporal.start(
      input(db, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 3', {
        server: { host: '127.0.0.1', port: MYSQL_PORT, user },
        chunkSize: 500,
        niceRatio: 1,
        checksum: true,
        postponeCutOver: true,
      }),
    );
    // Writes go on, the cut-over held, until the binlog reader has applied some; they stop before
    // the cut-over (one after it would be in t only, and the two tables would rightly differ).
    await waitForStatus(
      handle,
      (s) => s.phase === 'postponed' && s.eventsApplied > 0,
      'the binlog reader to apply events',
    );
    await load.stop();
    await handle.signal(cutOverSignal);
    const result = (await handle.result()) as MigrationResult;
    assert.equal(result.status.phase, 'completed', result.status.message);
    assert.ok(result.status.eventsApplied > 0, 'the binlog reader authenticated and applied events');
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));
  } finally {
    await load.stop();
    await temporal.close();
  }
}

test("the least-privileged account: gh-ost's grants alone are refused at once, naming what is missing; with revenant's one more, it migrates under writes", {
  timeout: 300_000,
}, async () => {
  const db = 'rv_auth_least';
  const a = await admin();
  // gh-ost's documented grants: DDL and DML on the migrated schema; reading the binlog, and
  // PROCESS (to see replicas), on *.*. No SUPER, no GRANT OPTION, nothing on other schemas.
  await a.query(
    "DROP USER IF EXISTS 'rv_least'@'%'; CREATE USER 'rv_least'@'%' IDENTIFIED BY 'least-secret'; " +
      `GRANT ALTER, CREATE, DELETE, DROP, INDEX, INSERT, LOCK TABLES, SELECT, TRIGGER, UPDATE ON ${db}.* TO 'rv_least'@'%'; ` +
      "GRANT REPLICATION CLIENT, REPLICATION SLAVE, PROCESS ON *.* TO 'rv_least'@'%'",
  );
  await freshDatabase(db);
  await createTestTable(db, 't', 2_000);
  const temporal = await startTemporal('test-auth-least-refused', { REVENANT_MYSQL_PASSWORD: 'least-secret' });
  try {
    const started = Date.now();
    const handle = await temporal.start(
      input(db, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 3', {
        server: { host: '127.0.0.1', port: MYSQL_PORT, user: 'rv_least' },
      }),
    );
    // MariaDB 10.5.8+ moved SHOW SLAVE STATUS to SLAVE MONITOR (not part of REPLICATION CLIENT
    // any more): revenant names it from the grants, before it runs anything that needs it.
    // MySQL's cut-over reads performance_schema.metadata_locks.
    assert.match(
      await failureOf(handle),
      IS_MYSQL
        ? /cannot read performance_schema: GRANT SELECT ON performance_schema\.\*/
        : /the MySQL user lacks privileges revenant needs: SLAVE MONITOR \(see docs\/security\.md, "Privileges"\)/,
    );
    assert.ok(Date.now() - started < 20_000, `refused within seconds, not retried (${Date.now() - started} ms)`);
    assert.deepEqual(await tablesIn(db), ['t'], 'nothing left behind');
  } finally {
    await temporal.close();
  }
  await a.query(
    IS_MYSQL
      ? "GRANT SELECT ON performance_schema.* TO 'rv_least'@'%'"
      : "GRANT SLAVE MONITOR ON *.* TO 'rv_least'@'%'",
  );
  const [grants] = await a.query<RowDataPacket[]>("SHOW GRANTS FOR 'rv_least'@'%'");
  assert.doesNotMatch(JSON.stringify(grants), /ALL PRIVILEGES|SUPER|GRANT OPTION/);
  await a.end();
  await migrateAs(db, 'rv_least', { REVENANT_MYSQL_PASSWORD: 'least-secret' });
});

test('a caching_sha2_password user migrates over plain TCP (full authentication by RSA key)', {
  skip,
  timeout: 300_000,
}, async () => {
  const a = await admin();
  await a.query(
    "DROP USER IF EXISTS 'rv_sha2'@'%'; CREATE USER 'rv_sha2'@'%' IDENTIFIED WITH caching_sha2_password BY 'sha2-secret'; GRANT ALL ON *.* TO 'rv_sha2'@'%'",
  );
  // An empty cache: the first login of each connection kind must take the full exchange.
  await a.query('FLUSH PRIVILEGES');
  const [[plugin]] = await a.query<RowDataPacket[]>("SELECT plugin FROM mysql.user WHERE user = 'rv_sha2'");
  assert.equal(plugin.plugin, 'caching_sha2_password');
  await a.end();
  // The password goes encrypted with the key the worker was given (MySQL's own, from its data
  // directory), never with one the server offers: taking the offered key is off.
  await migrateAs('rv_auth_plain', 'rv_sha2', {
    REVENANT_MYSQL_PASSWORD: 'sha2-secret',
    REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY: '0',
    REVENANT_MYSQL_SERVER_PUBLIC_KEY: join(WORK, 'server', 'instance', 'data', 'public_key.pem'),
  });
});

test('a caching_sha2_password user that requires TLS migrates over TLS, the server verified by its CA', {
  skip,
  timeout: 300_000,
}, async () => {
  const a = await admin();
  await a.query(
    "DROP USER IF EXISTS 'rv_tls'@'%'; CREATE USER 'rv_tls'@'%' IDENTIFIED WITH caching_sha2_password BY 'tls-secret' REQUIRE SSL; GRANT ALL ON *.* TO 'rv_tls'@'%'",
  );
  await a.query('FLUSH PRIVILEGES');
  await a.end();
  // Without TLS the server refuses this user: what follows can only have run over TLS.
  await assert.rejects(
    mysql.createConnection({ host: '127.0.0.1', port: MYSQL_PORT, user: 'rv_tls', password: 'tls-secret' }),
    /Access denied/,
  );
  const config = join(WORK, 'auth-tls-config.json');
  writeFileSync(
    config,
    JSON.stringify({ mysql: { [`127.0.0.1:${MYSQL_PORT}`]: { password: 'tls-secret', ssl: { ca: CA } } } }),
  );
  await migrateAs('rv_auth_tls', 'rv_tls', { REVENANT_CONFIG: config });
});

/** A CA, a server certificate naming 127.0.0.1 and a client certificate it signed; and an unrelated CA. */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName = IP:127.0.0.1\n');
  for (const ca of ['ca', 'other-ca'])
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=revenant test ${ca}`,
    );
  for (const [name, ext] of [
    ['server', ['-extfile', 'server.ext']],
    ['client', []],
  ] as const) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=revenant test ${name}`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...ext,
    );
  }
}

test("gh-ost's --ssl flags: --ssl-ca verifies the server and its name, --ssl-cert/--ssl-key log in (REQUIRE X509); a wrong CA or name is refused at once", {
  skip,
  timeout: 300_000,
}, async () => {
  // The server's TLS is swapped for certificates of the test's own CA (inside the chroot, by the
  // server's path to them) and put back after: MySQL's own certificate names no host.
  const dir = join(WORK, 'server', 'instance', 'tls-test');
  mkdirSync(dir, { recursive: true });
  makeCertificates(dir);
  const a = await admin();
  const [[{ datadir }]] = await a.query<RowDataPacket[]>('SELECT @@datadir AS datadir');
  const inner = join(dirname(String(datadir).replace(/\/$/, '')), 'tls-test');
  const [[was]] = await a.query<RowDataPacket[]>(
    'SELECT @@global.ssl_ca AS ca, @@global.ssl_cert AS cert, @@global.ssl_key AS k',
  );
  const useTls = async (ca: string, cert: string, key: string) => {
    await a.query('SET GLOBAL ssl_ca = ?, GLOBAL ssl_cert = ?, GLOBAL ssl_key = ?', [ca, cert, key]);
    await a.query('ALTER INSTANCE RELOAD TLS');
  };
  await useTls(join(inner, 'ca.pem'), join(inner, 'server.pem'), join(inner, 'server.key'));
  const temporal = await startTemporal('test-auth-ssl', { REVENANT_MYSQL_PASSWORD: 'x509-secret' });
  const db = 'rv_auth_ssl';
  const load = new WriteLoad(db, 't', 20_000);
  try {
    await a.query(
      "DROP USER IF EXISTS 'rv_x509'@'%'; CREATE USER 'rv_x509'@'%' IDENTIFIED BY 'x509-secret' REQUIRE X509; GRANT ALL ON *.* TO 'rv_x509'@'%'",
    );
    await freshDatabase(db);
    await createTestTable(db, 't', 20_000);
    const cli = (...more: string[]) =>
      runRevenant(
        [
          'migrate',
          '--host',
          '127.0.0.1',
          '--port',
          String(MYSQL_PORT),
          '--user',
          'rv_x509',
          '--database',
          db,
          '--table',
          't',
          '--alter',
          'ADD COLUMN extra INT NOT NULL DEFAULT 3',
          '--allow-on-master',
          '--ssl',
          ...more,
        ],
        'test-auth-ssl',
      );

    // An unrelated CA: the server's certificate does not verify; refused within seconds, nothing created.
    let started = Date.now();
    let r = await cli(
      '--ssl-ca',
      join(dir, 'other-ca.pem'),
      '--ssl-cert',
      join(dir, 'client.pem'),
      '--ssl-key',
      join(dir, 'client.key'),
      '--execute',
    );
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /cannot connect to 127\.0\.0\.1:\d+ over TLS: .*check --ssl-ca/);
    assert.ok(Date.now() - started < 30_000, `refused after ${Date.now() - started} ms`);
    assert.deepEqual(await tablesIn(db), ['t']);

    // The right CA and a client certificate: every connection (copy, binlog, cut-over) over TLS.
    // Writes stop before the cut-over (later ones would be in t only).
    const handle = temporal.client.workflow.getHandle(
      migrationWorkflowId({ host: '127.0.0.1', port: MYSQL_PORT }, db, 't'),
    );
    const refusedRun = (await handle.describe()).runId;
    load.start(2);
    const running = cli(
      '--ssl-ca',
      join(dir, 'ca.pem'),
      '--ssl-cert',
      join(dir, 'client.pem'),
      '--ssl-key',
      join(dir, 'client.key'),
      '--execute',
      '--chunk-size',
      '500',
      '--postpone-cut-over',
    );
    while ((await handle.describe()).runId === refusedRun) await new Promise((res) => setTimeout(res, 200));
    const postponed = await waitForPhase(handle, ['postponed', 'failed']);
    await load.stop();
    assert.equal(postponed.phase, 'postponed', postponed.message);
    await handle.signal(cutOverSignal);
    r = await running;
    assert.equal(r.code, 0, r.out);
    assert.ok(load.insertedNames.length > 0, 'writes ran during the migration');
    assert.deepEqual(await tablesIn(db), ['_t_del', 't']);
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));
    assert.deepEqual(await load.missingFrom('t'), []);

    // MySQL's own certificate names no host: refused by name, unless --ssl-allow-insecure.
    await useTls(was.ca, was.cert, was.k);
    await a.query("ALTER USER 'rv_x509'@'%' REQUIRE SSL");
    started = Date.now();
    r = await cli('--ssl-ca', CA);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /over TLS: .*(IP: 127\.0\.0\.1 is not in the cert's list|ERR_TLS_CERT_ALTNAME_INVALID)/);
    assert.ok(Date.now() - started < 30_000, `refused after ${Date.now() - started} ms`);
    r = await cli('--ssl-allow-insecure', '--alter', 'ADD COLUMN probe INT', '--force-table-names', 'probe');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /dry run: the ALTER is valid/);
  } finally {
    await load.stop();
    await useTls(was.ca, was.cert, was.k).catch(() => {});
    await a.end();
    await temporal.close();
  }
});
