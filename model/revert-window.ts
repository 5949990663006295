// The revert window (--revert-window): after the cut-over the table put aside is kept up to
// date with every change made to the table, so that `revenant revert` can swap it back with
// the same sentry cut-over, losing no write; and the window goes on the other way, so a
// revert can itself be reverted. Pure rules, shared by the workflow and the activities: the
// plans of each direction.
//
// The two tables trade places at each cut-over, under the names a migration already uses:
//   after the migration's cut-over:  t = migrated, _t_del = original (kept up to date)
//   after a revert:                  t = original, _t_gho = migrated (kept up to date)
//   after a revert of the revert:    as after the migration's cut-over, and so on.
// The sentry of each cut-over takes the name the table will leave for; whatever is kept at
// the window's end is named _t_del, as after any migration (or dropped: --ok-to-drop-table).
import type { TablePlan } from './types';

/**
 * The plan that keeps the put-aside table up to date after `window` cut-overs (1: the
 * migration's own). Odd windows run backwards: the migrated table's changes, its columns
 * mapped back to the original's names, into _t_del. Even ones run forwards again, into _t_gho.
 */
export function windowPlan(p: TablePlan, window: number): TablePlan {
  const base = { ...p, copyKey: undefined, deferredIndexes: undefined, window };
  if (window % 2 === 0) return base;
  const migratedName = new Map(p.columns.map((c) => [c.source, c.ghost]));
  return {
    ...base,
    ghostTable: p.oldTable,
    oldTable: p.ghostTable,
    columns: p.columns.map((c) => ({ source: c.ghost, ghost: c.source, ...(c.generated ? { generated: true } : {}) })),
    key: { ...p.key, columns: p.key.columns.map((k) => migratedName.get(k) ?? k) },
  };
}

/** Which structure the table has while this window's plan keeps the other one. */
export const tableHas = (window: number): 'migrated' | 'original' => (window % 2 === 1 ? 'migrated' : 'original');
