// Load thresholds in gh-ost's format ("Threads_running=100,Threads_connected=500"): parsed
// once, checked against the server's global status. Critical load makes the copy stop and
// the workflow hibernate (or stop, resurrectable) instead of hurting production.
import { rows, type Conn } from './mysql';
import * as sql from './sql';

export type Thresholds = Map<string, number>;

export function parseThresholds(spec: string | undefined, flag: string): Thresholds {
  const out: Thresholds = new Map();
  if (!spec || !spec.trim()) return out;
  for (const part of spec.split(',')) {
    const m = /^\s*([A-Za-z_]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) throw new Error(`${flag}: "${part.trim()}" is not status_variable=number (e.g. Threads_running=100)`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

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
