// The production shape under faults (the production cluster issue). Not in `npm test`: it needs
// the cluster that `scripts/cluster.sh up` builds (two Temporal nodes on PostgreSQL behind a
// load balancer, MySQL 9.7 master and GTID replica, two workers in network namespaces); run it
// with `scripts/cluster.sh test`, which sets the environment below.
//
// A 1M-row table under write load is migrated through the real CLI, as the README's production
// section does, and during the copy: one Temporal node is killed (kill -9) and later started
// again; the worker doing the copy has its network cut for 30 s and is then killed (and started
// again, as its supervisor would); the MySQL master is restarted. It must complete, equal by
// checksum, every acknowledged write present, zero redo by its own counters and by the binlog
// audit (test/audit.ts); and `temporal workflow list --query 'RevenantTable="t"'` must find it
// on the cluster's SQL visibility store while it runs. Before it, the cluster's mTLS: a client
// without a certificate of the cluster's CA is refused, the operator's profile lists; the
// workers log in to MySQL as `migrator`, an account with gh-ost's grants only.
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { configuredTemporal } from '../../worker/temporal-connection';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditCheckpoints } from './audit';
import {
  binlogPosition,
  checksum,
  createTestTable,
  freshDatabase,
  MYSQL_PORT,
  runCommand,
  tablesIn,
  waitForStatus,
  WriteLoad,
} from './helpers';
import { migrationWorkflowId, type MigrationStatus } from '../../model/types';
import { REVENANT_BIN, ROOT } from './paths';
import { sleep } from './wait';
import { statusQuery } from '../../model/messages';

const CLUSTER = process.env.REVENANT_CLUSTER_DIR ?? '/tmp/revenant-cluster';
const HOST = process.env.REVENANT_CLUSTER_HOST ?? '10.77.0.1';
const ROWS = Number(process.env.REVENANT_CLUSTER_ROWS ?? 1_000_000);
const DB = 'rv_cluster';
const COLS = ['id', 'uk', 'name', 'amount', 'note', 'created'];
const POSTPONE = join(CLUSTER, 'postpone-cut-over');
const cluster = (...args: string[]) =>
  runCommand('bash', [join(ROOT, 'scripts', 'cluster.sh'), ...args]).then((r) => {
    if (r.code !== 0) throw new Error(`cluster.sh ${args.join(' ')}: ${r.out}`);
    return r.out;
  });
// The client's environment is the operator's profile (scripts/cluster.sh env): the cluster's
// address, its CA, the operator's client certificate.
const clientEnv: NodeJS.ProcessEnv = {
  ...process.env,
  TEMPORAL_CONFIG_FILE: join(CLUSTER, 'temporal.toml'),
  TEMPORAL_PROFILE: 'operator',
};
delete clientEnv.TEMPORAL_ADDRESS;
const LB = `127.0.0.1:${29233 + Number(process.env.REVENANT_CLUSTER_PORT_BASE ?? 29000) - 29000}`;

