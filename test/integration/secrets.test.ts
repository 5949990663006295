// No password in Temporal: the worker resolves it from its own environment; the whole
// workflow history (inputs, results, signals, heartbeats, failures) never contains it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  admin,
  createTestTable,
  freshDatabase,
  input,
  SERVER,
  startTemporal,
  type TestTemporal,
} from '../support/helpers';

const PASSWORD = 'Rv-S3cret-Pa55-zz9';
let temporal: TestTemporal;

before(async () => {
  const c = await admin();
  await c.query(
    `CREATE USER IF NOT EXISTS 'rv_secret'@'%' IDENTIFIED BY '${PASSWORD}'; GRANT ALL PRIVILEGES ON *.* TO 'rv_secret'@'%'`,
  );
  await c.end();
  temporal = await startTemporal('test-secrets', { REVENANT_MYSQL_PASSWORD: PASSWORD });
});
after(async () => {
  await temporal.close();
});

/** Every payload of the history decoded to text, so the search sees what Temporal stores. */
function historyText(history: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        walk(x);
      }
    else if (v !== null && v !== undefined) out.push(String(v));
  };
  walk(history);
  return out.join('\n');
}

test('the workflow history of a migration holds no password', { timeout: 300_000 }, async () => {
  const db = 'rv_history';
  await freshDatabase(db);
  await createTestTable(db, 't', 5000);
  const handle = await temporal.start(
    input(db, 't', 'ADD COLUMN x INT NOT NULL DEFAULT 1', { server: { ...SERVER, user: 'rv_secret' } }),
  );
  await handle.result();
  const text = historyText(await handle.fetchHistory());
  assert.ok(text.includes('rv_secret'), 'the decoded history names the MySQL user (the search reads payloads)');
  assert.ok(text.includes('ADD COLUMN x INT'), 'the decoded history holds the workflow input');
  assert.ok(!text.includes(PASSWORD), 'no password in the history');
  assert.ok(!text.toLowerCase().includes('password'), 'no password field in the history');
});
