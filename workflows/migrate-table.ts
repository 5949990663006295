// migrateTable: one online schema migration, as the list of its phases. Deterministic code
// only: every touch of MySQL is an activity, every failure an ApplicationFailure.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { HookContext, HookName } from '../model/hooks';
import { tableHas } from '../model/revert-window';
import { cutOverSignal, fleetReadySignal, statusQuery } from '../model/messages';
import { cutOverActivity, hookActivity, long, short, untilDone } from './activity-options';
import { startApplier, waitUntilCutOverAllowed, type Applier } from './applier';
import { criticalLoad, failureMessage, failureType } from './failures';
import { RevertWindow } from './revert-window';
import { registerControlHandlers } from './controls';
import { registerProgressHandlers } from './progress';
import { checkedInput } from './checked-input';
import { DEFAULT_HISTORY_LIMIT, historyFull, ONE_TIME_HOOKS, renewalsEnabled } from './renewal';
import { SEARCH_ATTRIBUTES } from './search-attributes';
import { settingsLine, statusLine } from './status-line';
import { settingsFrom, type Control } from '../model/settings';
import { completeInput } from '../model/migration-input';
import { parseCutOverWindow, windowState, type CutOverWindow } from '../model/cut-over-window';
import {
  checkpointTableName,
  checksumSummary,
  tableNameBase,
  type MigrationInput,
  type MigrationResult,
  type MigrationStatus,
  type Phase,
  type TablePlan,
} from '../model/types';

