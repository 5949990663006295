// The worker process: registers migrateTable and the MySQL engine's activities on the task
// queue. It alone holds MySQL credentials (its environment, a config file, or what the
// embedded CLI hands it in memory); nothing it knows of them enters Temporal.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities } from '../activities';
import { warmBinlogReader } from '../binlog/threaded-reader';
import { keepAlive } from './keep-alive';
import { credentialsFromEnvironment, describeServersAllowed, type CredentialResolver } from '../mysql/credentials';
import type { ProgressSink } from '../runtime/progress';
import { ProgressBatcher } from './progress-batcher';
import { ControlSourceCache } from './control-source';
import { policyFromEnvironment, type WorkerPolicy } from '../runtime/worker-policy';
import { TASK_QUEUE } from '../model/types';
import { installTelemetry, telemetryFromEnvironment } from './telemetry';
import type { TemporalConnectionOptions } from './temporal-connection';
import { progressReportsSignal, statusQuery } from '../model/messages';

export interface WorkerConfig {
  address: string;
  /** TLS, API key, metadata (from envconfig); the address above wins. */
  connectionOptions?: TemporalConnectionOptions;
  namespace?: string;
  taskQueue?: string;
  credentials?: CredentialResolver;
  /** Hooks and throttle URLs this worker allows (default: from its environment). */
  policy?: WorkerPolicy;
  /** Seconds a running chunk gets to finish on shutdown. */
  shutdownGraceSeconds?: number;
}

/** The prebuilt workflow bundle (npm run build), else the sources are bundled at start-up. */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = join(__dirname, '..', 'workflow-bundle.js');
  return existsSync(bundle)
    ? { workflowBundle: { codePath: bundle } }
    : { workflowsPath: require.resolve('../workflows') };
}

export async function createWorker(cfg: WorkerConfig): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const namespace = cfg.namespace ?? 'default';
  const options = { ...cfg.connectionOptions, address: cfg.address };
  const connection = await NativeConnection.connect(options);
  const clientConnection = await Connection.connect(options as Parameters<typeof Connection.connect>[0]);
  const client = new Client({ connection: clientConnection, namespace });
  // To the activity's own run: a report from an activity that outlived its run (the migration
  // failed, and its workflow id was started again) reaches nobody, not the new run.
  const batcher = new ProgressBatcher(async (target, reports, signal) => {
    await client.withAbortSignal(signal, () =>
      client.withDeadline(Date.now() + 10_000, () =>
        client.workflow.getHandle(target.workflowId, target.runId).signal(progressReportsSignal, reports),
      ),
    );
  });
  const progress: ProgressSink = async (target, report, urgent) => batcher.add(target, report, urgent);
  // Each question has a deadline (a workflow that does not answer is asked again later) and
  // ends when the worker closes, rather than retrying on a closed connection.
  const controlSource = new ControlSourceCache((workflowId, signal) =>
    client.withAbortSignal(signal, () =>
      client.withDeadline(Date.now() + 5_000, () => client.workflow.getHandle(workflowId).query(statusQuery)),
    ),
  );
  const control = controlSource.read;
  // A binlog reader's thread, its code loaded before the first migration's applier needs it.
  warmBinlogReader();
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: cfg.taskQueue ?? TASK_QUEUE,
    ...workflowSource(),
    activities: createActivities({
      credentials: cfg.credentials ?? credentialsFromEnvironment(),
      progress,
      control,
      policy: cfg.policy ?? policyFromEnvironment(),
    }),
    shutdownGraceTime: `${cfg.shutdownGraceSeconds ?? 10}s`,
    maxConcurrentActivityTaskExecutions: 50,
    interceptors: { activity: [keepAlive] },
  });
  return {
    worker,
    close: async () => {
      await Promise.all([controlSource.close(), batcher.close()]);
      await connection.close().catch(() => {});
      await clientConnection.close().catch(() => {});
    },
  };
}

/** `revenant worker`: runs until SIGINT/SIGTERM, which let a running chunk finish (shutdownGraceTime). */
export async function runWorker(cfg: WorkerConfig): Promise<void> {
  const telemetry = telemetryFromEnvironment();
  installTelemetry(telemetry);
  const { worker, close } = await createWorker(cfg);
  Runtime.instance().logger.info('revenant worker started', {
    taskQueue: cfg.taskQueue ?? TASK_QUEUE,
    address: cfg.address,
    namespace: cfg.namespace ?? 'default',
    metrics: telemetry.metricsAddress ?? 'off',
    // Where this worker's MySQL logins may go: the operator reads it here, once.
    mysqlServers: cfg.credentials ? 'as its embedding process says' : describeServersAllowed(),
  });
  // REVENANT_MEMORY_LOG_SECONDS: the process's memory, logged at that interval (the soak reads
  // it to tell a growing JavaScript heap from native memory).
  const every = Number(process.env.REVENANT_MEMORY_LOG_SECONDS ?? 0);
  const memory =
    every > 0
      ? setInterval(() => Runtime.instance().logger.info('memory', { ...process.memoryUsage() }), every * 1000)
      : undefined;
  try {
    await worker.run();
  } finally {
    clearInterval(memory);
    await close();
  }
}
