// The binlog read on a thread of its own (binlog/reader-thread.ts), taken from here as from the
// streamer itself. Decoding and applying then go on at once: on a server with cores to spare
// the reader decodes the next events while the applier's statements run, and on a busy one
// the worker has two threads where the server's many threads share the cores. The threads
// stay between reads, idle, so that a migration's reader starts warm.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ItemQueue } from './item-queue';
import { errorOf, type FromReader, type ReaderThreadData, restoreBuffers, type ToReader } from './reader-messages';
import { type BinlogSource, BinlogStreamer, rebuildJson, type StreamerOptions, type StreamItem } from './streamer';

/**
 * Reader threads, at most, in one worker: each costs a V8 heap (about 10 MB loaded), and a
 * worker that runs a fleet's migrations at once reads the rest on the applier's thread.
 * REVENANT_BINLOG_READER_THREADS sets it (0: every reader on its applier's thread).
 */
const MAX_READER_THREADS = readerThreadsAllowed(process.env.REVENANT_BINLOG_READER_THREADS);
/** How long a stopped read may take to close its connection before its thread is ended instead. */
const CLOSE_WAIT_MS = 2_000;

function readerThreadsAllowed(setting: string | undefined): number {
  if (setting === undefined || setting === '') return 4;
  const n = Number(setting);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`REVENANT_BINLOG_READER_THREADS: a number of threads (0 or more), not ${JSON.stringify(setting)}`);
  return n;
}

/** The worker's reader threads: each reads one migration's binlog at a time, and waits idle between. */
const threads = new Set<Worker>();
const idle: Worker[] = [];
let sessions = 0;

function spawnThread(): Worker {
  const thread = new Worker(join(__dirname, 'reader-thread.js'));
  // A reader thread never keeps the worker's process alive: a worker shutting down exits with it.
  thread.unref();
  threads.add(thread);
  thread.on('exit', () => {
    threads.delete(thread);
    const i = idle.indexOf(thread);
    if (i >= 0) idle.splice(i, 1);
  });
  // An idle thread's failure ends it (its 'exit' follows); a reading one's is its reader's.
  thread.on('error', () => {});
  return thread;
}

/** One reader thread started ahead (the worker's start), its code loaded before the first migration needs it. */
export function warmBinlogReader(): void {
  if (MAX_READER_THREADS > 0 && threads.size === 0) idle.push(spawnThread());
}

/** The worker's reader threads now: all of them, and those idle. */
export const readerThreads = (): { live: number; idle: number } => ({ live: threads.size, idle: idle.length });

/** A reader of the binlog from `opts.from`: on a thread of its own while the worker has one to spare. */
export function openBinlogReader(opts: StreamerOptions): BinlogSource {
  return idle.length > 0 || threads.size < MAX_READER_THREADS ? new ThreadedReader(opts) : new BinlogStreamer(opts);
}

export class ThreadedReader implements BinlogSource {
  private thread: Worker | undefined;
  private readonly session = ++sessions;
  private readonly queue = new ItemQueue<StreamItem>();
  /** Items the thread had read and not yet sent, when it last sent. */
  private threadBacklog = 0;
  private stopped = false;
  /** The thread said this read's connection is closed (and took the thread back for others). */
  private wasClosed = false;
  private detach: () => void = () => {};

  constructor(private readonly opts: StreamerOptions) {}

  start(serverId: number): Promise<void> {
    const data: ReaderThreadData = {
      server: this.opts.server,
      credentials: this.opts.credentials(this.opts.server),
      from: this.opts.from,
      tables: this.opts.tables,
      used: this.opts.used,
      approximateJson: this.opts.approximateJson,
      silenceLimitMs: this.opts.silenceLimitMs,
      serverId,
    };
    const thread = idle.pop() ?? spawnThread();
    this.thread = thread;
    return new Promise<void>((resolve, reject) => {
      const failed = (e: Error) => {
        this.queue.fail(e);
        reject(e);
      };
      const onMessage = (m: FromReader) => {
        if (m.session !== this.session) return;
        if (m.type === 'ready') resolve();
        else if (m.type === 'items') this.received(m.items, m.backlog);
        else if (m.type === 'error') failed(errorOf(m.error));
        else this.closed(thread);
      };
      const onExit = (code: number) => {
        this.detach();
        if (!this.stopped) failed(new Error(`the binlog reader's thread ended (exit code ${code})`));
      };
      thread.on('message', onMessage);
      thread.on('error', failed);
      thread.on('exit', onExit);
      this.detach = () => {
        thread.off('message', onMessage);
        thread.off('error', failed);
        thread.off('exit', onExit);
      };
      thread.postMessage({ type: 'open', session: this.session, data } satisfies ToReader);
    });
  }

  private received(items: StreamItem[], backlog: number): void {
    this.threadBacklog = backlog;
    try {
      for (const item of items) {
        restoreBuffers(item);
        if (item.type === 'rows' && item.jsonColumns) {
          rebuildJson(item.change.rows, item.jsonColumns, this.opts.approximateJson ?? false);
          delete item.jsonColumns;
        }
        this.queue.push(item);
      }
    } catch (e) {
      this.queue.fail(e as Error);
    }
  }

  /** The session's connection is closed: the thread goes back to wait for the next read. */
  private closed(thread: Worker): void {
    this.wasClosed = true;
    this.detach();
    if (threads.has(thread)) idle.push(thread);
  }

  private tell(m: ToReader): void {
    if (!this.stopped) this.thread?.postMessage(m);
  }

  async take(max: number, waitMs: number): Promise<StreamItem[]> {
    const items = await this.queue.take(max, waitMs);
    if (items.length) this.tell({ type: 'taken', session: this.session, count: items.length });
    return items;
  }

  get backlog(): number {
    return this.queue.length + this.threadBacklog;
  }

  stop(): void {
    if (this.stopped) return;
    this.tell({ type: 'stop', session: this.session });
    this.stopped = true;
    const thread = this.thread;
    if (!thread) return;
    // A read that has not closed its connection by then is ended with its thread.
    setTimeout(() => {
      if (!this.wasClosed) void thread.terminate();
    }, CLOSE_WAIT_MS).unref();
  }
}