export async function migrateTable(given: MigrationInput): Promise<MigrationResult> {
  // A start from the Temporal CLI gives a few fields: the others take their defaults, and what
  // does not fit (an unknown field, a wrong type, a value out of range) fails the run before
  // anything runs, naming the field (model/migration-input.ts). Runs begun before this check
  // keep the input they were given, so their histories replay unchanged.
  const input = patched('input-completed') ? checkedInput(completeInput, given) : given;
  // A run that continued an earlier one (workflows/renewal.ts) counts from the migration's start.
  const renewal = input.renewal;
  const canRenew = renewalsEnabled();
  const historyLimit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const started = renewal?.startedAt ?? Date.now();
  let copyStarted = renewal?.copyStartedAt ?? 0;
  let copyEnded = renewal?.copyEndedAt ?? 0;
  const hooksRun = new Set(renewal?.hooksRun ?? []);
  const status: MigrationStatus = {
    workflowId: workflowInfo().workflowId,
    phase: 'inspecting',
    database: input.database,
    table: input.table,
    alter: input.alter,
    rowsCopied: 0,
    rowsEstimate: 0,
    percent: 0,
    eventsApplied: 0,
    lagSeconds: 0,
    backlogBytes: 0,
    elapsedSeconds: 0,
    copyElapsedSeconds: 0,
    cutOverPostponed: input.postponeCutOver || !!input.postponeCutOverFlagFile,
    cutOverAttempts: 0,
    resumes: 0,
    redoneChunks: 0,
    redoneEvents: 0,
    hibernations: 0,
    resurrected: !!input.resurrect,
    settings: { ...settingsFrom(input), paused: false, version: 0 },
  };
  if (renewal) Object.assign(status, renewal.status, { workflowId: workflowInfo().workflowId, renewals: renewal.runs });
  const searchAttributes = input.searchAttributes !== false;
  let progressDecile = -1;
  /** The status with its times, rates and percentages as of now (the workflow's clock: its last event). */
  const statusNow = (): MigrationStatus => {
    const now = Date.now();
    status.elapsedSeconds = (now - started) / 1000;
    status.copyElapsedSeconds = copyStarted ? ((copyEnded || now) - copyStarted) / 1000 : 0;
    status.percent = status.rowsEstimate > 0 ? copyPercent() : copyEnded ? 100 : 0;
    const rate = status.copyElapsedSeconds > 0 ? status.rowsCopied / status.copyElapsedSeconds : 0;
    status.etaSeconds = copyEnded
      ? 0
      : rate > 0
        ? Math.max(0, (status.rowsEstimate - status.rowsCopied) / rate)
        : undefined;
    if (status.revert) status.revert.secondsLeft = Math.max(0, Math.round((status.revert.endsAt - now) / 1000));
    return status;
  };
  /**
   * Temporal Web's "current details" of the run: gh-ost's status line, kept as the status
   * changes (no history event; the UI reads it with the SDK's metadata query).
   */
  const showDetails = () => {
    try {
      setCurrentDetails(
        [
          `**${status.database}.${status.table}**: \`${status.alter}\``,
          statusLine(statusNow()),
          `Settings: ${settingsLine(status)}`,
          ...(status.message ? [`Message: ${status.message}`] : []),
        ].join('\n\n'),
      );
    } catch {
      /* a display only: never worth a stuck workflow task */
    }
  };
  const phase = (p: Phase, message?: string) => {
    status.phase = p;
    status.message = message;
    if (searchAttributes) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: p }]);
    showDetails();
  };
  if (searchAttributes) {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.database, value: input.database },
      { key: SEARCH_ATTRIBUTES.table, value: input.table },
      { key: SEARCH_ATTRIBUTES.phase, value: status.phase },
      { key: SEARCH_ATTRIBUTES.progress, value: 0 },
    ]);
  }
  /** Rows copied as a percentage of the estimate (0 while there is none). */
  const copyPercent = () =>
    status.rowsEstimate > 0 ? Math.min(100, (100 * status.rowsCopied) / status.rowsEstimate) : 0;
  showDetails();
  /** gh-ost's hooks, with what the workflow knows now. */
  const hook = async (name: HookName, extra: Partial<HookContext> = {}): Promise<void> => {
    if (!input.hooksPath) return;
    if (ONE_TIME_HOOKS.includes(name)) {
      if (hooksRun.has(name)) return;
      hooksRun.add(name);
    }
    const now = Date.now();
    const copySeconds = copyStarted ? ((copyEnded || now) - copyStarted) / 1000 : 0;
    const host = plan?.applier?.host ?? input.server.host;
    await hookActivity.runHook(input, name, {
      elapsedSeconds: (now - started) / 1000,
      copyElapsedSeconds: copySeconds,
      estimatedRows: status.rowsEstimate,
      copiedRows: status.rowsCopied,
      progress: copyPercent(),
      executingHost: host,
      migratedHost: host,
      ...(plan ? { oldTable: plan.oldTable } : {}),
      ...extra,
    });
  };
  /** Progress in Temporal Web, in steps of 10% (each upsert is a history event); on-status hooks at the same steps. */
  const publishProgress = () => {
    const pct = copyPercent();
    const decile = Math.floor(pct / 10);
    if (decile > progressDecile) {
      progressDecile = decile;
      if (searchAttributes) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.progress, value: decile * 10 }]);
      if (input.hooksPath)
        void hook('on-status', {
          status: `Copy: ${status.rowsCopied}/${status.rowsEstimate} ${pct.toFixed(1)}%; State: ${status.phase}`,
        }).catch(() => {});
    }
  };

  // The operator's controls. Settings reach copy and apply through the changelog, written
  // by an activity, one write at a time, the latest version last.
  let plan: TablePlan | undefined;
  let controlWrites: Promise<void> = Promise.resolve();
  const pushControl = (): Promise<void> => {
    const snapshot = { ...status.settings };
    controlWrites = controlWrites.then(() => (plan ? short.writeControl(input, plan, snapshot) : undefined));
    return controlWrites;
  };
  const changeControl = async (change: Partial<Control>): Promise<Control> => {
    status.settings = { ...status.settings, ...change, version: status.settings.version + 1 };
    showDetails();
    await pushControl();
    return status.settings;
  };
  let abortRequest: { cleanup: boolean } | undefined;
  const work = new CancellationScope();
  const abort = (arg: { cleanup?: boolean } | undefined) => {
    abortRequest = { cleanup: !!arg?.cleanup };
    work.cancel();
    return `aborting ${input.database}.${input.table}: ${abortRequest.cleanup ? 'ghost and changelog will be dropped' : 'tables and checkpoint kept for --resurrect'}`;
  };
  registerControlHandlers(status, changeControl, abort);

  // The revert window's requests, refused outside the window.
  const revertWindow = new RevertWindow(input, status, phase);
  revertWindow.registerHandlers();

  setHandler(statusQuery, () => statusNow());
  registerProgressHandlers(status, publishProgress, showDetails);
  let awaitingWindow = false;
  let windowOverridden = false;
  setHandler(cutOverSignal, () => {
    status.cutOverPostponed = false;
    // While a ready migration waits for its cut-over window, the operator's word opens one now.
    if (awaitingWindow) windowOverridden = true;
  });

  /**
   * Awaits a long activity beside the applier. Should the history fill first (and this run may
   * renew), the activity and the applier stop at their checkpoints and the run continues as new.
   */
  const renewable = async <T>(applier: Applier, run: () => Promise<T>): Promise<T> => {
    if (!canRenew) return applier.whileRunning(run());
    const activity = new CancellationScope();
    const watch = new CancellationScope();
    const running = activity.run(run);
    const full = watch.run(() => condition(() => historyFull(historyLimit)));
    full.catch(() => {});
    try {
      const done = await applier.whileRunning(Promise.race([running.then((v) => ({ v })), full.then(() => undefined)]));
      if (done) return done.v;
    } finally {
      watch.cancel();
    }
    // Both stopped at once: every second they take costs the history their progress reports.
    activity.cancel();
    const applierStopped = applier.stop();
    await running.catch(() => {});
    await applierStopped;
    return renew();
  };
  /** Continues as new, the checkpoints taken up by the next run (workflows/renewal.ts). */
  const renew = async (): Promise<never> => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof migrateTable>({
      ...input,
      resurrect: true,
      renewal: {
        runs: (renewal?.runs ?? 0) + 1,
        startedAt: started,
        copyStartedAt: copyStarted,
        copyEndedAt: copyEnded,
        status: statusNow(),
        hooksRun: [...hooksRun],
      },
    });
  };

  let tablesExist = false;
  try {
    return await work.run(() => phases());
  } catch (e) {
    if (e instanceof ContinueAsNew) throw e;
    if (abortRequest && isCancellation(e)) {
      const cleanup = abortRequest.cleanup && plan !== undefined && tablesExist;
      const kept = plan;
      if (cleanup && kept) await CancellationScope.nonCancellable(() => short.dropMigrationTables(input, kept));
      const message = `aborted by the operator; ${
        cleanup
          ? 'ghost and changelog dropped, original table untouched'
          : tablesExist
            ? 'the ghost table, changelog and checkpoint are kept: rerun the same command with --resurrect to continue'
            : 'nothing was created'
      }`;
      phase('aborted', message);
      throw ApplicationFailure.nonRetryable(message, 'Aborted');
    }
    let message = failureMessage(e);
    const tables = plan;
    if (input.revert && tables) {
      // Nothing was swapped: the changelog is the checkpoint again, for the same command to retry.
      await CancellationScope.nonCancellable(() => short.keepCheckpoint(input, tables));
      message += `; ${input.table} is unchanged and the checkpoint is kept as ${checkpointTableName(tableNameBase(input))}: run the same command again`;
    }
    if (tablesExist && tables && failureType(e) === 'DataLoss') {
      // The user decides anew (--allow-data-loss, or another ALTER): a fresh start, nothing left behind.
      await CancellationScope.nonCancellable(() => short.dropMigrationTables(input, tables));
      tablesExist = false;
      message += '; the ghost table and changelog were dropped';
    } else if (tablesExist && tables && failureType(e) === 'StatementRefused' && patched('refused-drops-tables')) {
      // A statement the server refuses as written would fail a --resurrect the same way: the
      // run leaves nothing behind (runs begun before this marker kept the tables, and replay so).
      await CancellationScope.nonCancellable(() => short.dropMigrationTables(input, tables));
      tablesExist = false;
      message += '; the ghost table and changelog were dropped (the same statement would fail again)';
    }
    // A binlog gone past the checkpoint cannot be resurrected from (its message says what to do).
    if (tablesExist && failureType(e) !== 'BinlogGone')
      message +=
        '; the ghost table, changelog and checkpoint are kept: rerun the same command with --resurrect to continue';
    phase('failed', message);
    await CancellationScope.nonCancellable(() => hook('on-failure', { failure: message })).catch(() => {});
    throw ApplicationFailure.nonRetryable(message, failureType(e));
  }

  /** The migration, phase by phase (each below, in this order). */
  async function phases(): Promise<MigrationResult> {
    await hook('on-startup');
    refuseRevertOffMaster();
    if (input.revert) return revertFinished(input.revert.oldTable);
    // 1-2. Inspect and prepare, or take up a checkpoint; an instant ALTER or a dry run ends here.
    const begun = input.resurrect ? await resurrectFromCheckpoint() : await inspectAndPrepare();
    if ('result' in begun) return begun.result;
    const p = begun.plan;
    if (p.deferredIndexes?.length) status.deferredIndexes = p.deferredIndexes.map((i) => i.name);
    await pushControl();
    // 3. Copy rows while the applier streams the binlog into the ghost.
    const applier = await copyBesideApplier(p);
    await afterCopy(applier, p);
    // 4. Wait for the operator, if the cut-over is postponed.
    if (await waitWhilePostponed(applier)) {
      await applier.stop();
      return renew();
    }
    // 5. Cut over, inside a cut-over window when there are any.
    if ((await cutOver(applier, p)) === 'renew') {
      await applier.stop();
      return renew();
    }
    await applier.stop();
    tablesExist = false;
    // 6. The revert window, if asked for.
    const kept = input.revertWindowSeconds ? await revertWindow.keepUntilEnd(p) : undefined;
    // 7. Clean up.
    return finish(p, kept);
  }

  /** The revert window and --revert work on the master only, without --include-triggers. */
  function refuseRevertOffMaster(): void {
    if (
      (input.revertWindowSeconds || input.revert) &&
      (input.testOnReplica || input.migrateOnReplica || input.triggers)
    ) {
      throw ApplicationFailure.nonRetryable(
        `${input.revert ? '--revert' : '--revert-window'} works on the master only, without --include-triggers: ` +
          `not with ${input.testOnReplica ? '--test-on-replica' : input.migrateOnReplica ? '--migrate-on-replica' : '--include-triggers'}`,
        'BadInput',
      );
    }
  }

  /** --resurrect: the checkpoint's terms checked, and its plan and counts taken up. */
  async function resurrectFromCheckpoint(): Promise<{ plan: TablePlan }> {
    const r = await short.resurrect(input);
    plan = r.plan;
    publishProgress();
    // A renewed run keeps its estimate (an --exact-rowcount count, say).
    if (!renewal) status.rowsEstimate = r.estimatedRows;
    status.rowsCopied = r.copy.rowsCopied;
    status.eventsApplied = r.binlog.eventsApplied;
    tablesExist = true;
    return { plan: r.plan };
  }

  /**
   * 1-2. Inspect (nothing created), wait for --start-at, try --attempt-instant-ddl, then prepare:
   * ghost created and altered, changelog and binlog start position recorded.
   */
  async function inspectAndPrepare(): Promise<{ plan: TablePlan } | { result: MigrationResult }> {
    status.rowsEstimate = (await short.inspect(input)).estimatedRows;
    await hook('on-validated');
    await hook('on-rowcount-complete');
    if (input.startAt && input.execute) await waitUntilStart(input.startAt);
    if (input.attemptInstantDdl && input.execute) {
      const instant = await short.attemptInstantDdl(input);
      if (instant.applied) {
        phase(
          'completed',
          `${input.database}.${input.table} altered in place with ALGORITHM=INSTANT (--attempt-instant-ddl): no copy was needed`,
        );
        return { result: { status, dryRun: false } };
      }
      status.message = `ALGORITHM=INSTANT was refused (${instant.reason}); migrating with a ghost table`;
    }
    phase('preparing', status.message);
    const prepared = await short.prepare(input);
    plan = prepared.plan;
    // Where the applier starts reading: the coordinates (gh-ost's `coordinates`) until it reports its own.
    status.binlogPosition ??= prepared.startPosition;
    if (!input.execute) {
      phase(
        'dry-run-completed',
        'dry run: the ALTER is valid and the ghost table was dropped; add --execute to migrate',
      );
      return { result: { status, dryRun: true } };
    }
    tablesExist = true;
    return { plan: prepared.plan };
  }

  /**
   * 3. The copy, with the applier beside it; on critical load both stop, hibernate, and carry
   * on from their checkpoints. Returns the applier, running on.
   */
  async function copyBesideApplier(p: TablePlan): Promise<Applier> {
    await hook('on-before-row-copy');
    phase(
      renewal?.status.phase === 'postponed' ? 'postponed' : 'migrating',
      renewal
        ? `continued as new (run ${renewal.runs + 1}): the history stays under ${historyLimit} events a run`
        : undefined,
    );
    let applier = startApplier(input, p, status);
    copyStarted ||= Date.now();
    for (;;) {
      try {
        status.rowsCopied = (
          await renewable(applier, () => untilDone((terms) => long.copyRows(input, p, terms)))
        ).rowsCopied;
        return applier;
      } catch (e) {
        const reason = criticalLoad(e);
        if (reason === undefined) throw e;
        await applier.stop();
        if (!input.criticalLoadHibernateSeconds)
          throw ApplicationFailure.nonRetryable(`critical load reached (${reason})`, 'CriticalLoad');
        status.hibernations++;
        phase(
          'hibernating',
          `critical load reached (${reason}): all work stopped for ${input.criticalLoadHibernateSeconds}s`,
        );
        await sleep(input.criticalLoadHibernateSeconds * 1000);
        phase('migrating', `resumed after hibernation (${reason})`);
        applier = startApplier(input, p, status);
      }
    }
  }

  /** After the copy, the applier running on: the deferred indexes, then --checksum. */
  async function afterCopy(applier: Applier, p: TablePlan): Promise<void> {
    // A run renewed after the copy ended keeps its end, and the indexes built then.
    const copyWasDone = copyEnded > 0;
    copyEnded ||= Date.now();
    publishProgress();
    if (p.deferredIndexes?.length && !copyWasDone) {
      // Built now, in one sorted pass each, rather than row by row through the copy.
      phase(
        'indexing',
        `adding the secondary indexes left out of the copy: ${p.deferredIndexes.map((i) => i.name).join(', ')}`,
      );
      await applier.whileRunning(long.addDeferredIndexes(input, p));
      phase('migrating');
    }
    await applier.whileRunning(hook('on-row-copy-complete'));
    if (input.checksum && !status.checksum) {
      // The applier runs on: the snapshot is taken at a marker it must reach.
      phase('checksumming', `comparing ${p.ghostTable} with ${p.table} row for row (--checksum)`);
      status.checksum = await applier.whileRunning(long.checksumTables(input, p));
      phase('migrating', `checksum: ${checksumSummary(status.checksum)}`);
    }
  }

  /** 4. While the cut-over is postponed; true when the history filled first (the run renews). */
  async function waitWhilePostponed(applier: Applier): Promise<boolean> {
    if (status.cutOverPostponed) await applier.whileRunning(hook('on-begin-postponed'));
    return waitUntilCutOverAllowed(
      input,
      status,
      applier,
      () => {
        showDetails();
        // RevenantPhase=postponed: migrations begun before this marker never set it, and replay without it.
        if (searchAttributes && patched('postponed-search-attribute'))
          upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: 'postponed' }]);
        // A fleet's target holds for the cut-over together: the fleet releases it with the others.
        if (input.fleet?.together) {
          void getExternalWorkflowHandle(input.fleet.workflowId)
            .signal(fleetReadySignal, { workflowId: workflowInfo().workflowId, lagSeconds: status.lagSeconds })
            .catch(() => {});
        }
      },
      () => canRenew && historyFull(historyLimit),
    );
  }

  /**
   * 5. The atomic swap once the applier has caught up (and is not paused), inside a cut-over
   * window when there are any. An attempt begins only inside one: a cut-over the window closes
   * on (its locks refused until then) waits for the next window. 'renew' when the history
   * filled while waiting.
   */
  async function cutOver(applier: Applier, p: TablePlan): Promise<'done' | 'renew'> {
    const windows = (input.cutOverWindows ?? []).map(parseCutOverWindow);
    for (;;) {
      const closesAt = windows.length ? await waitForCutOverWindow(applier, windows) : undefined;
      if (closesAt === 'renew') return 'renew';
      await applier.whileRunning(condition(() => !status.settings.paused));
      await applier.whileRunning(hook('on-before-cut-over'));
      phase('cutting-over');
      status.cutOverAttempts++;
      try {
        const swap = await applier.whileRunning(cutOverActivity.cutOver(input, p, closesAt));
        if (swap.renamedAt) status.renamedAt = swap.renamedAt;
        if (swap.killed?.length) status.cutOverKills = swap.killed;
        status.cutOverBlockers = undefined;
        return 'done';
      } catch (e) {
        if (input.fleet?.oneRename && failureType(e) === 'CutOverByGroup') {
          // Told to cut over alone (the operator, any client): it holds again for its group's RENAME.
          status.cutOverPostponed = true;
          if (await waitWhilePostponed(applier)) return 'renew';
          continue;
        }
        if (closesAt === undefined || failureType(e) !== 'CutOverWindowClosed') throw e;
      }
    }
  }

  /** --start-at: the migration was inspected; nothing is created before this instant. */
  async function waitUntilStart(at: string): Promise<void> {
    const wait = Date.parse(at) - Date.now();
    if (wait <= 0) return;
    phase(
      'scheduled',
      `inspected; the migration begins at ${at} (--start-at); abort cancels it, nothing is created before`,
    );
    await sleep(wait);
  }

  /**
   * Until a cut-over window is open: returns when it closes (epoch ms), undefined when the
   * operator said cut over now, or 'renew' when the history filled first. One timer a window,
   * however far away it is.
   */
  async function waitForCutOverWindow(
    applier: Applier,
    windows: CutOverWindow[],
  ): Promise<number | undefined | 'renew'> {
    for (;;) {
      const state = windowState(Date.now(), windows);
      if (state.inside) {
        status.cutOverWindow = undefined;
        return state.closesAt;
      }
      const opensAt = new Date(state.opensAt).toISOString();
      status.cutOverWindow = { opensAt, closesAt: new Date(state.closesAt).toISOString(), window: state.window };
      phase(
        'postponed',
        `ready; the cut-over waits for its window "${state.window}", next open from ${opensAt} (signal cut-over to cut over now)`,
      );
      awaitingWindow = true;
      const full = () => canRenew && historyFull(historyLimit);
      await applier.whileRunning(condition(() => windowOverridden || full(), state.opensAt - Date.now()));
      awaitingWindow = false;
      if (windowOverridden) {
        windowOverridden = false;
        status.cutOverWindow = undefined;
        return undefined;
      }
      if (full()) return 'renew';
    }
  }

  /** 7. Clean up, and say what there is now. */
  async function finish(p: TablePlan, kept: string | undefined): Promise<MigrationResult> {
    phase('cleaning-up');
    // --checkpoint: the changelog stays (_<t>_ghk) while a --revert can use it: the migrated structure in place, the original kept.
    const keepCheckpoint =
      !!input.checkpoint &&
      !input.okToDropTable &&
      tableHas(revertWindow.cutOvers) === 'migrated' &&
      p.topology !== 'test-on-replica';
    await CancellationScope.nonCancellable(() => short.cleanup(input, p, kept, keepCheckpoint));
    if (p.topology === 'test-on-replica') {
      phase(
        'completed',
        input.testOnReplicaSkipReplicaStop
          ? `test-on-replica: ${p.table} (original) and ${p.ghostTable} (migrated) are kept on ${input.server.host}:${input.server.port}; ` +
              'replication was not stopped (--test-on-replica-skip-replica-stop): they match only if something else stopped it before the cut-over'
          : `test-on-replica: replication on ${input.server.host}:${input.server.port} is stopped; ${p.table} (original) and ${p.ghostTable} (migrated) ` +
              'are kept there at the same point for comparison; start replication again when done (START REPLICA; START SLAVE on MariaDB)',
      );
    } else {
      const reverts = status.revert?.reverts ?? 0;
      const reverted =
        status.revert?.tableHas === 'original'
          ? ` and reverted (${reverts} revert${reverts === 1 ? '' : 's'} in the window): it has its original structure`
          : '';
      const window =
        status.revert && input.revertWindowSeconds ? `; the revert window closed (${status.revert.closed})` : '';
      const checkpoint = keepCheckpoint
        ? `; its checkpoint kept as ${checkpointTableName(tableNameBase(input))} for --revert --old-table ${p.oldTable}`
        : '';
      const what = input.revert
        ? `${p.database}.${p.table} reverted (--revert): it has its ${tableHas(revertWindow.cutOvers)} structure`
        : `${p.database}.${p.table} migrated${reverted}`;
      phase(
        'completed',
        `${what}; ${tableHas(revertWindow.cutOvers) === 'original' ? 'the migrated table' : 'old table'} ${input.okToDropTable ? 'dropped' : `kept as ${p.oldTable}`}${window}${checkpoint}`,
      );
    }
    await hook('on-success');
    status.percent = 100;
    if (status.revert) status.revert.secondsLeft = 0;
    status.elapsedSeconds = (Date.now() - started) / 1000;
    status.copyElapsedSeconds = (copyEnded - copyStarted) / 1000;
    return { status, dryRun: false };
  }

  /**
   * gh-ost's --revert --old-table: a finished migration's window, opened again from the
   * checkpoint it kept (--checkpoint), with a revert at once. Its applier brings the old table
   * up to date from the migration's cut-over; the revert cuts over once it has caught up.
   * With --revert-window the window then goes on the other way, as after any revert.
   */
  async function revertFinished(oldTable: string): Promise<MigrationResult> {
    phase(
      'preparing',
      `reverting ${input.database}.${input.table}: ${oldTable} is brought up to date from the binlog since the migration's cut-over, then swapped back in`,
    );
    const start = await short.prepareRevert(input);
    if (!input.execute) {
      phase(
        'dry-run-completed',
        `dry run: ${oldTable} can be brought up to date from the binlog and swapped back in; nothing was changed: add --execute to revert`,
      );
      return { status, dryRun: true };
    }
    plan = start.plan;
    revertWindow.cutOvers = start.window;
    revertWindow.request = 'revert';
    await pushControl();
    const kept = await revertWindow.keepUntilEnd(start.plan);
    if (revertWindow.failure)
      throw ApplicationFailure.nonRetryable(`revert failed: ${revertWindow.failure}`, 'RevertFailed');
    return finish(start.plan, kept);
  }
}
