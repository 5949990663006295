// Records the histories that replay.test.ts replays: real migrations, one per path the
// workflow takes, run against the servers scripts/test.sh starts. Not a test file; run it as
//   bash scripts/record-histories.sh
// after a change of workflow code that is meant to change behaviour (and only then: a change
// that breaks the replay of an existing history would break migrations already running).
import type { RowDataPacket } from 'mysql2';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  admin,
  createTestTable,
  freshDatabase,
  input,
  longRuns,
  SERVER_KIND,
  startTemporal,
  waitForPhase,
  WriteLoad,
  type TestTemporal,
} from './helpers';
import { fleetWorkflowId, migrationWorkflowId, type FleetInput, type MigrationInput } from '../../model/types';
import { FIXTURES } from './paths';
import { sleep } from './wait';
import {
  abortUpdate,
  cutOverSignal,
  finalizeUpdate,
  pauseSignal,
  resumeSignal,
  revertUpdate,
  setUpdate,
  statusQuery,
} from '../../model/messages';

const OUT = join(FIXTURES, 'histories');

interface Scenario {
  name: string;
  rows?: number;
  extra?: Partial<MigrationInput>;
  alter?: string;
  /** What happens to the migration while it runs; the run ends as it ends. */
  drive?: (h: any, db: string) => Promise<void>;
  /** A second workflow, run after the first ends: its history is the one recorded. */
  /** A second run started once the first has ended (not `then`: that would make the scenario a thenable). */
  followUp?: (temporal: TestTemporal, db: string) => Promise<any>;
  /** Continued as new: the newest run's history is recorded too, as <name>-last. */
  lastRunToo?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'plain' },
  { name: 'checksummed', extra: { checksum: true } },
  {
    name: 'postponed',
    extra: { postponeCutOver: true },
    drive: async (h) => {
      await waitForPhase(h, ['postponed']);
      await sleep(1000);
      await h.signal(cutOverSignal);
    },
  },
  {
    name: 'paused-and-tuned',
    rows: 30_000,
    extra: { chunkSize: 100, niceRatio: 2, postponeCutOver: true },
    drive: async (h) => {
      await waitForPhase(h, ['migrating']);
      await h.signal(pauseSignal);
      await sleep(1500);
      await h.executeUpdate(setUpdate, { args: [{ 'chunk-size': 2000, 'nice-ratio': 0 }] });
      await h.signal(resumeSignal);
      await waitForPhase(h, ['postponed']);
      await h.signal(cutOverSignal);
    },
  },
  {
    name: 'aborted',
    rows: 30_000,
    extra: { chunkSize: 100, niceRatio: 2 },
    drive: async (h) => {
      await waitForPhase(h, ['migrating']);
      await sleep(1000);
      await h.executeUpdate(abortUpdate, { args: [{ cleanup: true }] });
    },
  },
  // A copy of several seconds under writes: its reports reach the workflow gathered, several to a
  // `progress-reports` signal (worker/progress-batcher.ts); the histories above hold `progress` ones.
  {
    name: 'batched-reports',
    rows: 60_000,
    extra: { chunkSize: 200, niceRatio: 1, postponeCutOver: true },
    drive: async (h, db) => {
      const load = new WriteLoad(db, 't', 60_000).start(2);
      try {
        await waitForPhase(h, ['postponed']);
        await sleep(5000);
      } finally {
        await load.stop();
      }
      await h.signal(cutOverSignal);
    },
  },
  { name: 'refused', alter: 'ADD COLUMN x INT, RENAME TO elsewhere' },
  { name: 'lossy', alter: 'MODIFY name VARCHAR(4) NOT NULL' },
  { name: 'dry-run', extra: { execute: false } },
  {
    name: 'hibernated',
    rows: 30_000,
    extra: {
      chunkSize: 200,
      niceRatio: 1,
      criticalLoad: 'Threads_connected=1',
      criticalLoadHibernateSeconds: 1,
      postponeCutOver: true,
    },
    drive: async (h) => {
      await waitForPhase(h, ['hibernating']);
      await h.executeUpdate(abortUpdate, { args: [{ cleanup: true }] }).catch(() => {});
    },
  },
  {
    name: 'revert-window',
    extra: { revertWindowSeconds: 3600 },
    drive: async (h) => {
      await waitForPhase(h, ['revertible']);
      await sleep(1000);
      await h.executeUpdate(revertUpdate);
      await sleep(1000);
      await h.executeUpdate(finalizeUpdate);
    },
  },
  // Continued as new twice (the limit lowered): the first run's history ends in the renewal; the
  // newest run's, recorded as renewed-last, begins with one.
  {
    name: 'renewed',
    rows: 30_000,
    extra: { chunkSize: 200, copyThreads: 1, niceRatio: 2, postponeCutOver: true, historyLimit: 100 },
    drive: async (h) => {
      for (;;) {
        const st = await h.query(statusQuery).catch(() => undefined);
        if (st?.phase === 'postponed' && (st.renewals ?? 0) >= 2) break;
        await sleep(200);
      }
      await h.signal(cutOverSignal);
    },
    lastRunToo: true,
  },
  // The applier's connections killed while the cut-over is postponed: its retry runs a minute,
  // hands back, and goes on at attempt 1 (runtime/hand-back.ts).
  {
    name: 'handed-back',
    extra: { postponeCutOver: true },
    drive: async (h, db) => {
      await waitForPhase(h, ['postponed']);
      const c = await admin(db);
      try {
        const [ids] = await c.query<RowDataPacket[]>(
          "SELECT id FROM information_schema.processlist WHERE user = 'revenant' AND id <> CONNECTION_ID()",
        );
        for (const { id } of ids) await c.query(`KILL CONNECTION ${Number(id)}`).catch(() => {});
      } finally {
        await c.end();
      }
      const applierHandedBack = async () =>
        (await longRuns(h)).some((r) => r.activity === 'drainBinlog' && r.handedBack);
      for (let waited = 0; !(await applierHandedBack()); waited += 500) {
        if (waited > 120_000) throw new Error('the retried applier did not hand back');
        await sleep(500);
      }
      await h.signal(cutOverSignal);
    },
  },
  {
    name: 'revert-later',
    extra: { checkpoint: true },
    followUp: (temporal, db) => temporal.start(input(db, 't', '', { revert: { oldTable: '_t_del' } })),
  },
];
/** Fleets (workflows/fleet.ts): the parent's history, and one of its targets' (which holds for the fleet when together). */
const FLEETS: { name: string; cutOver: FleetInput['cutOver']; canary: number }[] = [
  { name: 'fleet', cutOver: 'each', canary: 1 },
  { name: 'fleet-together', cutOver: 'together', canary: 0 },
];

