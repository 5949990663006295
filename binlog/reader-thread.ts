// The binlog reader's own thread: zongji reads and decodes the binlog here, and the items go
// to the applier's thread in batches (binlog/threaded-reader.ts). Decoding is most of the
// reader's work (a worker's CPU profile under a heavy load: half of it in zongji's socket
// callbacks), and on the applier's thread it came between the applier's flushes and its
// heartbeats: a backlog read at the start stalled the event loop for most of a second.
import { parentPort, workerData } from 'node:worker_threads';
import { BinlogStreamer } from './streamer';
import { type ReaderThreadData, shapeOfError, type FromReader, type ToReader } from './reader-messages';

/** The most items sent and not yet taken by the applier: past it the thread stops reading, and the stream pauses. */
const IN_FLIGHT = 5_000;

async function run(port: NonNullable<typeof parentPort>, data: ReaderThreadData): Promise<void> {
  const post = (m: FromReader) => port.postMessage(m);
  const streamer = new BinlogStreamer({
    server: data.server,
    credentials: () => data.credentials,
    from: data.from,
    tables: data.tables,
    approximateJson: data.approximateJson,
    jsonAsBytes: true,
  });
  let inFlight = 0;
  let stopped = false;
  let credit: (() => void) | null = null;
  const wake = () => {
    const c = credit;
    credit = null;
    c?.();
  };
  port.on('message', (m: ToReader) => {
    if (m.type === 'taken') {
      inFlight -= m.count;
    } else {
      stopped = true;
      streamer.stop();
      port.close();
    }
    wake();
  });
  try {
    await streamer.start(data.serverId);
    post({ type: 'ready' });
    while (!stopped) {
      if (inFlight >= IN_FLIGHT) {
        await new Promise<void>((r) => {
          credit = r;
        });
        continue;
      }
      const items = await streamer.take(Math.min(1000, IN_FLIGHT - inFlight), 200);
      if (stopped) break;
      if (items.length === 0) continue;
      inFlight += items.length;
      post({ type: 'items', items, backlog: streamer.backlog });
    }
  } catch (e) {
    if (!stopped) post({ type: 'error', error: shapeOfError(e) });
    streamer.stop();
  }
}

if (parentPort) void run(parentPort, workerData as ReaderThreadData);
