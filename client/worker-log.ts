// What the embedded worker says, as a DBA at a terminal wants it: gh-ost's status lines stay the
// output; the SDK's structured entries (task tokens, run ids, stacks) go to a file under the
// revenant home, named once at the start; what a person should know of them (a chunk retried, an
// activity retried, an error) reaches the terminal as one line each. --verbose, --debug or
// REVENANT_LOG_LEVEL put the SDK's own entries back on stderr, as before.
import { appendFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The SDK's log entry, as its logger hands it to a log function. */
export interface WorkerLogEntry {
  level: string;
  message: string;
  timestampNanos: bigint;
  meta?: Record<string, unknown>;
}

/** Where an embedded worker's log goes: one file per command, under REVENANT_HOME (~/.revenant). */
export function workerLogFile(env: NodeJS.ProcessEnv = process.env, now = new Date()): string {
  const dir = join(env.REVENANT_HOME ?? join(homedir(), '.revenant'), 'logs');
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return join(dir, `migrate-${stamp}-${process.pid}.log`);
}

/** Server errors a retry outlives, in the words a DBA uses for them. */
const TRANSIENT: [RegExp, string][] = [
  [/\b1213\b|deadlock/i, 'a deadlock'],
  [/\b1205\b|lock wait timeout/i, 'a lock wait timeout'],
  [/\b1317\b|interrupted/i, 'an interrupted query'],
  [/ECONNRESET|ECONNREFUSED|PROTOCOL_CONNECTION_LOST|lost connection|server has gone away/i, 'a lost connection'],
];

function firstLine(text: unknown): string {
  const s = text instanceof Error ? text.message : String(text ?? '');
  return s.split('\n')[0].slice(0, 300);
}

function cause(error: unknown): string {
  const text = firstLine(error);
  for (const [pattern, words] of TRANSIENT) if (pattern.test(text)) return `${words} (${text})`;
  return text;
}

/**
 * The one line a person at the terminal is shown for an entry, or nothing. Failures that end the
 * migration are not among them: the command prints the workflow's failure itself.
 */
export function noticeOf(entry: WorkerLogEntry): string | undefined {
  const meta = entry.meta ?? {};
  if (entry.message === 'chunk retried') {
    // The first chunk starts at the table's start ('null' in the checkpoint's terms).
    const keys = String(meta.keys).replace(/^null\.\./, 'start..');
    return `chunk ${keys} retried after ${cause(meta.error)}`;
  }
  if (entry.message === 'Activity failed') {
    const error = meta.error as { nonRetryable?: boolean } | undefined;
    if (error?.nonRetryable) return undefined;
    return `${meta.activityType} failed on attempt ${meta.attempt} and is retried: ${cause(error)}`;
  }
  if (entry.message === 'Workflow failed') return undefined;
  if (entry.level === 'WARN' || entry.level === 'ERROR') {
    // Revenant's own warnings (its activities'), and the SDK's errors: the message alone.
    return `${entry.level === 'ERROR' ? 'error: ' : ''}${firstLine(entry.message)}`;
  }
  return undefined;
}

/** The entry as one JSON line of the log file (no task token: it is a credential of sorts, and noise). */
export function logLine(entry: WorkerLogEntry): string {
  const { taskToken: _token, ...meta } = entry.meta ?? {};
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return `${JSON.stringify({ time, level: entry.level, message: entry.message, ...meta }, (_k, v) =>
    v instanceof Error ? { message: v.message, ...(v as object) } : typeof v === 'bigint' ? String(v) : v,
  )}\n`;
}

/** A log function for the SDK's DefaultLogger: every entry to FILE, the notices to PRINT. */
export function fileAndNotices(file: string, print: (line: string) => void): (entry: WorkerLogEntry) => void {
  let writable = true;
  try {
    mkdirSync(join(file, '..'), { recursive: true });
  } catch {
    writable = false;
  }
  return (entry) => {
    if (writable) {
      try {
        appendFileSync(file, logLine(entry));
      } catch {
        writable = false;
      }
    }
    const notice = noticeOf(entry);
    if (notice) print(`revenant: ${notice}`);
  };
}