/** REVENANT_HISTORIES=a,b records only those scenarios (new ones, leaving the older recordings as they were). */
const only = process.env.REVENANT_HISTORIES?.split(',')
  .map((x) => x.trim())
  .filter(Boolean);

test('record the histories replay.test.ts replays', { timeout: 600_000 }, async () => {
  mkdirSync(OUT, { recursive: true });
  const temporal = await startTemporal('record-histories');
  try {
    for (const s of SCENARIOS.filter((x) => !only?.length || only.includes(x.name))) {
      const db = `rv_hist_${s.name.replace(/-/g, '_')}`;
      await freshDatabase(db);
      await createTestTable(db, 't', s.rows ?? 5_000);
      const load = new WriteLoad(db, 't', s.rows ?? 5_000).start(2);
      let handle = await temporal.start(input(db, 't', s.alter ?? 'ADD COLUMN extra INT NOT NULL DEFAULT 1', s.extra));
      try {
        await s.drive?.(handle, db);
        await handle.result().catch(() => {});
        if (s.followUp) {
          handle = await s.followUp(temporal, db);
          await handle.result().catch(() => {});
        }
      } finally {
        await load.stop();
      }
      // A run that continued as new: its first run is the one recorded under its name.
      const first = s.lastRunToo
        ? temporal.client.workflow.getHandle(
            handle.workflowId,
            (handle as { firstExecutionRunId?: string }).firstExecutionRunId,
          )
        : handle;
      const histories = [{ name: s.name, history: await first.fetchHistory() }];
      if (s.lastRunToo)
        histories.push({
          name: `${s.name}-last`,
          history: await temporal.client.workflow.getHandle(handle.workflowId).fetchHistory(),
        });
      for (const { name, history } of histories) {
        const file = join(OUT, `${SERVER_KIND}-${name}.json`);
        writeFileSync(file, historyToJSON(history));
        console.log(`recorded ${file}: ${history.events?.length} events`);
      }
      await admin(db).then(async (c) => {
        await c.query(`DROP DATABASE ${db}`);
        await c.end();
      });
    }
    for (const f of FLEETS.filter((x) => !only?.length || only.includes(x.name))) {
      const dbs = [1, 2, 3].map((i) => `rv_hist_${f.name.replace(/-/g, '_')}_${i}`);
      for (const db of dbs) {
        await freshDatabase(db);
        await createTestTable(db, 't', 3_000);
      }
      const {
        server,
        database: _d,
        table,
        ...template
      } = input(dbs[0], 't', 'ADD COLUMN extra INT NOT NULL DEFAULT 1');
      const fleet: FleetInput = {
        name: `hist-${f.name}`,
        servers: [{ host: server.host, port: server.port, databases: dbs }],
        table,
        template,
        login: { user: server.user },
        maxConcurrent: 2,
        canary: f.canary,
        onFailure: 'stop',
        cutOver: f.cutOver,
      };
      const handle = await temporal.client.workflow.start('migrateFleet', {
        taskQueue: temporal.taskQueue,
        workflowId: fleetWorkflowId(fleet.name),
        args: [fleet],
      });
      await handle.result();
      const child = temporal.client.workflow.getHandle(migrationWorkflowId(server, dbs[1], 't'));
      for (const [name, history] of [
        [f.name, await handle.fetchHistory()],
        [`${f.name}-target`, await child.fetchHistory()],
      ] as const) {
        const file = join(OUT, `${SERVER_KIND}-${name}.json`);
        writeFileSync(file, historyToJSON(history));
        console.log(`recorded ${file}: ${history.events?.length} events`);
      }
      for (const db of dbs)
        await admin(db).then(async (c) => {
          await c.query(`DROP DATABASE ${db}`);
          await c.end();
        });
    }
  } finally {
    await temporal.close();
  }
});
