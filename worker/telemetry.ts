// The worker process's telemetry, installed once before anything talks to Temporal:
// a Prometheus endpoint (REVENANT_METRICS_ADDRESS, e.g. 0.0.0.0:9464) that serves the SDK's
// metrics and revenant's own (runtime/metrics.ts), and logs as one JSON object a line
// (REVENANT_LOG_FORMAT=json, the worker's default when not on a terminal) for log pipelines.
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

export interface TelemetryOptions {
  metricsAddress?: string;
  logLevel?: LogLevel;
  json?: boolean;
}

export function telemetryFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  defaults: TelemetryOptions = {},
): TelemetryOptions {
  return {
    metricsAddress: env.REVENANT_METRICS_ADDRESS || defaults.metricsAddress,
    logLevel: (env.REVENANT_LOG_LEVEL as LogLevel | undefined) ?? defaults.logLevel ?? 'INFO',
    json: env.REVENANT_LOG_FORMAT ? env.REVENANT_LOG_FORMAT === 'json' : (defaults.json ?? !process.stderr.isTTY),
  };
}

/** One JSON object per line: time, level, message, and the SDK's structured fields (workflow, activity, attempt…). */
function jsonLine(entry: {
  level: string;
  message: string;
  meta?: Record<string, unknown>;
  timestampNanos: bigint;
}): void {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const line = JSON.stringify({ time, level: entry.level, msg: entry.message, ...entry.meta }, (_k, v) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
  process.stderr.write(`${line}\n`);
}

export function installTelemetry(opts: TelemetryOptions): void {
  Runtime.install({
    logger: new DefaultLogger(opts.logLevel ?? 'INFO', opts.json ? jsonLine : undefined),
    ...(opts.metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.metricsAddress } } } }
      : {}),
  });
}
