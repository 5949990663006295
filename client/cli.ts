// `revenant`: the command line. `migrate` (the default) starts or attaches to a migration
// and prints its status line until it ends; `worker` runs a worker; `status` and `cut-over`
// talk to a running migration.
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { defaultPayloadConverter, type ApplicationFailure, type Payload } from '@temporalio/common';
import { createInterface } from 'node:readline';
import { credentialsFromEnvironment, type LoginOverrides } from '../mysql/credentials';
import { policyFromEnvironment } from '../runtime/worker-policy';
import { canonicalJson } from '../table/canonical-json';
import { migrateHelp } from './help';
import {
  checksumSummary,
  embeddedTaskQueue,
  fleetWorkflowId,
  ghostTableName,
  hostAndPort,
  migrationWorkflowId,
  tableNameBase,
  TASK_QUEUE,
  type FleetInput,
  type FleetResult,
  type FleetStatus,
  type MigrationInput,
  type MigrationResult,
  type MigrationStatus,
  type RevertWindowStatus,
} from '../model/types';
import { fleetInput, fleetLine, fleetTable, tableAlters, tablesInput } from './fleet';
import { embeddedServerStatus, ensureEmbeddedTemporal, stopEmbeddedTemporal } from './embedded';
import { fileAndNotices, workerLogFile } from './worker-log';
import { configuredTemporal } from '../worker/temporal-connection';
import { checkFlags, migrateRequest, parseFlags, UsageError, type MigrateRequest } from './flags';
import { reasonOf, sendUpdate } from './updates';
import { settingsLine, statusLine } from '../workflows/status-line';
import { InteractiveServer, refuseTakenServeTargets } from './interactive';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { SETTING_NAMES, SETTING_TABLE } from '../model/settings';
import {
  abortUpdate,
  cutOverSignal,
  finalizeUpdate,
  fleetAbortUpdate,
  fleetRevertUpdate,
  fleetSetUpdate,
  fleetStatusQuery,
  pauseSignal,
  resumeSignal,
  revertUpdate,
  setUpdate,
  statusQuery,
} from '../model/messages';

// The worker side (the SDK's worker, its native core, the activities) loads only where a worker
// runs: in `revenant worker`, or in `migrate` on the embedded server. Talking to a configured
// Temporal, the CLI starts in a fraction of the time.
const workerModule = async () => require('../worker/worker') as typeof import('../worker/worker');
const workerSdk = async () => require('@temporalio/worker') as typeof import('@temporalio/worker');

const HELP = `revenant: online schema migrations for MySQL and MariaDB that cannot die

usage:
  revenant migrate --host H --port P --user U --database D --table T --alter "…" [--execute] [gh-ost flags…]
  revenant worker                      run a worker (credentials from REVENANT_MYSQL_USER/PASSWORD or REVENANT_CONFIG)
  revenant status|pause|resume|cut-over --host H --port P --database D --table T
  revenant abort [--cleanup] --host H --port P --database D --table T
  revenant revert|finalize --host H --port P --database D --table T
                        in the revert window (migrate --revert-window 24h): swap the table put aside back in; end the window
  revenant migrate --revert --old-table _T_del --host H --port P --database D --table T [--execute]
                        gh-ost's revert of a finished migration that ran with --checkpoint
  revenant set KEY=VALUE… --host H --port P --database D --table T
                        (${SETTING_TABLE.map((row) => row.flag).join(', ')})
  revenant migrate --fleet FILE --table T --alter "…" [--max-concurrent N] [--max-per-server N] [--canary N]
                   [--on-failure stop|continue] [--cut-over together] [--execute] [--resurrect]
                        one ALTER on every database of the fleet file, as one workflow
  revenant status|pause|resume|cut-over|set|abort --fleet NAME
                        the same for a whole fleet: passed on to every running target
  revenant list         migrations known to Temporal, with phase and progress
  revenant server status|stop [--force]
                        the embedded Temporal server revenant starts when none is configured
  revenant serve --serve-socket-file F [--serve-tcp-port N] --host H --port P --database D --table T
                        gh-ost's interactive commands for a detached migration (migrate serves them itself)

Temporal: a Temporal CLI profile (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE) or TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*; none, a local dev server is started and
'migrate' runs its own worker. Worker: REVENANT_METRICS_ADDRESS (Prometheus, e.g. 0.0.0.0:9464),
REVENANT_LOG_FORMAT=json|text, REVENANT_LOG_LEVEL. Password: --password, --ask-pass, or REVENANT_MYSQL_PASSWORD.`;

