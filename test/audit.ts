// An audit independent of the activities' own bookkeeping: reads, from the binlog, every
// committed version of the changelog's checkpoints, in commit order, and checks that they
// chain: each copied chunk starts where the previous one ended (none skipped, none copied
// twice), each applied batch starts at the position the previous one reached (no event
// applied twice, none skipped).
import type { BinlogPosition } from '../workflows/types';

export interface AuditResult {
  chunks: number;
  batches: number;
  /** Chunk commits whose range does not start where the previous chunk ended. */
  chunkBreaks: string[];
  /** Batch commits that do not start at the position the previous batch reached. */
  batchBreaks: string[];
}

export async function auditCheckpoints(port: number, database: string, table: string, from: BinlogPosition, to: BinlogPosition): Promise<AuditResult> {
  const { default: ZongJi } = await import('@vlasky/zongji');
  const changelog = `_${table}_ghc`;
  const values: { hint: string; value: string }[] = [];
  const zongji: any = new ZongJi({ host: '127.0.0.1', port, user: 'revenant', password: 'revenant' } as any);
  await new Promise<void>((resolve, reject) => {
    const done = () => { zongji.stop(); resolve(); };
    const timer = setTimeout(() => { zongji.stop(); reject(new Error('audit: binlog end not reached in 60 s')); }, 60_000);
    zongji.on('error', (e: Error) => { clearTimeout(timer); zongji.stop(); reject(e); });
    zongji.on('binlog', (e: any) => {
      const name = e.getEventName();
      if (name === 'writerows' || name === 'updaterows') {
        for (const r of e.rows) {
          const row = name === 'updaterows' ? r.after : r;
          if (row.hint === 'copy-checkpoint' || row.hint === 'binlog-checkpoint') values.push({ hint: row.hint, value: String(row.value) });
        }
      }
      const f = zongji.options.filename;
      const p = zongji.options.position;
      if (f > to.file || (f === to.file && p >= to.position)) { clearTimeout(timer); done(); }
    });
    zongji.start({ serverId: 4_000_000 + Math.floor(Math.random() * 1000), filename: from.file, position: from.position,
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'xid', 'query'], includeSchema: { [database]: [changelog] } });
  });

  const result: AuditResult = { chunks: 0, batches: 0, chunkBreaks: [], batchBreaks: [] };
  let lastChunk: { chunksCopied: number; lastKey: unknown } | undefined;
  let lastBatch: { file: string; position: number } | undefined;
  for (const { hint, value } of values) {
    const v = JSON.parse(value);
    if (hint === 'copy-checkpoint') {
      if (v.chunksCopied === 0) { lastChunk = { chunksCopied: 0, lastKey: null }; continue; }
      result.chunks++;
      const prev = lastChunk ?? { chunksCopied: 0, lastKey: null };
      if (v.chunksCopied !== prev.chunksCopied + 1 || JSON.stringify(v.from ?? null) !== JSON.stringify(prev.lastKey)) {
        result.chunkBreaks.push(`chunk ${v.chunksCopied} from ${JSON.stringify(v.from)} after chunk ${prev.chunksCopied} ending at ${JSON.stringify(prev.lastKey)}`);
      }
      lastChunk = { chunksCopied: v.chunksCopied, lastKey: v.lastKey };
    } else {
      if (!v.from) { lastBatch = { file: v.file, position: v.position }; continue; }
      result.batches++;
      if (lastBatch && (v.from.file !== lastBatch.file || v.from.position !== lastBatch.position)) {
        result.batchBreaks.push(`batch from ${v.from.file}:${v.from.position} after one ending at ${lastBatch.file}:${lastBatch.position}`);
      }
      lastBatch = { file: v.file, position: v.position };
    }
  }
  return result;
}
