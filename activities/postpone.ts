// gh-ost's --postpone-cut-over-flag-file: while the file exists (on the worker's host), the
// cut-over waits. A heartbeating activity, so the wait survives worker restarts.
import { Context } from '@temporalio/activity';
import { existsSync } from 'node:fs';
import { sleep } from '../runtime/sleep';

export async function waitWhileFileExists(path: string): Promise<void> {
  const ctx = Context.current();
  while (existsSync(path)) {
    ctx.heartbeat();
    await sleep(1000);
  }
}
