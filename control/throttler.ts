// Throttling: whether copy and apply should hold off right now, and why. Reasons, in order:
// the operator paused; a throttle flag file exists; a replica lags more than
// --max-lag-millis; --max-load reached; --throttle-query answered positive; --throttle-http
// answered other than 200. Critical load
// (--critical-load) is stronger: the copy stops and the workflow hibernates. The panic flag
// file is strongest: everything stops at once.
import { ApplicationFailure } from '@temporalio/common';
import { existsSync } from 'node:fs';
import { parseThresholds, type Control } from '../model/settings';
import type { MigrationInput, ServerRef, TablePlan } from '../model/types';
import type { CredentialResolver } from '../mysql/credentials';
import { connect } from '../mysql/connection';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import type { WorkerPolicy } from '../runtime/worker-policy';

export type Thresholds = Map<string, number>;

/** The first threshold the server exceeds, as "Name=value >= threshold", or null. */
export async function exceeded(conn: Conn, thresholds: Thresholds): Promise<string | null> {
  if (thresholds.size === 0) return null;
  const status = await rows(conn, sql.globalStatus([...thresholds.keys()]));
  const byName = new Map(status.map((r) => [String(r.Variable_name).toLowerCase(), Number(r.Value)]));
  for (const [name, limit] of thresholds) {
    const v = byName.get(name.toLowerCase());
    if (v === undefined) throw new Error(`unknown status variable ${name} in load thresholds`);
    if (v >= limit) return `${name}=${v} >= ${limit}`;
  }
  return null;
}

/** gh-ost's --panic-flag-file: its appearance stops the migration at once (tables kept for --resurrect). */
export function checkPanicFlag(input: MigrationInput): void {
  if (input.panicFlagFile && existsSync(input.panicFlagFile)) {
    throw ApplicationFailure.nonRetryable(`panic flag file ${input.panicFlagFile} exists: stopped at once`, 'Panic');
  }
}

/** Lag of each watched replica, by the master's heartbeat in the changelog. */
export class LagReader {
  private readonly conns = new Map<string, Conn>();
  constructor(
    private readonly plan: TablePlan,
    private readonly credentials: CredentialResolver,
  ) {}

  private async connection(r: ServerRef): Promise<Conn> {
    const key = `${r.host}:${r.port}`;
    let c = this.conns.get(key);
    if (!c) {
      c = await connect(r, this.credentials);
      this.conns.set(key, c);
    }
    return c;
  }

  /** The first replica lagging more than maxLagMillis, as a throttle reason, or null. */
  async lagging(maxLagMillis: number): Promise<string | null> {
    for (const r of this.plan.lagReplicas ?? []) {
      const name = `${r.host}:${r.port}`;
      let lag: number | null;
      try {
        const [row] = await rows(
          await this.connection(r),
          sql.heartbeatLagMillis(this.plan.database, this.plan.changelogTable),
        );
        lag = row?.lag_ms == null ? null : Number(row.lag_ms);
      } catch (e) {
        this.conns.get(name)?.destroy();
        this.conns.delete(name);
        return `lag: replica ${name} unreachable (${(e as Error).message})`;
      }
      if (lag === null) return `lag: replica ${name} has no heartbeat yet`;
      if (lag > maxLagMillis)
        return `lag: replica ${name} is ${(lag / 1000).toFixed(1)}s behind (max-lag-millis ${maxLagMillis})`;
    }
    return null;
  }

  close(): void {
    for (const c of this.conns.values()) c.destroy();
    this.conns.clear();
  }
}

/** gh-ost's words for the answers of a --throttle-http URL (freno's when the URL names freno). */
const HTTP_MESSAGES: Record<number, string> = {
  404: 'Not found',
  417: 'Expectation failed',
  429: 'Too many requests',
  500: 'Internal server error',
  [-1]: 'Connection error',
};
const FRENO_MESSAGES: Record<number, string> = {
  404: 'freno: unknown metric',
  417: 'freno: access forbidden',
  429: 'freno: threshold exceeded',
  500: 'freno: internal error',
  [-1]: 'freno: connection error',
};

/**
 * gh-ost's --throttle-http: the URL is asked with HEAD every interval, in the background, and
 * the last answer decides; until the first one, the safe side (held). A URL that cannot be
 * reached throttles too, unless --ignore-http-errors.
 */
export class HttpThrottle {
  private url = '';
  private status: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly input: MigrationInput,
    private readonly policy?: WorkerPolicy,
  ) {}

  reason(url: string | undefined): string | null {
    // A URL the worker does not allow is never asked: it holds the work until the operator sets another.
    const refused = url ? this.policy?.refusesThrottleUrl(url) : null;
    if (refused) {
      this.close();
      return `throttle-http: ${refused}`;
    }
    if ((url ?? '') !== this.url) this.follow(url ?? '');
    if (!this.url) return null;
    if (this.status === undefined) return 'throttle-http: no answer yet';
    if (this.status === 200 || (this.status === -1 && this.input.ignoreHttpErrors)) return null;
    const message = (/freno/.test(this.url) ? FRENO_MESSAGES : HTTP_MESSAGES)[this.status];
    return `throttle-http: ${message ? `${message} (http=${this.status})` : `http=${this.status}`}`;
  }

  private follow(url: string): void {
    this.close();
    this.url = url;
    this.status = undefined;
    if (!url) return;
    const ask = async () => {
      try {
        const r = await fetch(url, {
          method: 'HEAD',
          signal: AbortSignal.timeout(this.input.throttleHttpTimeoutMillis ?? 1000),
        });
        if (this.url === url) this.status = r.status;
      } catch {
        if (this.url === url) this.status = -1;
      }
      if (this.url === url)
        this.timer = setTimeout(() => {
          void ask();
        }, this.input.throttleHttpIntervalMillis ?? 100);
    };
    void ask();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.url = '';
  }
}

/** Why to hold off now, or null. */
export async function throttleReason(
  conn: Conn,
  control: Control,
  input?: MigrationInput,
  lag?: LagReader,
  http?: HttpThrottle,
): Promise<string | null> {
  if (control.paused) return 'paused by operator';
  for (const f of [input?.throttleFlagFile, input?.throttleAdditionalFlagFile]) {
    if (f && existsSync(f)) return `flag-file ${f} exists`;
  }
  const lagging = await lag?.lagging(control.maxLagMillis);
  if (lagging) return lagging;
  const load = await exceeded(conn, parseThresholds(control.maxLoad, '--max-load'));
  if (load) return `max-load ${load}`;
  if (control.throttleQuery) {
    const [r] = await rows(conn, sql.throttleQuery(control.throttleQuery));
    const v = r ? Number(Object.values(r)[0]) : 0;
    // Its value is not reported: a query can read any column, and the status would show it.
    if (v > 0) return 'throttle-query returned a positive value';
  }
  return http?.reason(control.throttleHttp) ?? null;
}
