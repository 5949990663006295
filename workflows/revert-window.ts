// The revert window (--revert-window; gh-ost's --revert opens one on a finished migration): the
// table put aside is kept up to date from the binlog until the window ends, `revert` swaps it
// back in (and the window goes on the other way), `finalize` ends it. Its rules, which table is
// where after how many cut-overs, are model/revert-window.ts.
import { ApplicationFailure, condition, isCancellation, patched, setHandler } from '@temporalio/workflow';
import { finalizeUpdate, groupRevertedSignal, revertUpdate } from '../model/messages';
import { tableHas, windowPlan } from '../model/revert-window';
import type { MigrationInput, MigrationStatus, Phase, TablePlan } from '../model/types';
import { cutOverActivity, short } from './activity-options';
import { startApplier } from './applier';
import { failureMessage, failureType } from './failures';

export class RevertWindow {
  /** A `revert` or `finalize` asked for and not yet done. */
  request: 'revert' | 'finalize' | undefined;
  /** The cut-overs so far: the migration's, then one a revert. */
  cutOvers = 1;
  /** Why the window's applier or its revert failed, once one did. */
  failure: string | undefined;

  constructor(
    private readonly input: MigrationInput,
    private readonly status: MigrationStatus,
    private readonly phase: (p: Phase, message?: string) => void,
  ) {}

  /** The window's updates, refused outside it. */
  registerHandlers(): void {
    setHandler(
      revertUpdate,
      async () => {
        const before = this.cutOvers;
        this.request = 'revert';
        await condition(() => this.cutOvers > before || this.failure !== undefined);
        if (this.cutOvers > before)
          return `${this.input.database}.${this.input.table} reverted: it has the ${tableHas(this.cutOvers)} structure; ${this.status.revert?.keptTable} is kept up to date`;
        throw ApplicationFailure.nonRetryable(`revert failed: ${this.failure}`);
      },
      {
        validator: () => {
          if (this.input.fleet?.oneRename)
            throw new Error(
              `${this.input.database}.${this.input.table} is swapped with its group in one RENAME and reverts with it: revenant revert --fleet NAME`,
            );
          if (this.status.phase !== 'revertible' || this.request)
            throw new Error(
              `nothing to revert in phase ${this.status.phase}${this.request ? ` (${this.request} under way)` : ''}`,
            );
        },
      },
    );
    // Its group's one RENAME swapped it back: the window goes on the other way (checked by its
    // cut-over, which only finds the swap done: a signal from elsewhere swaps nothing).
    setHandler(groupRevertedSignal, () => {
      if (this.input.fleet?.oneRename && this.status.phase === 'revertible' && !this.request) this.request = 'revert';
    });
    setHandler(
      finalizeUpdate,
      () => {
        this.request = 'finalize';
        return `finalizing ${this.input.database}.${this.input.table}: the revert window ends now`;
      },
      {
        validator: () => {
          if (this.status.phase !== 'revertible' || this.request)
            throw new Error(`no revert window open in phase ${this.status.phase}`);
        },
      },
    );
  }

  /** Whether the group's RENAME swapped this table's kept table in (its cut-over only looks). */
  private async swappedByGroup(w: TablePlan): Promise<boolean> {
    try {
      await cutOverActivity.cutOver(this.input, w);
      return true;
    } catch (e) {
      if (failureType(e) === 'CutOverByGroup') return false;
      throw e;
    }
  }

  /**
   * Keeps the table put aside up to date until the window ends (its timer, or `finalize`);
   * `revert` swaps it back in and the window starts again the other way. A failure of the
   * window's applier closes the window: the migration itself is done. Returns the name of
   * the table kept beside the table at the end.
   */
  async keepUntilEnd(p: TablePlan): Promise<string> {
    const { input, status } = this;
    const windowMs = (input.revertWindowSeconds ?? 0) * 1000;
    for (;;) {
      const endsAt = Date.now() + windowMs;
      const w = { ...windowPlan(p, this.cutOvers), windowEndsAt: endsAt };
      status.revert = {
        tableHas: tableHas(this.cutOvers),
        keptTable: w.ghostTable,
        endsAt,
        secondsLeft: windowMs / 1000,
        reverts: this.cutOvers - 1,
        eventsApplied: 0,
        lagSeconds: 0,
      };
      const problem = await short.keptTableProblems(input, w);
      if (problem) status.revert.warning = problem;
      this.phase(
        'revertible',
        `${p.table} has the ${tableHas(this.cutOvers)} structure; ${w.ghostTable} is kept up to date until the window ends ` +
          `(${windowMs / 1000}s): revenant revert swaps it back, revenant finalize ends the window${problem ? `. Warning: ${problem}` : ''}`,
      );
      const applier = startApplier(input, w, status);
      try {
        // (--revert asks for its revert before the window opens.)
        if (this.request === undefined)
          await applier.whileRunning(condition(() => this.request !== undefined, windowMs));
        // A group's table: its revert is the group's RENAME, done already, or not at all (then
        // the window goes on, to the same end).
        while (this.request === 'revert' && input.fleet?.oneRename && !(await this.swappedByGroup(w))) {
          this.request = undefined;
          const left = endsAt - Date.now();
          if (left > 0) await applier.whileRunning(condition(() => this.request !== undefined, left));
        }
        if (this.request !== 'revert') {
          // The kept table holds every change made until the end, not until where the applier
          // happened to be (runs begun before this step stop at once, as they did).
          if (patched('window-catch-up')) await applier.whileRunning(short.catchUpKeptTable(input, w));
          await applier.stop();
          status.revert.closed = this.request === 'finalize' ? 'finalized' : 'its time was up';
          return w.ghostTable;
        }
        this.phase('cutting-over', `reverting: swapping ${w.ghostTable} back in as ${p.table}`);
        status.cutOverAttempts++;
        // (A group's table was swapped by its group's RENAME, and its cut-over saw that above.)
        if (!input.fleet?.oneRename) await applier.whileRunning(cutOverActivity.cutOver(input, w));
        await applier.stop();
        this.cutOvers++;
        this.request = undefined;
        if (!input.revertWindowSeconds) {
          // --revert without a window: done; the table put aside is the migrated one now.
          const keptNow = windowPlan(p, this.cutOvers).ghostTable;
          status.revert = {
            ...status.revert,
            tableHas: tableHas(this.cutOvers),
            keptTable: keptNow,
            reverts: this.cutOvers - 1,
            closed: 'reverted',
          };
          return keptNow;
        }
      } catch (e) {
        if (isCancellation(e)) throw e;
        await applier.stop();
        this.failure = failureMessage(e);
        status.revert.closed = `failed: ${this.failure}`;
        return w.ghostTable;
      }
    }
  }
}
