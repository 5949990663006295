// migrateFleet: one ALTER across a fleet (every matching database on every server of a fleet
// file), as one workflow whose children are the targets' own migrateTable workflows, with their
// usual ids: a target already migrating is refused by name, and each can be watched, controlled
// and resurrected on its own too. The parent decides only what starts when:
//   1. resolve the targets (an activity: the servers are asked, with the workers' logins);
//   2. the canaries (--canary N) migrate, cut-over included, before any other starts;
//   3. the rest start as slots free up: at most --max-concurrent copying at once, and
//      --max-per-server on any one server; a failure stops new starts (--on-failure stop) or not;
//   4. --cut-over together: every target copies and holds; once all hold, the fleet releases them
//      at once. A target that cannot get there is named; the others hold, their originals in
//      place, until the operator says go (cut-over) or aborts.
// The operator's pause, resume, set, abort and cut-over reach every running target. The history
// stays bounded: past its limit the parent lets its running children finish, then continues as
// new with where every target stands.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  ParentClosePolicy,
  patched,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  WorkflowIdReusePolicy,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { completeFleetInput } from '../model/fleet-input';
import { summarizedActivities } from './activity-summaries';
import { checkedInput } from './checked-input';
import {
  abortSignal,
  cutOverSignal,
  fleetAbortUpdate,
  fleetReadySignal,
  fleetRevertUpdate,
  fleetSetUpdate,
  groupRevertedSignal,
  fleetStatusQuery,
  pauseSignal,
  resumeSignal,
  setSignal,
} from '../model/messages';
import { failureMessage } from './failures';
import { migrateTable } from './migrate-table';
import { DEFAULT_HISTORY_LIMIT, historyFull } from './renewal';
import { SEARCH_ATTRIBUTES } from './search-attributes';
import { validateChange } from '../model/settings';
import {
  migrationWorkflowId,
  type FleetInput,
  type FleetResult,
  type FleetStatus,
  type FleetTargetState,
  type FleetTargetStatus,
  type MigrationInput,
  type MigrationResult,
} from '../model/types';

// The cut-over together of one server's targets: bounded lock waits inside, retried as a single cut-over is.
const togetherActivity = summarizedActivities({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '5s',
  retry: { initialInterval: '2s', backoffCoefficient: 1.5, maximumInterval: '60s', maximumAttempts: 60 },
});