test('the cluster speaks mTLS only: no certificate, or one of another CA, is refused; the operator profile lists', {
  timeout: 120_000,
}, async () => {
  const noEnv = { ...process.env };
  for (const k of Object.keys(noEnv)) if (k.startsWith('TEMPORAL_')) delete noEnv[k];
  const list = (args: string[], env = noEnv) =>
    runCommand('temporal', ['workflow', 'list', '--limit', '1', ...args], env);
  const plain = await list(['--address', LB]);
  assert.notEqual(plain.code, 0, `plain gRPC must be refused: ${plain.out}`);
  const tls = join(CLUSTER, 'tls');
  const noCert = await list(['--address', LB, '--tls-ca-path', join(tls, 'ca.pem'), '--tls-server-name', 'temporal']);
  assert.notEqual(noCert.code, 0, `TLS without a client certificate must be refused: ${noCert.out}`);
  assert.match(noCert.out, /certificate|handshake|tls|connection/i);
  // A certificate of another CA (made here, as an attacker would).
  const other = join(CLUSTER, 'tls-other');
  rmSync(other, { recursive: true, force: true });
  const made = await runCommand('sh', [join(ROOT, 'scripts', 'cluster', 'make-certs.sh'), other]);
  assert.equal(made.code, 0, made.out);
  const foreign = await list([
    '--address',
    LB,
    '--tls-ca-path',
    join(tls, 'ca.pem'),
    '--tls-server-name',
    'temporal',
    '--tls-cert-path',
    join(other, 'operator.pem'),
    '--tls-key-path',
    join(other, 'operator.key'),
  ]);
  assert.notEqual(foreign.code, 0, `a certificate of another CA must be refused: ${foreign.out}`);
  const operator = await list([], clientEnv);
  assert.equal(operator.code, 0, `the operator's profile must list: ${operator.out}`);
  const grants = await runCommand('bash', [
    join(ROOT, 'scripts', 'mysql.sh'),
    'client',
    join(CLUSTER, 'mysql-master'),
    '-N',
    '-e',
    "SHOW GRANTS FOR 'migrator'@'%'",
  ]);
  assert.equal(grants.code, 0, grants.out);
  assert.doesNotMatch(grants.out, /ALL PRIVILEGES|GRANT OPTION|SUPER/, grants.out);
  const workerConfig = readFileSync(join(CLUSTER, 'revenant-worker.json'), 'utf8');
  assert.match(workerConfig, /"user": "migrator"/);
  assert.doesNotMatch(workerConfig, /"default"/, "the workers admit the cluster's two servers only");
});

