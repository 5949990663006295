// A fleet of a thousand tiny targets (the fleet issue's point 5): how long the parent's history
// grows, run by run (it continues as new before its limit), and the fleet's wall time. Not a
// test file (it runs for minutes); run it with the test harness's servers:
//   npm run fleet-scale         (REVENANT_FLEET_TARGETS, default 1000; REVENANT_FLEET_CONCURRENCY, default 16)
// Results go to bench/FLEET-SCALE-<server>.md.
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { admin, MYSQL_PORT, runRevenant, SERVER_KIND, TEMPORAL_ADDRESS, WorkerProcess } from '../test/support/helpers';
import { fleetWorkflowId } from '../model/types';
import { ROOT } from './server';
import { fleetStatusQuery } from '../model/messages';

const TARGETS = Number(process.env.REVENANT_FLEET_TARGETS ?? 1000);
const CONCURRENCY = Number(process.env.REVENANT_FLEET_CONCURRENCY ?? 16);
const WORK = join(process.env.REVENANT_TEST_WORK ?? '/tmp', 'fleet-scale');

test(`fleet of ${TARGETS} tiny targets: the parent's history and the wall time`, {
  timeout: 3 * 3_600_000,
}, async () => {
  mkdirSync(WORK, { recursive: true });
  const lines: string[] = [];
  const say = (l: string) => {
    lines.push(l);
    console.log(l);
  };
  const c = await admin();
  const setUpStarted = Date.now();
  for (let i = 1; i <= TARGETS; i++) {
    const d = `tiny_${String(i).padStart(4, '0')}`;
    await c.query(
      `DROP DATABASE IF EXISTS ${d}; CREATE DATABASE ${d}; CREATE TABLE ${d}.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ${d}.t VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
    );
  }
  await c.end();
  const file = join(WORK, 'tiny.json');
  writeFileSync(file, JSON.stringify({ targets: [{ host: '127.0.0.1', port: MYSQL_PORT, databases: 'tiny\\_%' }] }));
  const worker = new WorkerProcess('fleet-scale');
  await worker.start();
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  try {
    say(`# A fleet of ${TARGETS} tiny targets on ${SERVER_KIND} (${new Date().toISOString()})\n`);
    say(
      `${TARGETS} databases of one 3-row table each on one server, made in ${Math.round((Date.now() - setUpStarted) / 1000)} s; one \`revenant worker\` process;` +
        ` \`revenant migrate --fleet … --max-concurrent ${CONCURRENCY} --execute\` (checksum on, as by default).\n`,
    );
    const started = Date.now();
    const r = await runRevenant(
      [
        'migrate',
        '--fleet',
        file,
        '--table',
        't',
        '--user',
        'revenant',
        '--alter',
        'ADD COLUMN w INT NULL',
        '--max-concurrent',
        String(CONCURRENCY),
        '--allow-on-master',
        '--execute',
        '--quiet',
      ],
      'fleet-scale',
    );
    const wall = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, r.out.slice(-2000));
    const id = fleetWorkflowId('tiny');
    const s = await client.workflow.getHandle(id).query(fleetStatusQuery);
    const runs: { runId: string; events: number }[] = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = "${id}"` })) {
      const d = await client.workflow.getHandle(id, w.runId).describe();
      runs.push({ runId: w.runId, events: Number(d.historyLength) });
    }
    runs.reverse();
    say('| measure | value |\n|---|---|');
    say(`| targets migrated | ${s.counts.done} of ${s.targets.length} |`);
    say(
      `| wall time, command start to exit | ${wall.toFixed(0)} s (${(s.targets.length / wall).toFixed(1)} targets a second) |`,
    );
    say(`| most copying at once | ${s.maxCopying} |`);
    say(`| runs of the parent (continue-as-new) | ${runs.length} |`);
    say(`| history events of each run | ${runs.map((x) => x.events).join(', ')} |`);
    say(`| events per target (all runs) | ${(runs.reduce((n, x) => n + x.events, 0) / s.targets.length).toFixed(1)} |`);
    assert.equal(s.counts.done, TARGETS);
    assert.ok(
      runs.every((x) => x.events < 10_000),
      'every run of the parent under its limit',
    );
  } finally {
    writeFileSync(join(ROOT, 'bench', `FLEET-SCALE-${SERVER_KIND}.md`), `${lines.join('\n')}\n`);
    worker.kill9();
    await connection.close();
  }
});