const fleetActivities = summarizedActivities({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

const STATES: FleetTargetState[] = ['pending', 'copying', 'holding', 'cutting-over', 'done', 'failed', 'skipped'];
const serverOf = (t: { server: { host: string; port: number } }) => `${t.server.host}:${t.server.port}`;

export async function migrateFleet(given: FleetInput): Promise<FleetResult> {
  // Each field checked and the defaults filled before a target is resolved (model/fleet-input.ts);
  // runs begun before this check keep the input they were given, so their histories replay.
  const input = patched('fleet-input-completed') ? checkedInput(completeFleetInput, given) : given;
  const carried = input.carried;
  const together = input.cutOver === 'together';
  // Together, one server's targets are swapped in one RENAME (fleets begun before this marker
  // release each target to its own RENAME, and replay so).
  const oneRename = together && patched('fleet-one-rename');
  const started = carried?.startedAt ?? Date.now();
  const historyLimit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  let paused = carried?.paused ?? false;
  /** The operator's changes so far (validated): given to each target that starts after them. */
  let settings: Record<string, unknown> = carried?.settings ?? {};
  /** Why nothing new starts (a failure under --on-failure stop, a failed canary, an abort). */
  let stopping: string | undefined;
  let aborted = false;
  /** The operator's go: a cut-over together goes ahead without the targets that cannot. */
  let released = false;
  const status: FleetStatus = {
    name: input.name,
    phase: 'resolving',
    targets: carried?.targets ?? [],
    counts: {} as FleetStatus['counts'],
    maxCopying: 0,
    paused,
    elapsedSeconds: 0,
    renewals: carried?.runs ?? 0,
  };
  const handles = new Map<string, ChildWorkflowHandle<typeof migrateTable>>();
  const running = new Map<string, Promise<void>>();
  const copying = (server?: string) =>
    status.targets.filter((t) => t.state === 'copying' && (!server || serverOf(t) === server)).length;
  const statusNow = (): FleetStatus => {
    status.counts = Object.fromEntries(
      STATES.map((s) => [s, status.targets.filter((t) => t.state === s).length]),
    ) as FleetStatus['counts'];
    status.paused = paused;
    status.elapsedSeconds = (Date.now() - started) / 1000;
    return status;
  };
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.fleet, value: input.name }]);

  /** A signal to every target running now. */
  const toRunning = async (send: (h: ChildWorkflowHandle<typeof migrateTable>) => Promise<void>) => {
    // A target's handle is kept from its start to its end: every one here runs.
    await Promise.all(
      [...handles.entries()].map(([id, h]) =>
        tell(
          () => send(h),
          () => running.has(id),
        ),
      ),
    );
  };
  setHandler(fleetStatusQuery, () => statusNow());
  setHandler(pauseSignal, () => {
    paused = true;
    void toRunning((h) => h.signal(pauseSignal));
  });
  setHandler(resumeSignal, () => {
    paused = false;
    void toRunning((h) => h.signal(resumeSignal));
  });
  setHandler(cutOverSignal, () => {
    released = true;
    void toRunning((h) => h.signal(cutOverSignal));
  });
  setHandler(
    fleetSetUpdate,
    async (change) => {
      settings = { ...settings, ...validateChange(change) };
      await toRunning((h) => h.signal(setSignal, change));
      return settings;
    },
    {
      validator: (change) => {
        validateChange(change);
      },
    },
  );
  setHandler(fleetAbortUpdate, async (arg) => {
    aborted = true;
    stopping = 'aborted by the operator';
    await toRunning((h) => h.signal(abortSignal, arg ?? {}));
    return `aborting the fleet ${input.name}: ${running.size} running target(s) told to abort (${arg?.cleanup ? 'ghost and changelog dropped' : 'kept for --resurrect'}); nothing new starts`;
  });
  setHandler(fleetReadySignal, (r) => {
    // Any Temporal client may signal: what is not a target's report changes nothing.
    if (typeof r?.workflowId !== 'string') return;
    const t = status.targets.find((x) => x.workflowId === r.workflowId);
    if (t && t.state === 'copying') t.state = 'holding';
  });

  // 1. The targets.
  if (!carried) {
    const targets = await fleetActivities.listFleetTargets(input.servers, input.table, input.login, input.tables);
    if (targets.length === 0)
      throw ApplicationFailure.nonRetryable(
        `fleet ${input.name}: no database of the fleet file holds the table`,
        'BadInput',
      );
    const resume = new Set(input.resurrect ? await fleetActivities.fleetCheckpoints(targets, input.template) : []);
    status.targets = targets.map((t, i) => ({
      ...t,
      workflowId: migrationWorkflowId(t.server, t.database, t.table),
      state: 'pending' as const,
      ...(i < input.canary ? { canary: true } : {}),
      ...(resume.has(i) ? { resume: true } : {}),
    }));
  }

  /** Whether a target is swapped with the others of its server in one RENAME. */
  const inOneRename = (t: FleetTargetStatus) =>
    oneRename && status.targets.filter((x) => serverOf(x) === serverOf(t)).length > 1;
  const childInput = (t: FleetTargetStatus, holdForFleet: boolean): MigrationInput => ({
    ...input.template,
    ...settings,
    ...(t.alter !== undefined ? { alter: t.alter } : {}),
    server: t.server,
    database: t.database,
    table: t.table,
    resurrect: !!t.resume,
    ...(holdForFleet
      ? {
          postponeCutOver: true,
          fleet: {
            workflowId: workflowInfo().workflowId,
            together: true,
            ...(inOneRename(t) ? { oneRename: true } : {}),
          },
          // An ALTER done in place (INSTANT) is not part of the RENAME: only where the user accepts that.
          ...(inOneRename(t) && !input.template.allowNonAtomicInstant ? { attemptInstantDdl: false } : {}),
        }
      : {}),
  });
  /** Each server's targets of a cut-over together, as its one RENAME swaps them. */
  const renameGroups = (targets: FleetTargetStatus[]): FleetTargetStatus[][] => {
    const byServer = new Map<string, FleetTargetStatus[]>();
    for (const t of targets.filter(inOneRename)) byServer.set(serverOf(t), [...(byServer.get(serverOf(t)) ?? []), t]);
    // A group left with one table (the others altered in place, or failed) still swaps it this way: it never renames alone.
    return [...byServer.values()];
  };
  /** Swaps each server's group in one RENAME (window 0: the migration's; odd: back to the originals). */
  const renameTogether = async (groups: FleetTargetStatus[][], window: number): Promise<void> => {
    const renames: NonNullable<FleetStatus['renames']> = groups.map((g) => ({
      server: serverOf(g[0]),
      tables: g.map((t) => `${t.database}.${t.table}`),
    }));
    status.renames = renames;
    await Promise.all(
      groups.map(async (g, i) => {
        const r = await togetherActivity.cutOverTogether(
          g.map((t) => childInput(t, true)),
          window,
        );
        const at = r.renamedAt ?? Date.now();
        renames[i] = { ...renames[i], renamedAt: at, ...(r.killed?.length ? { killed: r.killed } : {}) };
        if (window === 0) for (const t of g) t.renamedAt = at;
      }),
    );
    const at = renames.map((r) => r.renamedAt ?? 0);
    status.renameSpreadMs = Math.max(...at) - Math.min(...at);
  };
  let reverting = false;
  setHandler(
    fleetRevertUpdate,
    async () => {
      reverting = true;
      try {
        const groups = renameGroups(status.targets.filter((t) => t.state === 'cutting-over'));
        const window = status.groupCutOvers ?? 1;
        await renameTogether(groups, window);
        status.groupCutOvers = window + 1;
        await Promise.all(
          groups.flat().map((t) =>
            handles
              .get(t.workflowId)
              ?.signal(groupRevertedSignal)
              .catch(() => {}),
          ),
        );
        return `${groups.flat().length} tables swapped back in ${groups.length} RENAME(s): ${window % 2 === 1 ? 'the original' : 'the migrated'} structure in place; each revert window goes on the other way`;
      } finally {
        reverting = false;
      }
    },
    {
      validator: () => {
        const renamed = status.targets.filter((t) => t.state === 'cutting-over' && inOneRename(t));
        if (
          !oneRename ||
          !input.template.revertWindowSeconds ||
          status.groupCutOvers === undefined ||
          renamed.length === 0
        )
          throw new Error(
            'nothing to revert together: a fleet reverts after its cut-over together in one RENAME, in the revert window (--revert-window)',
          );
        if (reverting) throw new Error('a revert together is under way');
      },
    },
  );
  const launch = (t: FleetTargetStatus, holdForFleet: boolean) => {
    t.state = 'copying';
    status.maxCopying = Math.max(status.maxCopying, copying());
    running.set(
      t.workflowId,
      (async () => {
        try {
          const child = await startChild(migrateTable, {
            workflowId: t.workflowId,
            args: [childInput(t, holdForFleet)],
            // Resurrected, a target whose migration completed is not begun again.
            workflowIdReusePolicy: input.resurrect
              ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
              : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
            parentClosePolicy: ParentClosePolicy.TERMINATE,
            typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.fleet, value: input.name }],
            staticSummary: `${t.database}.${t.table} on ${serverOf(t)}: ${input.template.alter} (fleet ${input.name})`,
          });
          handles.set(t.workflowId, child);
          // Paused while it was being started: it is told too.
          if (paused) await tell(() => child.signal(pauseSignal));
          const r = (await child.result()) as MigrationResult;
          t.state = 'done';
          t.message = r.status.message;
          t.rowsCopied = r.status.rowsCopied;
          if (r.status.renamedAt) t.renamedAt = r.status.renamedAt;
        } catch (e) {
          if (e instanceof WorkflowExecutionAlreadyStartedError) {
            if (input.resurrect) {
              t.state = 'skipped';
              t.message = `not begun again: workflow ${t.workflowId} completed (or runs on its own)`;
              return;
            }
            t.state = 'failed';
            t.message = `refused: ${t.database}.${t.table} on ${serverOf(t)} is already migrating (workflow ${t.workflowId})`;
          } else {
            t.state = 'failed';
            t.message = failureMessage(e);
          }
          if (t.canary) stopping ??= `canary ${t.database} on ${serverOf(t)} failed: ${t.message}`;
          else if (input.onFailure === 'stop') stopping ??= `${t.database} on ${serverOf(t)} failed: ${t.message}`;
        } finally {
          running.delete(t.workflowId);
          handles.delete(t.workflowId);
        }
      })(),
    );
  };
  const startable = (t: FleetTargetStatus) =>
    !paused && copying() < input.maxConcurrent && copying(serverOf(t)) < (input.maxPerServer ?? input.maxConcurrent);
  /** Past its history limit, the parent starts nothing more, lets what runs finish, and continues as new. */
  const renewDue = () => !together && historyFull(historyLimit);

  // 2. The canaries, alone and to the end.
  const canaries = status.targets.filter((t) => t.canary && t.state === 'pending');
  if (canaries.length) {
    status.phase = 'canary';
    for (const t of canaries) {
      await condition(() => !!stopping || startable(t));
      if (stopping) break;
      launch(t, false);
    }
    await condition(() => running.size === 0);
  }

  // 3. The rest, as slots free up.
  if (!stopping) status.phase = 'rolling';
  for (;;) {
    let next: FleetTargetStatus | undefined;
    await condition(() => {
      if (stopping || renewDue() || !status.targets.some((t) => t.state === 'pending')) return true;
      next = status.targets.find((t) => t.state === 'pending' && startable(t));
      return next !== undefined;
    });
    if (stopping || !status.targets.some((t) => t.state === 'pending')) break;
    if (renewDue()) {
      await condition(() => running.size === 0);
      return continueAsNew<typeof migrateFleet>({
        ...input,
        carried: { targets: status.targets, runs: status.renewals + 1, startedAt: started, settings, paused },
      });
    }
    if (next) launch(next, together);
  }
  if (stopping) status.phase = 'stopping';

  // 4. Together: all hold, then all go at once (or the operator's go, without those that cannot).
  if (together) {
    const holding = () => status.targets.filter((t) => t.state === 'holding');
    await condition(() => running.size === holding().length);
    if (holding().length) {
      const failed = status.targets.filter((t) => t.state === 'failed' && !t.canary);
      if (failed.length && !aborted) {
        status.phase = 'holding';
        status.message =
          `cannot cut over together: ${failed.map((t) => `${t.database} on ${serverOf(t)}`).join(', ')} failed; ` +
          `the other ${holding().length} hold with their originals in place: cut-over (revenant cut-over --fleet ${input.name}) releases them, abort ends them`;
        await condition(() => released || aborted);
      }
      if (!aborted) {
        status.phase = 'rolling';
        status.message = undefined;
        const go = holding();
        for (const t of go) t.state = 'cutting-over';
        // One RENAME a server: every original stays in place until it runs; should it keep
        // failing, the targets hold and the operator's cut-over tries again.
        for (const groups = renameGroups(go); groups.length && !aborted; ) {
          try {
            await renameTogether(groups, 0);
            status.groupCutOvers = 1;
            break;
          } catch (e) {
            status.phase = 'holding';
            status.message = `the cut-over together failed, every original in place: ${failureMessage(e)}; revenant cut-over --fleet ${input.name} tries again, abort ends it`;
            released = false;
            await condition(() => released || aborted);
            status.phase = 'rolling';
            status.message = undefined;
          }
        }
        // Every signal in one workflow task: the targets are told within milliseconds of each other.
        await Promise.all(
          go.map((t) =>
            handles
              .get(t.workflowId)
              ?.signal(cutOverSignal)
              .catch(() => {}),
          ),
        );
      }
    }
  }
  await condition(() => running.size === 0);

  const s = statusNow();
  const failed = s.targets.filter((t) => t.state === 'failed');
  if (aborted || failed.length) {
    s.phase = aborted ? 'aborted' : 'failed';
    const notStarted = s.counts.pending;
    s.message =
      `${aborted ? 'aborted by the operator' : `${failed.length} target(s) failed: ${failed.map((t) => `${t.database} on ${serverOf(t)} (${t.message})`).join('; ')}`}; ` +
      `${s.counts.done} done, ${notStarted} not started${notStarted || failed.length ? `: fix, then run the same command with --resurrect to continue what is not done` : ''}`;
    throw ApplicationFailure.nonRetryable(s.message, aborted ? 'Aborted' : 'FleetFailed', s);
  }
  s.phase = 'completed';
  s.message = `${s.counts.done} target(s) migrated${s.counts.skipped ? `, ${s.counts.skipped} done before` : ''}`;
  return { status: s };
}

/**
 * Sends a signal to a target, asking again a second apart (seen in the fleet test: a signal sent
 * as a child starts can find it "not found") while it still runs; given up after five tries.
 */
async function tell(send: () => Promise<void>, stillRunning: () => boolean = () => true): Promise<void> {
  for (let attempt = 0; attempt < 5 && stillRunning(); attempt++) {
    try {
      await send();
      return;
    } catch {
      await sleep('1s');
    }
  }
}
