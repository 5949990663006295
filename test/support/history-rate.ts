// How fast a migration's history grows, measured (the weeks-long migration issue): postponed
// on an idle table, and copying under writes (slowed by --nice-ratio). Not a test file (it runs
// for a quarter of an hour); run it with the test harness's servers:
//   REVENANT_TEST_SERVERS=mariadb bash scripts/test.sh dist/test/history-rate.js
// REVENANT_RATE_IDLE_MINUTES (10) and REVENANT_RATE_COPY_MINUTES (5) set the lengths; the
// samples and rates go to bench/HISTORY-RATE-<server>.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createTestTable,
  freshDatabase,
  input,
  MYSQL_PORT,
  SERVER_KIND,
  startTemporal,
  waitForPhase,
  WriteLoad,
} from './helpers';
import type { MigrationStatus } from '../../model/types';
import { ROOT } from './paths';
import { sleep } from './wait';
import { abortUpdate, cutOverSignal, statusQuery } from '../../model/messages';

const IDLE_MINUTES = Number(process.env.REVENANT_RATE_IDLE_MINUTES ?? 10);
const COPY_MINUTES = Number(process.env.REVENANT_RATE_COPY_MINUTES ?? 5);

test('history growth: postponed idle, and copying under writes', {
  timeout: (IDLE_MINUTES + COPY_MINUTES + 10) * 60_000,
}, async () => {
  const temporal = await startTemporal('history-rate');
  const lines: string[] = [];
  const say = (l: string) => {
    lines.push(l);
    console.log(l);
  };
  const sample = async (handle: any, minutes: number, what: string, still: (s: MigrationStatus) => boolean) => {
    const first = (await handle.describe()).historyLength as number;
    say(`\n### ${what}\n\n| minute | history events | status |\n|---|---|---|\n| 0 | ${first} | |`);
    let last = first;
    let done = 0;
    for (let m = 1; m <= minutes; m++) {
      await sleep(60_000);
      const s = (await handle.query(statusQuery)) as MigrationStatus;
      last = (await handle.describe()).historyLength as number;
      done = m;
      say(`| ${m} | ${last} | ${s.phase}, ${s.rowsCopied} rows copied, ${s.eventsApplied} events applied |`);
      if (!still(s)) break;
    }
    say(
      `\n${what}: ${last - first} events in ${done} minutes = **${((last - first) / Math.max(1, done)).toFixed(1)} events a minute**`,
    );
  };
  try {
    say(`# History growth on ${SERVER_KIND} (${new Date().toISOString()})`);
    const idle = 'rv_rate_idle';
    await freshDatabase(idle);
    await createTestTable(idle, 't', 20_000);
    const h1 = await temporal.start(
      input(idle, 't', 'ADD COLUMN x INT NOT NULL DEFAULT 0', {
        server: { host: '127.0.0.1', port: MYSQL_PORT, user: 'revenant' },
        postponeCutOver: true,
      }),
    );
    await waitForPhase(h1, ['postponed']);
    await sample(h1, IDLE_MINUTES, `postponed, idle table, ${IDLE_MINUTES} minutes`, (s) => s.phase === 'postponed');
    await h1.signal(cutOverSignal);
    await h1.result();

    const busy = 'rv_rate_copy';
    await freshDatabase(busy);
    await createTestTable(busy, 't', 400_000);
    const load = new WriteLoad(busy, 't', 400_000).start(2);
    try {
      const h2 = await temporal.start(
        input(busy, 't', 'ADD COLUMN x INT NOT NULL DEFAULT 0', {
          server: { host: '127.0.0.1', port: MYSQL_PORT, user: 'revenant' },
          chunkSize: 200,
          copyThreads: 1,
          niceRatio: 5,
          postponeCutOver: true,
        }),
      );
      await waitForPhase(h2, ['migrating']);
      await sample(
        h2,
        COPY_MINUTES,
        `copying under writes (2 writers, nice-ratio 5), ${COPY_MINUTES} minutes`,
        (s) => s.phase === 'migrating',
      );
      await h2.executeUpdate(abortUpdate, { args: [{ cleanup: true }] });
      await h2.result().catch(() => {});
    } finally {
      await load.stop();
    }
  } finally {
    writeFileSync(join(ROOT, 'bench', `HISTORY-RATE-${SERVER_KIND}.md`), `${lines.join('\n')}\n`);
    await temporal.close();
  }
});
