// The worker process: registers migrateTable and the MySQL engine's activities on the task
// queue. It alone holds MySQL credentials (its environment, a config file, or what the
// embedded CLI hands it in memory); nothing it knows of them enters Temporal.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities } from '../activities';
import { credentialsFromEnvironment, type CredentialResolver } from '../activities/credentials';
import type { ProgressSink } from '../activities/progress';
import { TASK_QUEUE } from '../workflows/types';

export interface WorkerConfig {
  address: string;
  namespace?: string;
  taskQueue?: string;
  credentials?: CredentialResolver;
  /** Seconds a running chunk gets to finish on shutdown. */
  shutdownGraceSeconds?: number;
}

/** The prebuilt workflow bundle (npm run build), else the sources are bundled at start-up. */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = join(__dirname, '..', 'workflow-bundle.js');
  return existsSync(bundle) ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../workflows') };
}

export async function createWorker(cfg: WorkerConfig): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const namespace = cfg.namespace ?? 'default';
  const connection = await NativeConnection.connect({ address: cfg.address });
  const clientConnection = await Connection.connect({ address: cfg.address });
  const client = new Client({ connection: clientConnection, namespace });
  const progress: ProgressSink = async (workflowId, report) => {
    await client.workflow.getHandle(workflowId).signal('progress', report);
  };
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: cfg.taskQueue ?? TASK_QUEUE,
    ...workflowSource(),
    activities: createActivities({ credentials: cfg.credentials ?? credentialsFromEnvironment(), progress }),
    shutdownGraceTime: `${cfg.shutdownGraceSeconds ?? 10}s`,
    maxConcurrentActivityTaskExecutions: 50,
  });
  return {
    worker,
    close: async () => {
      await connection.close().catch(() => {});
      await clientConnection.close().catch(() => {});
    },
  };
}

/** `revenant worker`: runs until SIGINT/SIGTERM. */
export async function runWorker(cfg: WorkerConfig): Promise<void> {
  const { worker, close } = await createWorker(cfg);
  console.error(`revenant worker: task queue ${cfg.taskQueue ?? TASK_QUEUE} on ${cfg.address} (namespace ${cfg.namespace ?? 'default'})`);
  try {
    await worker.run();
  } finally {
    await close();
  }
}
