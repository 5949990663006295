// The MySQL engine as Temporal activities. The worker builds them with what only it holds:
// credentials, and a way to report progress to the workflow.
import type { Activities } from '../model/activities';
import type {
  FleetServerSpec,
  FleetTarget,
  LongRunTerms,
  MigrationInput,
  ServerRef,
  TableAlter,
  TablePlan,
} from '../model/types';
import { cleanup, dropMigrationTables, keepCheckpoint } from './cleanup';
import { checksumTables } from './checksum';
import { copyRows } from './copy';
import { addDeferredIndexes } from '../table/indexes';
import type { CredentialResolver } from '../mysql/credentials';
import { cutOver } from './cutover';
import { cutOverTogether } from './cutover-together';
import { drainBinlog } from './apply';
import { attemptInstantDdl, prepare } from './prepare';
import { inspect } from './inspect';
import { runHook } from '../runtime/hooks';
import type { HookContext, HookName } from '../model/hooks';
import { policyFromEnvironment, type WorkerPolicy } from '../runtime/worker-policy';
import type { ProgressSink } from '../runtime/progress';
import { waitWhileFileExists } from './postpone';
import { resurrect } from './resurrect';
import { catchUpKeptTable, keptTableProblems, prepareRevert } from './revert';
import { writeControl, type ControlSource } from '../control/live-settings';
import { fleetCheckpoints, listFleetTargets } from './fleet';
import type { Control } from '../model/settings';

export interface ActivityDeps {
  credentials: CredentialResolver;
  progress?: ProgressSink;
  /** The settings in force, read from the workflow (never from the changelog). */
  control?: ControlSource;
  /** What the worker's operator allows beyond MySQL: hooks, throttle URLs. */
  policy?: WorkerPolicy;
}

export function createActivities(deps: ActivityDeps): Activities {
  const { credentials, progress, control } = deps;
  const policy = deps.policy ?? policyFromEnvironment();
  const services = { control, policy };
  return {
    inspect: (input: MigrationInput) => inspect(credentials, input),
    prepare: (input: MigrationInput) => prepare(credentials, input),
    attemptInstantDdl: (input: MigrationInput) => attemptInstantDdl(credentials, input),
    resurrect: (input: MigrationInput) => resurrect(credentials, input),
    copyRows: (input: MigrationInput, plan: TablePlan, terms?: LongRunTerms) =>
      copyRows(credentials, progress, input, plan, services, terms),
    addDeferredIndexes: (input: MigrationInput, plan: TablePlan) => addDeferredIndexes(credentials, input, plan),
    drainBinlog: (input: MigrationInput, plan: TablePlan, terms?: LongRunTerms) =>
      drainBinlog(credentials, progress, input, plan, services, terms),
    checksumTables: (input: MigrationInput, plan: TablePlan) => checksumTables(credentials, input, plan, control),
    cutOver: (input: MigrationInput, plan: TablePlan, notAfter?: number) =>
      cutOver(credentials, input, plan, control, notAfter, progress),
    cutOverTogether: (members: MigrationInput[], window: number) => cutOverTogether(credentials, members, window),
    cleanup: (input: MigrationInput, plan: TablePlan, kept?: string, keepCheckpointTable?: boolean) =>
      cleanup(credentials, input, plan, kept, keepCheckpointTable),
    keptTableProblems: (input: MigrationInput, window: TablePlan) => keptTableProblems(credentials, input, window),
    catchUpKeptTable: (input: MigrationInput, window: TablePlan) => catchUpKeptTable(credentials, input, window),
    prepareRevert: (input: MigrationInput) => prepareRevert(credentials, input),
    keepCheckpoint: (input: MigrationInput, plan: TablePlan) => keepCheckpoint(credentials, input, plan),
    waitWhileFileExists,
    runHook: (input: MigrationInput, hook: HookName, ctx: HookContext) => runHook(input, hook, ctx, policy),
    writeControl: (input: MigrationInput, plan: TablePlan, control: Control) =>
      writeControl(credentials, input, plan, control),
    dropMigrationTables: (input: MigrationInput, plan: TablePlan) => dropMigrationTables(credentials, input, plan),
    listFleetTargets: (
      servers: FleetServerSpec[],
      table: string,
      login: Pick<ServerRef, 'user' | 'tls' | 'timeoutSeconds'>,
      tables?: TableAlter[],
    ) => listFleetTargets(credentials, servers, table, login, tables),
    fleetCheckpoints: (targets: FleetTarget[], template: Pick<MigrationInput, 'forceTableNames'>) =>
      fleetCheckpoints(credentials, targets, template),
  };
}

export type { Activities };
