// A binlog reader's own thread: zongji reads and decodes the binlog here, and the items go to
// the applier's thread in batches (binlog/threaded-reader.ts). Decoding is most of the
// reader's work (a worker's CPU profile under a heavy load: half of it in zongji's socket
// callbacks), and on the applier's thread it came between the applier's flushes and its
// heartbeats: a backlog read at the start stalled the event loop for most of a second.
// The thread outlives a migration's read: it reads the next one's warm (its code loaded and
// compiled; a new thread's first two seconds under load decoded 2-3,000 events a second).
import { parentPort } from 'node:worker_threads';
import { BinlogStreamer } from './streamer';
import { type FromReader, type ReaderThreadData, shapeOfError, type ToReader } from './reader-messages';

/** The most items sent and not yet taken by the applier: past it the thread stops reading, and the stream pauses. */
const IN_FLIGHT = 5_000;

interface Session {
  id: number;
  inFlight: number;
  stopped: boolean;
  /** Wakes the read loop: items were taken, or the session stops. */
  wake: () => void;
}

let current: Session | undefined;

async function read(port: NonNullable<typeof parentPort>, id: number, data: ReaderThreadData): Promise<void> {
  const post = (m: FromReader) => port.postMessage(m);
  let woken: (() => void) | null = null;
  /** Until the session is woken (see Session.wake). */
  const nextWake = () =>
    new Promise<void>((r) => {
      woken = r;
    });
  const session: Session = {
    id,
    inFlight: 0,
    stopped: false,
    wake: () => {
      const w = woken;
      woken = null;
      w?.();
    },
  };
  current = session;
  const streamer = new BinlogStreamer({
    server: data.server,
    credentials: () => data.credentials,
    from: data.from,
    tables: data.tables,
    used: data.used,
    approximateJson: data.approximateJson,
    silenceLimitMs: data.silenceLimitMs,
    jsonAsBytes: true,
  });
  try {
    await streamer.start(data.serverId);
    post({ type: 'ready', session: id });
    while (!session.stopped) {
      if (session.inFlight >= IN_FLIGHT) {
        await nextWake();
        continue;
      }
      const items = await streamer.take(Math.min(1000, IN_FLIGHT - session.inFlight), 200);
      if (session.stopped) break;
      if (items.length === 0) continue;
      session.inFlight += items.length;
      post({ type: 'items', session: id, items, backlog: streamer.backlog });
    }
  } catch (e) {
    if (!session.stopped) post({ type: 'error', session: id, error: shapeOfError(e) });
  }
  streamer.stop();
  // Closed once the applier's side has said stop: until then it may still take what was sent.
  while (!session.stopped) await nextWake();
  current = undefined;
  post({ type: 'closed', session: id });
}

function serve(port: NonNullable<typeof parentPort>): void {
  port.on('message', (m: ToReader) => {
    if (m.type === 'open') {
      void read(port, m.session, m.data);
      return;
    }
    if (current?.id !== m.session) return;
    if (m.type === 'taken') current.inFlight -= m.count;
    else current.stopped = true;
    current.wake();
  });
  // zongji loaded before the first read: the first migration's reader starts at once.
  void import('@vlasky/zongji');
}

if (parentPort) serve(parentPort);
