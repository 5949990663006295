// MySQL's authentication as production has it: caching_sha2_password (the only built-in method
// on MySQL 9, the default since 8.0), for every connection a migration makes, the binlog
// reader's included; once over plain TCP (the password exchanged under the server's RSA key,
// its cache flushed first so the full exchange runs) and once over TLS with the CA MySQL made
// at initialization, for a user the server refuses without TLS. MariaDB 10.11 has neither the
// method nor certificates of its own: there these tests are skipped.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
import { admin, checksum, createTestTable, freshDatabase, input, IS_MYSQL, MYSQL_PORT, startTemporal, WriteLoad } from './helpers';
import type { MigrationResult, MigrationStatus } from '../workflows/types';

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
    const handle = await temporal.start(input(db, 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 3', {
      server: { host: '127.0.0.1', port: MYSQL_PORT, user }, chunkSize: 500, niceRatio: 1, checksum: true,
    }));
    // Writes go on until the binlog reader has applied some (a slow start must not see them all
    // land before the migration's binlog position).
    const deadline = Date.now() + 120_000;
    for (;;) {
      const s = await handle.query<MigrationStatus>('status');
      if (s.eventsApplied > 0 || ['completed', 'failed'].includes(s.phase) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await load.stop();
    const result = (await handle.result()) as MigrationResult;
    assert.equal(result.status.phase, 'completed', result.status.message);
    assert.ok(result.status.eventsApplied > 0, 'the binlog reader authenticated and applied events');
    assert.deepEqual(await checksum(db, 't', COLS), await checksum(db, '_t_del', COLS));
  } finally {
    await load.stop();
    await temporal.close();
  }
}

test('a caching_sha2_password user migrates over plain TCP (full authentication by RSA key)', { skip, timeout: 300_000 }, async () => {
  const a = await admin();
  await a.query("DROP USER IF EXISTS 'rv_sha2'@'%'; CREATE USER 'rv_sha2'@'%' IDENTIFIED WITH caching_sha2_password BY 'sha2-secret'; GRANT ALL ON *.* TO 'rv_sha2'@'%'");
  // An empty cache: the first login of each connection kind must take the full exchange.
  await a.query('FLUSH PRIVILEGES');
  const [[plugin]] = await a.query<any[]>("SELECT plugin FROM mysql.user WHERE user = 'rv_sha2'");
  assert.equal(plugin.plugin, 'caching_sha2_password');
  await a.end();
  await migrateAs('rv_auth_plain', 'rv_sha2', { REVENANT_MYSQL_PASSWORD: 'sha2-secret' });
});

test('a caching_sha2_password user that requires TLS migrates over TLS, the server verified by its CA', { skip, timeout: 300_000 }, async () => {
  const a = await admin();
  await a.query("DROP USER IF EXISTS 'rv_tls'@'%'; CREATE USER 'rv_tls'@'%' IDENTIFIED WITH caching_sha2_password BY 'tls-secret' REQUIRE SSL; GRANT ALL ON *.* TO 'rv_tls'@'%'");
  await a.query('FLUSH PRIVILEGES');
  await a.end();
  // Without TLS the server refuses this user: what follows can only have run over TLS.
  await assert.rejects(mysql.createConnection({ host: '127.0.0.1', port: MYSQL_PORT, user: 'rv_tls', password: 'tls-secret' }), /Access denied/);
  const config = join(WORK, 'auth-tls-config.json');
  writeFileSync(config, JSON.stringify({ mysql: { [`127.0.0.1:${MYSQL_PORT}`]: { password: 'tls-secret', ssl: { ca: CA } } } }));
  await migrateAs('rv_auth_tls', 'rv_tls', { REVENANT_CONFIG: config });
});
