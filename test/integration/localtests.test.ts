// Runs every case of gh-ost's localtests (see localtests.ts) and prints one line per case and
// a total. REVENANT_LOCALTESTS_CASES (a regex) picks cases when debugging one.
import type { RowDataPacket } from 'mysql2';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, startTemporal } from '../support/helpers';
import { loadCases, LOCALTESTS_DIR, runCase, runsAlone, type LocalCase, type Verdict } from '../support/localtests';

const CONCURRENCY = Number(process.env.REVENANT_LOCALTESTS_CONCURRENCY ?? 3);

// The suite's data is the peer's, not the project's: without it there is nothing to run, and the report says so.
test("gh-ost's localtests", {
  timeout: 60 * 60_000,
  skip: LOCALTESTS_DIR
    ? false
    : 'gh-ost-localtests not found beside the project (../shared/peer) nor in REVENANT_LOCALTESTS',
}, async () => {
  const only = process.env.REVENANT_LOCALTESTS_CASES ? new RegExp(process.env.REVENANT_LOCALTESTS_CASES) : undefined;
  const cases = loadCases(LOCALTESTS_DIR!).filter((c) => !only || only.test(c.name));
  assert.ok(cases.length > 0, 'no localtests cases found');
  const temporal = await startTemporal('revenant-localtests');
  const c = await admin();
  const [[v]] = await c.query<RowDataPacket[]>('SELECT @@version AS version, @@version_comment AS comment');
  await c.query('SET GLOBAL event_scheduler = ON');
  await c.end();
  const ctx = {
    client: temporal.client,
    taskQueue: temporal.taskQueue,
    server: { version: String(v.version), comment: String(v.comment) },
  };
  const verdicts: Verdict[] = [];
  const report = (x: Verdict) => {
    verdicts.push(x);
    const reason = x.result === 'pass' ? x.reason : `\n    ${x.reason.replace(/\n/g, '\n    ')}`;
    console.log(`${x.result.padEnd(4)} ${x.name} (${x.seconds}s): ${reason}`);
  };
  try {
    const together = cases.filter((x) => !runsAlone(x));
    const queue: LocalCase[] = [...together];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) report(await runCase(next, ctx));
      }),
    );
    for (const x of cases.filter(runsAlone)) report(await runCase(x, ctx));
  } finally {
    await temporal.close();
  }
  const count = (r: Verdict['result']) => verdicts.filter((x) => x.result === r).length;
  console.log(
    `localtests: ${verdicts.length} cases: ${count('pass')} pass, ${count('fail')} fail, ${count('n/a')} not applicable`,
  );
  for (const x of verdicts.filter((y) => y.result === 'n/a')) console.log(`  not applicable: ${x.name}: ${x.reason}`);
  // The reasons go into the assertion's message too: a CI log shows the failure, not every line before it.
  const failed = verdicts.filter((x) => x.result === 'fail');
  assert.deepEqual(
    failed.map((x) => x.name),
    [],
    failed.map((x) => `${x.name}: ${x.reason.slice(0, 1500)}`).join('\n\n'),
  );
});
