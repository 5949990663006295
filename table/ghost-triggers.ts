// gh-ost's --include-triggers: the original's triggers are re-created on the ghost under
// their ghost names, at the cut-over, once the original is locked and every change has been
// applied. Not before: the applier writes the ghost, and a trigger there would fire a second
// time for changes whose effects the binlog already carries.
import type { MigrationInput, TablePlan } from '../model/types';
import { exec, rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';

interface TriggerRow {
  TRIGGER_NAME: string;
  ACTION_TIMING: string;
  EVENT_MANIPULATION: string;
  ACTION_STATEMENT: string;
  DEFINER: string;
  SQL_MODE: string;
  CHARACTER_SET_CLIENT: string;
  COLLATION_CONNECTION: string;
}

/** The original's triggers, created on the ghost in their order, each with its own sql_mode and definer. */
export async function createGhostTriggers(conn: Conn, input: MigrationInput, plan: TablePlan): Promise<string[]> {
  if (!input.triggers) return [];
  const defs = await rows<TriggerRow>(conn, sql.triggerDefinitions(plan.database, plan.table));
  const created: string[] = [];
  // A trigger is created under its own sql_mode and character set, which may be ones under
  // which values read differently (NO_BACKSLASH_ESCAPES, a multi-byte client charset): the
  // connection's own are restored before it sends anything else.
  const [own] = await rows(conn, sql.sessionModeAndCharset());
  try {
    for (const t of defs) {
      const name = ghostTriggerName(t.TRIGGER_NAME, input.triggers);
      await exec(conn, sql.triggerSession(t.SQL_MODE, t.CHARACTER_SET_CLIENT, t.COLLATION_CONNECTION));
      await exec(conn, sql.createTrigger(plan.database, plan.ghostTable, name, t));
      created.push(name);
    }
  } finally {
    await exec(conn, sql.triggerSession(String(own.sql_mode), String(own.charset), String(own.collation)));
  }
  return created;
}

/** Ghost triggers of an attempt that did not swap: they must not fire while the applier goes on. */
export async function dropGhostTriggers(conn: Conn, input: MigrationInput, plan: TablePlan): Promise<void> {
  if (!input.triggers) return;
  const onGhost = await rows<{ TRIGGER_NAME: string }>(conn, sql.triggersOn(plan.database, plan.ghostTable));
  for (const t of onGhost) await exec(conn, sql.dropTrigger(plan.database, t.TRIGGER_NAME));
}

/** gh-ost's names for the ghost's copies of the triggers: suffixed, or unsuffixed if they carry the suffix already. */
export function ghostTriggerName(name: string, t: { suffix: string; removeSuffixIfExists: boolean }): string {
  return t.removeSuffixIfExists && name.endsWith(t.suffix) && name.length > t.suffix.length
    ? name.slice(0, -t.suffix.length)
    : name + t.suffix;
}