test('the production cluster: Temporal node killed, worker cut off then killed, MySQL master restarted, all during one migration under writes', {
  timeout: 3_600_000,
}, async () => {
  const log: string[] = [];
  const started = Date.now();
  const say = (l: string) => {
    const line = `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${l}`;
    log.push(line);
    console.log(line);
  };
  const temporal = configuredTemporal();
  assert.ok(temporal, 'scripts/cluster.sh test names the operator profile');
  const connection = await Connection.connect(temporal.connectionOptions);
  const client = new Client({ connection });
  await freshDatabase(DB);
  await createTestTable(DB, 't', ROWS);
  say(`${ROWS.toLocaleString('en')} rows in ${DB}.t on the MySQL master ${HOST}:${MYSQL_PORT}`);
  const load = new WriteLoad(DB, 't', ROWS).start(4, 5);
  const from = await binlogPosition();
  writeFileSync(POSTPONE, '');
  try {
    const cli = await runCommand(
      'node',
      [
        REVENANT_BIN,
        'migrate',
        '--host',
        HOST,
        '--port',
        String(MYSQL_PORT),
        '--user',
        'migrator',
        '--database',
        DB,
        '--table',
        't',
        '--alter',
        "ADD COLUMN region CHAR(2) NOT NULL DEFAULT 'eu', MODIFY note VARCHAR(300) NULL",
        '--allow-on-master',
        '--chunk-size',
        '500',
        '--nice-ratio',
        '2',
        '--postpone-cut-over-flag-file',
        POSTPONE,
        '--execute',
        '--detach',
      ],
      clientEnv,
    );
    assert.equal(cli.code, 0, cli.out);
    say(`revenant migrate --detach: ${cli.out.trim().split('\n').pop()}`);
    const id = migrationWorkflowId({ host: HOST, port: MYSQL_PORT }, DB, 't');
    const handle = client.workflow.getHandle(id);
    const at = async () => {
      const s = (await handle.query(statusQuery).catch(() => undefined)) as MigrationStatus | undefined;
      return s
        ? `${s.phase}, ${s.rowsCopied.toLocaleString('en')} rows copied, ${s.eventsApplied.toLocaleString('en')} events applied`
        : 'status not answered';
    };
    await waitForStatus(handle, (s) => s.rowsCopied > 0, 'the copy', 600_000);

    // Visibility: the cluster's SQL store finds it by revenant's search attribute.
    const listed = await runCommand(
      'temporal',
      ['workflow', 'list', '--query', 'RevenantTable="t" AND ExecutionStatus="Running"'],
      clientEnv,
    );
    say(`temporal workflow list --query 'RevenantTable="t" AND ExecutionStatus="Running"':\n${listed.out.trim()}`);
    assert.match(
      listed.out,
      new RegExp(id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
      'the running migration is listed by its search attribute',
    );

    // 1. A Temporal node dies; the load balancer sends everyone to the other; it comes back.
    say(`kill -9 Temporal node 1 (${await at()})`);
    await cluster('temporal-node', '1', 'kill');
    await sleep(20_000);
    say(`20 s later: ${await at()}; starting node 1 again`);
    await cluster('temporal-node', '1', 'start');
    say(`node 1 serving again: ${await at()}`);

    // 2. The worker that copies loses its network for 30 s, then dies.
    const d = await handle.describe();
    const copier = (d.raw.pendingActivities ?? []).find((a: any) => a.activityType?.name === 'copyRows');
    const identity = String(copier?.lastWorkerIdentity ?? '');
    const pids = await Promise.all(
      [1, 2].map(async (n) => (await runCommand('cat', [join(CLUSTER, `worker-${n}.pid`)])).out.trim()),
    );
    const victim = pids.findIndex((p) => identity.startsWith(`${p}@`)) + 1 || 1;
    say(
      `copyRows runs on ${identity || 'an unknown worker'}: cutting worker ${victim}'s network for 30 s (${await at()})`,
    );
    await cluster('worker', String(victim), 'cut');
    await sleep(30_000);
    say(`30 s later: ${await at()}; link up again, kill -9 worker ${victim}`);
    await cluster('worker', String(victim), 'uncut');
    await cluster('worker', String(victim), 'kill');
    await sleep(5_000);
    await cluster('worker', String(victim), 'start');
    say(`worker ${victim} started again: ${await at()}`);

    // 3. The MySQL master restarts (the replica reconnects by itself).
    say(`restarting the MySQL master (${await at()})`);
    await cluster('mysql', 'restart');
    say(`master back: ${await at()}`);

    const held = await waitForStatus(handle, (s) => s.phase === 'postponed', 'the copy to finish', 1_800_000);
    say(`copy done, cut-over postponed: ${held.rowsCopied.toLocaleString('en')} rows copied; stopping the writers`);
    await load.stop();
    assert.deepEqual(load.errors, []);
    rmSync(POSTPONE);
    const result = (await handle.result()) as { status: MigrationStatus };
    const s = result.status;
    say(
      `completed: ${s.rowsCopied.toLocaleString('en')} rows copied, ${s.eventsApplied.toLocaleString('en')} events applied, ${s.resumes} activity resumes,` +
        ` redone chunks ${s.redoneChunks}, redone events ${s.redoneEvents}; ${Math.round((Date.now() - started) / 1000)} s in all`,
    );
    assert.equal(s.phase, 'completed');
    assert.deepEqual(await tablesIn(DB), ['_t_del', 't']);
    const [migrated, original] = [await checksum(DB, 't', COLS), await checksum(DB, '_t_del', COLS)];
    say(`checksum: migrated ${migrated.rows} rows ${migrated.xor}, original ${original.rows} rows ${original.xor}`);
    assert.deepEqual(migrated, original, 'migrated equals original');
    const missing = await load.missingFrom('t');
    say(`acknowledged inserts: ${load.insertedNames.length}, missing from the migrated table: ${missing.length}`);
    assert.ok(load.insertedNames.length > 100, 'the load inserted too little');
    assert.deepEqual(missing, []);
    assert.ok(s.resumes >= 1, 'the faults made activities resume');
    assert.equal(s.redoneChunks, 0, 'chunks re-copied');
    assert.equal(s.redoneEvents, 0, 'events re-applied');
    const audit = await auditCheckpoints(MYSQL_PORT, DB, 't', from, await binlogPosition());
    say(
      `binlog audit: ${audit.chunks} chunk commits, ${audit.batches} apply batches; breaks: ${audit.chunkBreaks.length} in the chunks, ${audit.batchBreaks.length} in the batches`,
    );
    assert.deepEqual(audit.chunkBreaks, [], 'chunks tile the key range');
    assert.deepEqual(audit.batchBreaks, [], 'applied batches chain');
  } finally {
    await load.stop();
    if (existsSync(POSTPONE)) rmSync(POSTPONE);
    writeFileSync(join(CLUSTER, 'cluster-faults.log'), `${log.join('\n')}\n`);
    await connection.close();
  }
});
