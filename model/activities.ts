// What the workflows call, as they call it: each activity's arguments and the part of its result
// they read. The worker's activities (activities/index.ts) are declared to be these, so the two
// cannot drift; the workflows import this and nothing of the engine.
import type { HookContext, HookName } from './hooks';
import type { Control } from './settings';
import type {
  ApplyProgress,
  BinlogPosition,
  ChecksumResult,
  CopyProgress,
  FleetServerSpec,
  FleetTarget,
  LongRunTerms,
  MigrationInput,
  ServerRef,
  TableAlter,
  TablePlan,
} from './types';

export interface CutOverResult {
  swapped: boolean;
  alreadySwapped: boolean;
  /** When the RENAME returned (epoch ms, the worker's clock): a fleet's cut-overs together are judged by their spread. */
  renamedAt?: number;
  /** Sessions --force-cut-over-after killed before the lock was taken (recorded in history with the result). */
  killed?: string[];
}

/** A server's tables swapped together (activities/cutover-together.ts). */
export interface CutOverTogetherResult {
  /** Every pair was swapped by an earlier attempt (a retry after a worker died, say). */
  alreadySwapped: boolean;
  renamedAt?: number;
  /** The one RENAME, as it ran. */
  statement?: string;
  killed?: string[];
}

export interface Activities {
  inspect(input: MigrationInput): Promise<{ estimatedRows: number; serverVersion: string }>;
  prepare(input: MigrationInput): Promise<{ plan: TablePlan; startPosition: BinlogPosition }>;
  attemptInstantDdl(input: MigrationInput): Promise<{ applied: boolean; reason?: string }>;
  resurrect(input: MigrationInput): Promise<{
    plan: TablePlan;
    estimatedRows: number;
    copy: { rowsCopied: number };
    binlog: { eventsApplied: number };
  }>;
  copyRows(input: MigrationInput, plan: TablePlan, terms?: LongRunTerms): Promise<CopyProgress>;
  addDeferredIndexes(input: MigrationInput, plan: TablePlan): Promise<void>;
  drainBinlog(input: MigrationInput, plan: TablePlan, terms?: LongRunTerms): Promise<ApplyProgress>;
  checksumTables(input: MigrationInput, plan: TablePlan): Promise<ChecksumResult>;
  /** `notAfter`: the cut-over window's end (epoch ms); no attempt begins after it. */
  cutOver(input: MigrationInput, plan: TablePlan, notAfter?: number): Promise<CutOverResult>;
  /**
   * Swaps every member's ghost in (window 0) or, in their revert window, the kept tables back
   * (window = the cut-overs so far), all in one RENAME; the members are one server's.
   */
  cutOverTogether(members: MigrationInput[], window: number): Promise<CutOverTogetherResult>;
  cleanup(
    input: MigrationInput,
    plan: TablePlan,
    kept?: string,
    keepCheckpointTable?: boolean,
  ): Promise<{ droppedOldTable: boolean }>;
  keptTableProblems(input: MigrationInput, window: TablePlan): Promise<string | undefined>;
  catchUpKeptTable(input: MigrationInput, window: TablePlan): Promise<BinlogPosition>;
  /** The finished migration's plan, and the window (cut-overs so far) its checkpoint belongs to. */
  prepareRevert(input: MigrationInput): Promise<{ plan: TablePlan; window: number }>;
  keepCheckpoint(input: MigrationInput, plan: TablePlan): Promise<void>;
  waitWhileFileExists(path: string): Promise<void>;
  runHook(input: MigrationInput, hook: HookName, ctx: HookContext): Promise<string[]>;
  writeControl(input: MigrationInput, plan: TablePlan, control: Control): Promise<void>;
  dropMigrationTables(input: MigrationInput, plan: TablePlan): Promise<void>;
  listFleetTargets(
    servers: FleetServerSpec[],
    table: string,
    login: Pick<ServerRef, 'user' | 'tls' | 'timeoutSeconds'>,
    /** A multi-table migration's tables, each with its ALTER (the one database of the one server). */
    tables?: TableAlter[],
  ): Promise<FleetTarget[]>;
  fleetCheckpoints(targets: FleetTarget[], template: Pick<MigrationInput, 'forceTableNames'>): Promise<number[]>;
}
