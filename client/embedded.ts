// The laptop path: with no TEMPORAL_ADDRESS, revenant starts (or reuses) a local Temporal
// dev server with its state in a file, detached, so it outlives this command and a rerun
// of the same command attaches to the running migration.
import { Client, Connection } from '@temporalio/client';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SEARCH_ATTRIBUTES = [
  'RevenantDatabase=Keyword',
  'RevenantTable=Keyword',
  'RevenantPhase=Keyword',
  'RevenantProgress=Double',
  'RevenantFleet=Keyword',
];

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
    throw new Error(
      'the temporal CLI is not installed (scripts/setup.sh installs it), and TEMPORAL_ADDRESS is not set',
    );
  }
}

/** Where the embedded server listens and keeps its state (REVENANT_EMBEDDED_TEMPORAL_PORT, REVENANT_HOME). */
function embeddedPlace(env: NodeJS.ProcessEnv) {
  const port = Number(env.REVENANT_EMBEDDED_TEMPORAL_PORT ?? 7233);
  const dir = env.REVENANT_HOME ?? join(homedir(), '.revenant');
  return {
    port,
    uiPort: port + 1000,
    address: `127.0.0.1:${port}`,
    uiUrl: `http://127.0.0.1:${port + 1000}`,
    dir,
    dbFile: join(dir, 'temporal.db'),
    pidFile: join(dir, 'temporal.pid'),
  };
}

export async function ensureEmbeddedTemporal(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ address: string; uiUrl: string; started: boolean }> {
  const { port, uiPort, address, uiUrl, dir, dbFile, pidFile } = embeddedPlace(env);
  if (await reachable(address)) return { address, uiUrl, started: false };
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, 'temporal.log'), 'a');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    dbFile,
    '--log-level',
    'warn',
    ...SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', a]),
  ];
  const child = spawn(temporalBinary(), args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  // For `revenant server status|stop`.
  writeFileSync(pidFile, String(child.pid));
  for (let i = 0; i < 120; i++) {
    if (await reachable(address)) return { address, uiUrl, started: true };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the embedded Temporal dev server did not come up on ${address}; see ${join(dir, 'temporal.log')}`);
}

/** Whether process `pid` is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A pid file's process, while it is alive. */
function serverPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return pid > 0 && alive(pid) ? pid : undefined;
}

async function runningMigrations(address: string): Promise<string[]> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    const ids: string[] = [];
    for await (const w of new Client({ connection }).workflow.list({
      query: 'WorkflowType = "migrateTable" AND ExecutionStatus = "Running"',
    }))
      ids.push(w.workflowId);
    return ids;
  } finally {
    await connection.close();
  }
}

/** `revenant server status`: whether the embedded server runs, where, and what runs on it. */
export async function embeddedServerStatus(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ text: string; running: boolean }> {
  const { address, uiUrl, dbFile, pidFile } = embeddedPlace(env);
  if (!(await reachable(address)))
    return {
      running: false,
      text: `no embedded Temporal server runs on ${address} (its state, if any, is in ${dbFile}); revenant migrate starts one`,
    };
  const pid = serverPid(pidFile);
  const migrations = await runningMigrations(address);
  return {
    running: true,
    text:
      `embedded Temporal server on ${address} (${pid ? `pid ${pid}` : 'not started by revenant: no pid file'}), Web UI ${uiUrl}, state in ${dbFile}; ` +
      `${migrations.length} migration(s) running${migrations.length ? `: ${migrations.join(', ')}` : ''}`,
  };
}

/**
 * `revenant server stop`: the server revenant started, stopped (SIGTERM, then SIGKILL after
 * 20 s). Migrations running on it keep their state in its database and go on when it is back
 * and their command is run again; stopping under them needs `force`.
 */
export async function stopEmbeddedTemporal(env: NodeJS.ProcessEnv = process.env, force = false): Promise<string> {
  const { address, pidFile } = embeddedPlace(env);
  const pid = serverPid(pidFile);
  if (!(await reachable(address))) {
    if (pid) process.kill(pid, 'SIGKILL');
    rmSync(pidFile, { force: true });
    return `no embedded Temporal server runs on ${address}`;
  }
  if (!pid)
    throw new Error(
      `the Temporal server on ${address} was not started by revenant (no pid file in ${pidFile}): stop it where it was started`,
    );
  const migrations = await runningMigrations(address);
  if (migrations.length && !force) {
    throw new Error(
      `${migrations.length} migration(s) run on the embedded server (${migrations.join(', ')}): stopping it pauses them ` +
        '(their state stays in its database; they go on once it is back and their command runs again); add --force to stop it anyway',
    );
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 200 && alive(pid); i++) {
    if (i === 100) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
  }
  rmSync(pidFile, { force: true });
  return `embedded Temporal server on ${address} stopped (pid ${pid})`;
}
