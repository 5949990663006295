// The laptop path: with no TEMPORAL_ADDRESS, revenant starts (or reuses) a local Temporal
// dev server with its state in a file, detached, so it outlives this command and a rerun
// of the same command attaches to the running migration.
import { Connection } from '@temporalio/client';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SEARCH_ATTRIBUTES = ['RevenantDatabase=Keyword', 'RevenantTable=Keyword', 'RevenantPhase=Keyword', 'RevenantProgress=Double'];

async function reachable(address: string): Promise<boolean> {
  try {
    const c = await Connection.connect({ address, connectTimeout: 1000 });
    await c.healthService.check({});
    await c.close();
    return true;
  } catch {
    return false;
  }
}

function temporalBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the temporal CLI is not installed (scripts/setup.sh installs it), and TEMPORAL_ADDRESS is not set');
  }
}

export async function ensureEmbeddedTemporal(env: NodeJS.ProcessEnv = process.env): Promise<{ address: string; uiUrl: string; started: boolean }> {
  const port = Number(env.REVENANT_EMBEDDED_TEMPORAL_PORT ?? 7233);
  const uiPort = port + 1000;
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  if (await reachable(address)) return { address, uiUrl, started: false };
  const dir = env.REVENANT_HOME ?? join(homedir(), '.revenant');
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, 'temporal.log'), 'a');
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort),
    '--db-filename', join(dir, 'temporal.db'), '--log-level', 'warn', ...SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', a])];
  const child = spawn(temporalBinary(), args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  for (let i = 0; i < 120; i++) {
    if (await reachable(address)) return { address, uiUrl, started: true };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the embedded Temporal dev server did not come up on ${address}; see ${join(dir, 'temporal.log')}`);
}
