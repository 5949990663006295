// gh-ost's hooks: executables in --hooks-path (on the worker's host) whose names begin with
// gh-ost-<hook>, run in name order with gh-ost's GH_OST_* environment, so existing hook
// scripts keep working. Each call is an activity, so Temporal Web shows every run. A failing
// hook stops the migration where gh-ost's would (before the cut-over, for one); on-status,
// on-success and on-failure only report.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkerPolicy } from './worker-policy';
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ghostTableName, oldTableName, tableNameBase, type MigrationInput } from '../model/types';
import type { HookContext, HookName } from '../model/hooks';

/** Hooks whose failure is only reported. */
const ADVISORY: HookName[] = ['on-status', 'on-failure', 'on-success'];

export function hookEnvironment(input: MigrationInput, ctx: HookContext): Record<string, string> {
  return {
    GH_OST_DATABASE_NAME: input.database,
    GH_OST_TABLE_NAME: input.table,
    GH_OST_GHOST_TABLE_NAME: ghostTableName(tableNameBase(input)),
    GH_OST_OLD_TABLE_NAME: ctx.oldTable ?? oldTableName(tableNameBase(input)),
    GH_OST_DDL: input.alter,
    GH_OST_ELAPSED_SECONDS: String(Math.round(ctx.elapsedSeconds)),
    GH_OST_ELAPSED_COPY_SECONDS: String(Math.round(ctx.copyElapsedSeconds)),
    GH_OST_ESTIMATED_ROWS: String(ctx.estimatedRows),
    GH_OST_COPIED_ROWS: String(ctx.copiedRows),
    GH_OST_PROGRESS: ctx.progress.toFixed(2),
    GH_OST_ETA_SECONDS: ctx.etaSeconds === undefined ? '' : String(Math.round(ctx.etaSeconds)),
    GH_OST_INSPECTED_HOST: input.server.host,
    GH_OST_EXECUTING_HOST: ctx.executingHost,
    GH_OST_MIGRATED_HOST: ctx.migratedHost,
    GH_OST_HOOKS_HINT: input.hooksHint ?? '',
    GH_OST_HOOKS_HINT_OWNER: input.hooksHintOwner ?? '',
    GH_OST_HOOKS_HINT_TOKEN: input.hooksHintToken ?? '',
    GH_OST_DRY_RUN: String(!input.execute),
    GH_OST_REVERT: 'false',
    ...(ctx.status !== undefined ? { GH_OST_STATUS: ctx.status } : {}),
    ...(ctx.failure !== undefined ? { GH_OST_ERROR: ctx.failure } : {}),
  };
}

function executables(dir: string, hook: HookName): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw ApplicationFailure.nonRetryable(
      `--hooks-path ${dir} cannot be read on this worker: ${(e as Error).message}`,
      'HookFailed',
    );
  }
  return names
    .filter((n) => n.startsWith(`gh-ost-${hook}`))
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        accessSync(p, constants.X_OK);
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
}

/** Runs the hook's executables in order; returns what each printed. */
export async function runHook(
  input: MigrationInput,
  hook: HookName,
  ctx: HookContext,
  policy?: WorkerPolicy,
): Promise<string[]> {
  if (!input.hooksPath) return [];
  const refused = policy?.refusesHooksPath(input.hooksPath);
  if (refused) throw ApplicationFailure.nonRetryable(refused, 'HookNotAllowed');
  // gh-ost's variables and a PATH, nothing else of the worker's environment: its passwords
  // and Temporal keys are not the hook's business.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...hookEnvironment(input, ctx) };
  const log = Context.current().log;
  const outputs: string[] = [];
  for (const file of executables(input.hooksPath, hook)) {
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(file, [], { env, timeout: 10 * 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}`.trim() });
      });
    });
    // What a hook prints stays in the worker's log; the workflow's history gets its exit code.
    if (result.out) log.info(`hook ${file} printed: ${result.out.slice(0, 4000)}`);
    outputs.push(`${file}: exit ${result.code}`);
    if (result.code !== 0 && !ADVISORY.includes(hook)) {
      throw ApplicationFailure.nonRetryable(
        `hook ${file} failed (exit ${result.code}); its output is in the worker's log`,
        'HookFailed',
      );
    }
  }
  return outputs;
}