interface Temporal {
  client: Client;
  address: string;
  embedded: boolean;
  uiUrl?: string;
  close: () => Promise<void>;
}

async function connectTemporal(namespace?: string): Promise<Temporal> {
  const configured = configuredTemporal();
  if (configured) {
    const connection = await Connection.connect(
      configured.connectionOptions as Parameters<typeof Connection.connect>[0],
    );
    const client = new Client({ connection, namespace: namespace ?? configured.namespace ?? 'default' });
    const address = String(configured.connectionOptions.address);
    return { client, address, embedded: false, close: () => connection.close() };
  }
  const { address, uiUrl } = await ensureEmbeddedTemporal();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: namespace ?? 'default' });
  return { client, address, embedded: true, uiUrl, close: () => connection.close() };
}

async function askPassword(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // readline has no option to hide what is typed; silencing its private echo is the usual way.
  (rl as unknown as { _writeToOutput: () => void })._writeToOutput = () => {};
  process.stderr.write('Password: ');
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

function version(): string {
  return (require('../../package.json') as { version: string }).version;
}

/** The command line's passwords, for the embedded worker: --master-password for the --assume-master-host server only. */
function embeddedLogins(req: MigrateRequest): LoginOverrides {
  const { input } = req;
  const master =
    req.masterPassword !== undefined && input.assumeMasterHost ? hostAndPort(input.assumeMasterHost) : undefined;
  if (!master) return { user: input.server.user, password: req.password };
  return {
    user: input.server.user,
    password: req.password,
    byServer: { [`${master.host}:${master.port}`]: { password: req.masterPassword } },
  };
}

/** The operator's control commands, as the workflows' signals (the fleet takes the same). */
const CONTROL_SIGNALS = { pause: pauseSignal, resume: resumeSignal, 'cut-over': cutOverSignal } as const;

function print(line: string) {
  process.stdout.write(`${line}\n`);
}

/**
 * Calls `tick` every 2 s until `result` settles (or `stop()` says so): the command following its
 * workflow. A tick that fails (the workflow between tasks, a query unanswered) is skipped.
 */
async function whileRunning(
  result: Promise<unknown>,
  tick: () => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let finished = false;
  result.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  while (!finished && !stop()) {
    try {
      await tick();
    } catch {
      /* asked again at the next tick */
    }
    await Promise.race([result.catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
  }
}

/** `set`'s KEY=VALUE words as the change the workflow validates. */
function settingsChange(assignments: string[]): Record<string, string> {
  return Object.fromEntries(assignments.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
}

/** On the embedded server, the worker runs in this process (it gets the password in memory; the workflow never sees it). */
async function embeddedWorker(
  temporal: Temporal,
  taskQueue: string,
  req: MigrateRequest,
): Promise<(() => Promise<void>) | undefined> {
  if (!temporal.embedded) {
    if (req.password !== undefined || req.masterPassword !== undefined) {
      print(
        'revenant: note: the password stays on this machine; workers resolve MySQL credentials from their own environment or config',
      );
    }
    return undefined;
  }
  // The status line is the output: the SDK's entries go to a file, and what a person should
  // know of them as one line each (client/worker-log.ts); asked for, its entries go to stderr.
  const { DefaultLogger, Runtime } = await workerSdk();
  const level = (process.env.REVENANT_LOG_LEVEL as 'WARN' | undefined) ?? req.logLevel;
  if (level) {
    Runtime.install({ logger: new DefaultLogger(level) });
  } else {
    const file = workerLogFile();
    Runtime.install({ logger: new DefaultLogger('INFO', fileAndNotices(file, print)) });
    print(`revenant: the worker's log: ${file}`);
  }
  const { worker, close } = await (await workerModule()).createWorker({
    address: temporal.address,
    taskQueue,
    credentials: credentialsFromEnvironment(process.env, embeddedLogins(req)),
    // The embedded worker serves this command line alone: its hooks path and throttle URL are the operator's.
    policy: policyFromEnvironment(process.env, true),
  });
  const running = worker.run();
  print(`revenant: embedded Temporal at ${temporal.address}; Web UI ${temporal.uiUrl}`);
  return async () => {
    worker.shutdown();
    await running.catch(() => {});
    await close();
  };
}

/** `migrate --fleet FILE`: one workflow for every target, followed until it ends. */
async function migrateFleet(req: MigrateRequest, fleet: FleetInput): Promise<number> {
  if (req.askPass) req.password = await askPassword();
  const temporal = await connectTemporal(req.namespace);
  const workflowId = fleetWorkflowId(fleet.name);
  const taskQueue =
    req.taskQueue ??
    process.env.REVENANT_TASK_QUEUE ??
    (temporal.embedded ? embeddedTaskQueue(workflowId) : TASK_QUEUE);
  let stopWorker: (() => Promise<void>) | undefined;
  try {
    stopWorker = await embeddedWorker(temporal, taskQueue, req);
    let handle: WorkflowHandle;
    try {
      handle = await temporal.client.workflow.start('migrateFleet', {
        taskQueue,
        workflowId,
        args: [fleet],
        staticSummary: `fleet ${fleet.name}: ${fleet.table}: ${fleet.template.alter}`,
      });
      print(
        `revenant: fleet ${fleet.name} ${fleet.resurrect ? 'resurrected' : 'started'}: workflow ${workflowId}; ${fleet.servers.length} server line(s) in the file`,
      );
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      if (fleet.resurrect) {
        print(
          `revenant: refused: the fleet ${fleet.name} is still running (workflow ${workflowId}); --resurrect is for one that failed or was terminated`,
        );
        return 3;
      }
      handle = temporal.client.workflow.getHandle(workflowId);
      print(`revenant: attached to the running fleet ${workflowId}`);
    }
    if (req.detach) return 0;
    const result = handle.result() as Promise<FleetResult>;
    let last = '';
    let listed = false;
    await whileRunning(result, async () => {
      const s = await handle.query(fleetStatusQuery);
      if (!listed && s.targets.length && !req.quiet) {
        print(`revenant: ${s.targets.length} targets:`);
        for (const line of fleetTable(s)) print(line);
        listed = true;
      }
      // Printed when something other than the elapsed time changed.
      const line = fleetLine(s);
      const changed = line.replace(/elapsed \d+s/, '');
      if (changed !== last && !req.quiet) print(line);
      last = changed;
    });
    try {
      const r = await result;
      if (!req.quiet) for (const line of fleetTable(r.status)) print(line);
      print(fleetLine(r.status));
      return 0;
    } catch (e) {
      const cause =
        e instanceof WorkflowFailedError ? (e.cause as (ApplicationFailure & Error) | undefined) : undefined;
      const s = cause?.details?.[0] as FleetStatus | undefined;
      if (s?.targets) for (const line of fleetTable(s)) print(line);
      print('revenant: fleet failed');
      print(`ERROR ${cause?.message ?? (e as Error).message}`);
      return 1;
    }
  } finally {
    await stopWorker?.();
    await temporal.close();
  }
}

/** status, pause, resume, cut-over, set, abort --fleet NAME: to the fleet, which passes them on to every running target. */
async function fleetControl(
  cmd: string,
  name: string,
  assignments: string[],
  flags: ReturnType<typeof parseFlags>,
): Promise<number> {
  const temporal = await connectTemporal(
    flags.values.namespace === undefined ? undefined : String(flags.values.namespace),
  );
  try {
    const handle = temporal.client.workflow.getHandle(fleetWorkflowId(name));
    switch (cmd) {
      case 'status': {
        let s: FleetStatus;
        try {
          s = await handle.query(fleetStatusQuery);
        } catch (e) {
          const d = await handle.describe().catch(() => undefined);
          if (!d) throw new Error(`no fleet named ${name} (workflow ${fleetWorkflowId(name)})`);
          throw e;
        }
        // Where each running target stands, from its own workflow.
        const live = new Map<string, string>();
        await Promise.all(
          s.targets
            .filter((t) => ['copying', 'holding', 'cutting-over'].includes(t.state))
            .map(async (t) => {
              const m = await temporal.client.workflow
                .getHandle(t.workflowId)
                .query(statusQuery)
                .catch(() => undefined);
              if (m) live.set(t.workflowId, statusLine(m));
            }),
        );
        print(fleetLine(s));
        for (const line of fleetTable(s, live)) print(line);
        break;
      }
      case 'pause':
      case 'resume':
      case 'cut-over':
        await handle.signal(CONTROL_SIGNALS[cmd]);
        print(`revenant: ${cmd} signalled to the fleet ${name}: it passes it on to every running target`);
        break;
      case 'set': {
        if (assignments.length === 0)
          throw new UsageError('set needs KEY=VALUE, e.g. revenant set chunk-size=500 --fleet NAME');
        const change = settingsChange(assignments);
        try {
          const settings = await sendUpdate(() =>
            handle.executeUpdate(fleetSetUpdate, {
              args: [change],
            }),
          );
          print(`revenant: the fleet ${name} and its running targets take: ${JSON.stringify(settings)}`);
        } catch (e) {
          print(`revenant: rejected: ${reasonOf(e)}`);
          return 2;
        }
        break;
      }
      case 'abort':
        print(
          `revenant: ${await sendUpdate(() => handle.executeUpdate(fleetAbortUpdate, { args: [{ cleanup: flags.values.cleanup === true }] }))}`,
        );
        break;
      case 'revert':
        // A cut-over together (--alter-table, or --cut-over together on one server): every table back in one RENAME.
        try {
          print(`revenant: ${await sendUpdate(() => handle.executeUpdate(fleetRevertUpdate))}`);
        } catch (e) {
          print(`revenant: rejected: ${reasonOf(e)}`);
          return 2;
        }
        break;
      default:
        throw new UsageError(`${cmd} is not for a fleet: finalize addresses one table (--database, --table)`);
    }
    return 0;
  } finally {
    await temporal.close();
  }
}

async function migrate(req: MigrateRequest): Promise<number> {
  const { input } = req;
  if (req.askPass) req.password = await askPassword();
  // A socket file or port that cannot be served is refused before anything starts.
  if (!req.detach) await refuseTakenServeTargets(req.serve);
  const temporal = await connectTemporal(req.namespace);
  const workflowId = migrationWorkflowId(input.server, input.database, input.table);
  const taskQueue =
    req.taskQueue ??
    process.env.REVENANT_TASK_QUEUE ??
    (temporal.embedded ? embeddedTaskQueue(workflowId) : TASK_QUEUE);
  let stopWorker: (() => Promise<void>) | undefined;
  let interactive: InteractiveServer | undefined;
  try {
    stopWorker = await embeddedWorker(temporal, taskQueue, req);

    let handle: WorkflowHandle;
    try {
      // Temporal Web's summary of the run: the table and its ALTER.
      const summary = `${input.database}.${input.table}: ${input.revert ? `--revert --old-table ${input.revert.oldTable}` : input.alter}`;
      handle = await temporal.client.workflow.start('migrateTable', {
        taskQueue,
        workflowId,
        args: [input],
        staticSummary: summary,
      });
      print(`revenant: migration ${input.resurrect ? 'resurrected' : 'started'}: workflow ${workflowId}`);
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      handle = temporal.client.workflow.getHandle(workflowId);
      const running = await handle.query(statusQuery);
      if (input.resurrect) {
        print(
          `revenant: refused: the migration of ${input.database}.${input.table} is still running (workflow ${workflowId}); --resurrect is for one that failed or was terminated`,
        );
        return 3;
      }
      // Attaching is for the same command run again: every setting must be the running one's.
      const differing = inputDifferences(await startedInput(handle), input);
      if (running.alter.trim() !== input.alter.trim() || differing.length) {
        print(
          `revenant: refused: a migration of ${input.database}.${input.table} on ${input.server.host}:${input.server.port} is already running ` +
            `(workflow ${workflowId}, ALTER: ${running.alter}${differing.length ? `; this command differs in ${differing.join(', ')}` : ''}); one migration per table at a time`,
        );
        return 3;
      }
      print(`revenant: attached to the running migration ${workflowId}`);
    }
    if (req.detach) return 0;
    interactive = await serveInteractive(handle, req);

    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
    };
    process.once('SIGINT', onSigint);
    const result = handle.result() as Promise<MigrationResult>;
    let last = '';
    await whileRunning(
      result,
      async () => {
        const line = statusLine(await handle.query(statusQuery));
        if (line !== last && !req.quiet) print(line);
        last = line;
      },
      () => interrupted,
    );
    process.removeListener('SIGINT', onSigint);
    if (interrupted) {
      print(
        `revenant: detached; the migration goes on (workflow ${workflowId}). Run the same command again to attach.`,
      );
      return 130;
    }
    try {
      const r = await result;
      print(statusLine(r.status));
      if (r.status.checksum) print(`revenant: checksum: ${checksumSummary(r.status.checksum)}`);
      print(`revenant: ${r.status.message ?? r.status.phase}`);
      return 0;
    } catch (e) {
      const cause = e instanceof WorkflowFailedError ? (e.cause as (Error & { type?: string }) | undefined) : undefined;
      const msg = cause?.message ?? (e as Error).message;
      // gh-ost's log levels, which scripts grep for: FATAL when it refused to start, ERROR when it failed underway.
      print(`revenant: migration failed`);
      print(`${cause?.type === 'MigrationRefused' ? 'FATAL' : 'ERROR'} ${msg}`);
      return 1;
    }
  } finally {
    await interactive?.close();
    await stopWorker?.();
    await temporal.close();
  }
}

/** gh-ost's interactive commands on --serve-socket-file / --serve-tcp-port, if asked for. */
async function serveInteractive(handle: WorkflowHandle, req: MigrateRequest): Promise<InteractiveServer | undefined> {
  if (!req.serve.socketFile && !req.serve.tcpPort) return undefined;
  const { server, database, table } = req.input;
  const inspector = `${server.host}:${server.port}`;
  const interactive = new InteractiveServer(
    handle,
    table,
    {
      inspector,
      applier: req.input.assumeMasterHost ?? inspector,
      ghostTable: ghostTableName(tableNameBase(req.input)),
    },
    req.serve,
  );
  const on = await interactive.listen();
  print(`revenant: interactive commands for ${database}.${table} on ${on.join(' and ')} (echo help | nc -U …)`);
  return interactive;
}

/** revenant serve: the interactive commands for a migration that runs detached, until it ends. */
/** The input the running migration's current run was started with (a renewal carries the first's on). */
async function startedInput(handle: WorkflowHandle): Promise<MigrationInput | undefined> {
  const history = await handle.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<MigrationInput>(payload as Payload) : undefined;
}

/**
 * The fields in which two migration inputs differ: what the migration does and where, not
 * the settings an operator changes while it runs (set), nor a renewal's own bookkeeping.
 */
export function inputDifferences(running: MigrationInput | undefined, mine: MigrationInput): string[] {
  if (!running) return [];
  const own = new Set<string>(['renewal', 'resurrect', 'historyLimit', ...Object.values(SETTING_NAMES)]);
  const keys = new Set([...Object.keys(running), ...Object.keys(mine)].filter((k) => !own.has(k)));
  return [...keys]
    .sort()
    .filter(
      (k) =>
        canonicalJson((running as unknown as Record<string, unknown>)[k]) !==
        canonicalJson((mine as unknown as Record<string, unknown>)[k]),
    );
}

async function serveCommand(argv: string[]): Promise<number> {
  const req = migrateRequest({ values: { alter: '-', ...parseFlags(argv).values }, positional: [] });
  if (!req.serve.socketFile && !req.serve.tcpPort)
    throw new UsageError('serve needs --serve-socket-file FILE and/or --serve-tcp-port N');
  const temporal = await connectTemporal(req.namespace);
  let interactive: InteractiveServer | undefined;
  try {
    const handle = temporal.client.workflow.getHandle(
      migrationWorkflowId(req.input.server, req.input.database, req.input.table),
    );
    await handle.describe();
    interactive = await serveInteractive(handle, req);
    let interrupted: () => void = () => {};
    const stop = new Promise<void>((resolve) => {
      interrupted = resolve;
    });
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    await Promise.race([handle.result().catch(() => {}), stop]);
    print('revenant: the migration ended; no longer serving');
    return 0;
  } finally {
    await interactive?.close();
    await temporal.close();
  }
}

/**
 * An open revert window's applier reports no progress to its workflow (history stays flat for
 * days): its events applied and lag are in its activity's heartbeat details.
 */
async function windowProgress(handle: WorkflowHandle, endsAt: number): Promise<Partial<RevertWindowStatus>> {
  const d = await handle.describe().catch(() => undefined);
  const drain = d?.raw.pendingActivities?.find((a) => a.activityType?.name === 'drainBinlog');
  const payload = drain?.heartbeatDetails?.payloads?.[0];
  // The workflow's clock stops between its events (none while the window is quiet): time left by this one.
  const secondsLeft = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
  if (!payload) return { secondsLeft };
  const beat = defaultPayloadConverter.fromPayload<{ eventsApplied?: number; lagSeconds?: number }>(payload as Payload);
  return { secondsLeft, eventsApplied: beat.eventsApplied ?? 0, lagSeconds: beat.lagSeconds ?? 0 };
}

/** status, pause, resume, cut-over, abort, set: thin wrappers over the workflow's messages. */
async function controlCommand(cmd: string, argv: string[]): Promise<number> {
  const assignments = argv.filter((a) => !a.startsWith('-') && a.includes('='));
  const flags = parseFlags(argv.filter((a) => !assignments.includes(a)));
  if (flags.values.fleet !== undefined) return fleetControl(cmd, String(flags.values.fleet), assignments, flags);
  const req = migrateRequest({ values: { alter: '-', ...flags.values }, positional: [] });
  const temporal = await connectTemporal(req.namespace);
  try {
    const handle = temporal.client.workflow.getHandle(
      migrationWorkflowId(req.input.server, req.input.database, req.input.table),
    );
    switch (cmd) {
      case 'status': {
        let s: MigrationStatus;
        try {
          s = await handle.query(statusQuery);
        } catch (e) {
          // No worker answers: an embedded migration whose CLI has exited waits, visibly.
          const d = await handle.describe().catch(() => undefined);
          if (d?.status.name !== 'RUNNING') throw e;
          const phase = d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase) ?? 'unknown';
          print(
            `State: ${phase} (last reported); no worker serves this migration now (task queue ${d.taskQueue}): ` +
              'it waits, and nothing runs against the server, until a worker with its credentials polls that queue; ' +
              'run the same migrate command again to attach (or abort it)',
          );
          return 4;
        }
        print(statusLine(s));
        print(`Settings: ${settingsLine(s)}`);
        if (s.checksum) print(`Checksum: ${checksumSummary(s.checksum)}`);
        if (s.revert) {
          if (!s.revert.closed) Object.assign(s.revert, await windowProgress(handle, s.revert.endsAt));
          print(
            `Revert window: ${s.table} has the ${s.revert.tableHas} structure; ${s.revert.keptTable} kept up to date ` +
              `(${s.revert.eventsApplied} changes applied, lag ${s.revert.lagSeconds.toFixed(1)}s); ${s.revert.reverts} revert(s); ` +
              (s.revert.closed ? `closed: ${s.revert.closed}` : `${s.revert.secondsLeft}s left`),
          );
        }
        if (s.message) print(`Message: ${s.message}`);
        break;
      }
      case 'pause':
      case 'resume':
      case 'cut-over':
        await handle.signal(CONTROL_SIGNALS[cmd]);
        print(`revenant: ${cmd} signalled to ${handle.workflowId}`);
        break;
      case 'abort':
        print(
          `revenant: ${await sendUpdate(() => handle.executeUpdate(abortUpdate, { args: [{ cleanup: flags.values.cleanup === true }] }))}`,
        );
        break;
      case 'revert':
      case 'finalize':
        try {
          print(
            `revenant: ${await sendUpdate(() => handle.executeUpdate(cmd === 'revert' ? revertUpdate : finalizeUpdate))}`,
          );
        } catch (e) {
          print(`revenant: ${cmd} refused: ${reasonOf(e)}`);
          return 2;
        }
        break;
      case 'set': {
        if (assignments.length === 0) throw new UsageError('set needs KEY=VALUE, e.g. revenant set chunk-size=500 …');
        const change = settingsChange(assignments);
        try {
          const settings = await sendUpdate(() => handle.executeUpdate(setUpdate, { args: [change] }));
          print(`revenant: settings in force: ${settingsLine({ settings } as MigrationStatus)}`);
        } catch (e) {
          print(`revenant: rejected: ${reasonOf(e)}`);
          return 2;
        }
        break;
      }
    }
    return 0;
  } finally {
    await temporal.close();
  }
}

async function listCommand(): Promise<number> {
  const temporal = await connectTemporal();
  try {
    for await (const w of temporal.client.workflow.list({ query: 'WorkflowType = "migrateTable"' })) {
      const sa = w.typedSearchAttributes;
      const phase = sa.get(SEARCH_ATTRIBUTES.phase) ?? '';
      const progress = sa.get(SEARCH_ATTRIBUTES.progress);
      print(
        `${w.workflowId}\t${w.status.name}\t${phase}\t${progress === undefined ? '' : `${progress}%`}\t${w.startTime.toISOString()}`,
      );
    }
    return 0;
  } finally {
    await temporal.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (!first || first === '--help' || first === '-h' || first === 'help') {
      print(HELP);
      return first ? 0 : 2;
    }
    if (first === 'worker') {
      const configured = configuredTemporal();
      const address = configured?.connectionOptions.address ?? (await ensureEmbeddedTemporal()).address;
      await (await workerModule()).runWorker({
        address,
        connectionOptions: configured?.connectionOptions,
        namespace: configured?.namespace,
        taskQueue: process.env.REVENANT_TASK_QUEUE,
      });
      return 0;
    }
    if (['status', 'pause', 'resume', 'cut-over', 'abort', 'set', 'revert', 'finalize'].includes(first))
      return await controlCommand(first, rest);
    if (first === 'list') return await listCommand();
    if (first === 'serve') return await serveCommand(rest);
    if (first === 'server') {
      // The embedded Temporal dev server revenant starts when nothing is configured.
      if (rest[0] === 'status') {
        const s = await embeddedServerStatus();
        print(`revenant: ${s.text}`);
        return s.running ? 0 : 3;
      }
      if (rest[0] === 'stop') {
        print(`revenant: ${await stopEmbeddedTemporal(process.env, rest.includes('--force'))}`);
        return 0;
      }
      throw new UsageError('server takes status or stop [--force]');
    }
    const args = first === 'migrate' ? rest : argv;
    if (args.includes('--version') || args.includes('-version')) {
      print(`revenant ${version()}`);
      return 0;
    }
    if (args.includes('--help') || args.includes('-help')) {
      print(migrateHelp());
      return 0;
    }
    if (args.includes('--check-flag') || args.includes('-check-flag')) {
      // gh-ost's cross-version scripting: 0 when every other flag given is supported.
      const refused = checkFlags(args.filter((a) => a !== '--check-flag' && a !== '-check-flag'));
      for (const r of refused) print(`not supported: ${r}`);
      return refused.length ? 1 : 0;
    }
    const flags = parseFlags(args);
    if (flags.values.fleet !== undefined) {
      // A fleet's databases come from its file: --database has no meaning there.
      if (flags.values.database !== undefined)
        throw new UsageError('--database and --fleet exclude each other: the fleet file names the databases');
      const req = migrateRequest({ ...flags, values: { ...flags.values, database: '*' } });
      return await migrateFleet(req, fleetInput(req, flags.values));
    }
    if (flags.values['alter-table'] !== undefined) {
      // Several tables of one database, each with its ALTER: --table and --alter have no meaning there.
      for (const f of ['table', 'alter'])
        if (flags.values[f] !== undefined)
          throw new UsageError(
            `--${f} and --alter-table exclude each other: --alter-table T="ALTER" names each table and its ALTER`,
          );
      const tables = tableAlters(flags.values);
      // Each ALTER read as the worker will read it, before anything starts.
      const reqs = tables.map((t) =>
        migrateRequest({ ...flags, values: { ...flags.values, table: t.table, alter: t.alter } }),
      );
      return await migrateFleet(reqs[0], tablesInput(reqs[0], flags.values, tables));
    }
    return await migrate(migrateRequest(flags));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`revenant: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`revenant: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
