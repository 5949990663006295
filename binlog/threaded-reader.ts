// The binlog read on a thread of its own (binlog/reader-thread.ts), taken from here as from the
// streamer itself. Decoding and applying then go on at once: on a server with cores to spare
// the reader decodes the next events while the applier's statements run, and on a busy one
// the worker has two threads where the server's many threads share the cores.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ItemQueue } from './item-queue';
import { errorOf, type FromReader, type ReaderThreadData, restoreBuffers, type ToReader } from './reader-messages';
import { type BinlogSource, BinlogStreamer, rebuildJson, type StreamerOptions, type StreamItem } from './streamer';

/**
 * Readers on threads of their own, at most, in one worker: each thread costs a V8 heap (about
 * 10 MB), and a worker that runs a fleet's migrations at once reads the rest on the applier's
 * thread. REVENANT_BINLOG_READER_THREADS sets it (0: every reader on its applier's thread).
 */
const MAX_READER_THREADS = readerThreadsAllowed(process.env.REVENANT_BINLOG_READER_THREADS);
let readerThreads = 0;

function readerThreadsAllowed(setting: string | undefined): number {
  if (setting === undefined || setting === '') return 4;
  const n = Number(setting);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`REVENANT_BINLOG_READER_THREADS: a number of threads (0 or more), not ${JSON.stringify(setting)}`);
  return n;
}

/** Readers on threads of their own now (their threads not yet ended). */
export const readerThreadsInUse = (): number => readerThreads;

/** A reader of the binlog from `opts.from`: on a thread of its own while the worker has one to spare. */
export function openBinlogReader(opts: StreamerOptions): BinlogSource {
  return readerThreads < MAX_READER_THREADS ? new ThreadedReader(opts) : new BinlogStreamer(opts);
}

export class ThreadedReader implements BinlogSource {
  private thread: Worker | undefined;
  private readonly queue = new ItemQueue<StreamItem>();
  /** Items the thread had read and not yet sent, when it last sent. */
  private threadBacklog = 0;
  private stopped = false;

  constructor(private readonly opts: StreamerOptions) {}

  start(serverId: number): Promise<void> {
    const data: ReaderThreadData = {
      server: this.opts.server,
      credentials: this.opts.credentials(this.opts.server),
      from: this.opts.from,
      tables: this.opts.tables,
      approximateJson: this.opts.approximateJson,
      serverId,
    };
    const thread = new Worker(join(__dirname, 'reader-thread.js'), { workerData: data });
    readerThreads++;
    // The reader never keeps the worker's process alive: a worker shutting down exits with it.
    thread.unref();
    this.thread = thread;
    return new Promise<void>((resolve, reject) => {
      const failed = (e: Error) => {
        this.queue.fail(e);
        reject(e);
      };
      thread.on('message', (m: FromReader) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'items') this.received(m.items, m.backlog);
        else failed(errorOf(m.error));
      });
      thread.on('error', failed);
      thread.on('exit', (code) => {
        this.released();
        if (!this.stopped) failed(new Error(`the binlog reader's thread ended (exit code ${code})`));
      });
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

  private tell(m: ToReader): void {
    if (!this.stopped) this.thread?.postMessage(m);
  }

  async take(max: number, waitMs: number): Promise<StreamItem[]> {
    const items = await this.queue.take(max, waitMs);
    if (items.length) this.tell({ type: 'taken', count: items.length });
    return items;
  }

  get backlog(): number {
    return this.queue.length + this.threadBacklog;
  }

  private released(): void {
    if (!this.thread) return;
    this.thread = undefined;
    readerThreads--;
  }

  stop(): void {
    if (this.stopped) return;
    this.tell({ type: 'stop' });
    this.stopped = true;
    const thread = this.thread;
    if (!thread) return;
    // The thread closes its connection and ends; one that does not within a second is ended.
    setTimeout(() => void thread.terminate(), 1000).unref();
  }
}
