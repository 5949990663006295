// Throttling: whether copy and apply should hold off right now, and why. Reasons, in order:
// the operator paused; --max-load reached; --throttle-query answered positive. Critical
// load (--critical-load) is stronger: the copy stops and the workflow hibernates.
import { parseThresholds, type Control } from '../workflows/settings';
import { rows, type Conn } from './mysql';
import * as sql from './sql';

export type Thresholds = Map<string, number>;

/** The first threshold the server exceeds, as "Name=value >= threshold", or null. */
export async function exceeded(conn: Conn, thresholds: Thresholds): Promise<string | null> {
  if (thresholds.size === 0) return null;
  const status = await rows(conn, sql.globalStatus([...thresholds.keys()]));
  const byName = new Map(status.map((r) => [String(r.name).toLowerCase(), Number(r.value)]));
  for (const [name, limit] of thresholds) {
    const v = byName.get(name.toLowerCase());
    if (v === undefined) throw new Error(`unknown status variable ${name} in load thresholds`);
    if (v >= limit) return `${name}=${v} >= ${limit}`;
  }
  return null;
}

/** Why to hold off now, or null. */
export async function throttleReason(conn: Conn, control: Control): Promise<string | null> {
  if (control.paused) return 'paused by operator';
  const load = await exceeded(conn, parseThresholds(control.maxLoad, '--max-load'));
  if (load) return `max-load ${load}`;
  if (control.throttleQuery) {
    const [r] = await rows(conn, sql.throttleQuery(control.throttleQuery));
    const v = r ? Number(Object.values(r)[0]) : 0;
    if (v > 0) return `throttle-query returned ${v}`;
  }
  return null;
}
