// Short activities (inspect, prepare, resurrect, clean-up, the operator's control writes, a
// fleet's target lists…) are a few statements each and report no progress. Heartbeating for
// them while they run lets Temporal notice a worker that died under one within their heartbeat
// timeout (workflows/migrate-table.ts: 10 s), instead of their start-to-close timeout (minutes):
// found by the fleet test, whose worker killed mid-prepare held a target for ten minutes. The
// long activities heartbeat themselves, with details their retries resume from: left alone.
// Every activity's failure for want of a privilege, or for a statement the server refuses as
// written, is made final here (privilegeFailure, refusedStatementFailure).
import { Context } from '@temporalio/activity';
import { privilegeFailure, refusedStatementFailure } from '../mysql/errors';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

const HEARTBEAT_THEMSELVES = new Set([
  'copyRows',
  'drainBinlog',
  'checksumTables',
  'cutOver',
  'addDeferredIndexes',
  'waitWhileFileExists',
]);
const EVERY_MS = 1_000;

class KeepAlive implements ActivityInboundCallsInterceptor {
  async execute(
    input: Parameters<NonNullable<ActivityInboundCallsInterceptor['execute']>>[0],
    next: Parameters<NonNullable<ActivityInboundCallsInterceptor['execute']>>[1],
  ): Promise<unknown> {
    const ctx = Context.current();
    const beat = HEARTBEAT_THEMSELVES.has(ctx.info.activityType)
      ? undefined
      : setInterval(() => ctx.heartbeat(), EVERY_MS);
    try {
      return await next(input);
    } catch (e) {
      // Whatever activity met it: a missing privilege, or a statement the server refuses as
      // written, fails the migration at once, with the statement named, instead of the same
      // refusal retried for minutes.
      throw privilegeFailure(e) ?? refusedStatementFailure(e) ?? e;
    } finally {
      clearInterval(beat);
    }
  }
}

export const keepAlive: ActivityInterceptorsFactory = () => ({ inbound: new KeepAlive() });
