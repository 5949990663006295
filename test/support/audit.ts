// An audit independent of the activities' own bookkeeping: reads, from the binlog, every
// committed version of the changelog's checkpoints, in commit order, and checks that they
// chain: the copied chunks tile the key range (none skipped, none copied twice), and each
// applied batch starts at the position the previous one reached (no event applied twice,
// none skipped).
import type { BinlogPosition } from '../../model/types';
import { compareBinlogPositions } from '../../binlog/position';
import { HINT, isLaneHint } from '../../control/changelog';

/** The changelog rows a checkpoint is written in: a copy chunk's, an applied batch's, an apply lane's. */
const isCheckpointHint = (hint: string) => hint === HINT.copy || hint === HINT.binlog || isLaneHint(hint);

export interface AuditResult {
  chunks: number;
  batches: number;
  /** Chunk commits whose range does not start where the previous chunk ended. */
  chunkBreaks: string[];
  /** Batch commits that do not start at the position the previous batch reached. */
  batchBreaks: string[];
  /** Commits of the apply lanes' shares (activities/apply.ts): each lane's own checkpoint. */
  laneCommits: number;
  /** Lane commits that do not move past the lane's last one: a share applied twice. */
  laneBreaks: string[];
  /**
   * Applied batches that ended short of a lane already committed past where they started (an
   * attempt died between its lanes' commits and its checkpoint): the retry left the ghost's
   * keys at two points of the binlog, where a REPLACE can delete a row nothing puts back.
   */
  laneOverruns: string[];
}

export async function auditCheckpoints(
  port: number,
  database: string,
  table: string,
  from: BinlogPosition,
  to: BinlogPosition,
): Promise<AuditResult> {
  const changelog = `_${table}_ghc`;
  const values: { hint: string; value: string }[] = [];
  await readBinlog(port, from, to, { [database]: [changelog] }, (e) => {
    const name = e.getEventName();
    if (name !== 'writerows' && name !== 'updaterows') return;
    for (const r of e.rows) {
      const row = name === 'updaterows' ? r.after : r;
      if (isCheckpointHint(String(row.hint))) values.push({ hint: row.hint, value: String(row.value) });
    }
  });

  const result: AuditResult = {
    chunks: 0,
    batches: 0,
    chunkBreaks: [],
    batchBreaks: [],
    laneCommits: 0,
    laneBreaks: [],
    laneOverruns: [],
  };
  const lanes = new Map<string, { file: string; position: number }>();
  // Copy: every committed version names the range it committed. Commits come one at a time
  // (chunksCopied counts up by one); the ranges, chained by their bounds from the first key,
  // must reach the table's max using each range exactly once: none skipped, none twice.
  let chunksCopied: number | undefined;
  let max: unknown = null;
  const byStart = new Map<string, { to: string; uses: number }>();
  let lastBatch: { file: string; position: number } | undefined;
  for (const { hint, value } of values) {
    const v = JSON.parse(value);
    if (isLaneHint(hint)) {
      result.laneCommits++;
      const last = lanes.get(hint);
      if (last && compareBinlogPositions(v, last) <= 0)
        result.laneBreaks.push(`${hint} committed up to ${v.file}:${v.position} after ${last.file}:${last.position}`);
      lanes.set(hint, { file: v.file, position: v.position });
      continue;
    }
    if (hint === HINT.copy) {
      if (v.max !== null && v.max !== undefined) max = v.max;
      if (!v.chunk) {
        chunksCopied = v.chunksCopied;
        continue;
      }
      result.chunks++;
      if (chunksCopied !== undefined && v.chunksCopied !== chunksCopied + 1)
        result.chunkBreaks.push(`chunk ${v.chunksCopied} committed after chunk ${chunksCopied}`);
      chunksCopied = v.chunksCopied;
      const start = JSON.stringify(v.chunk.after);
      if (byStart.has(start)) result.chunkBreaks.push(`range after ${start} committed twice`);
      else byStart.set(start, { to: JSON.stringify(v.chunk.to), uses: 0 });
    } else {
      if (!v.from) {
        lastBatch = { file: v.file, position: v.position };
        continue;
      }
      result.batches++;
      for (const [lane, at] of lanes)
        if (compareBinlogPositions(at, v.from) > 0 && compareBinlogPositions(v, at) < 0)
          result.laneOverruns.push(
            `batch from ${v.from.file}:${v.from.position} to ${v.file}:${v.position} short of ${lane} at ${at.file}:${at.position}`,
          );
      if (lastBatch && (v.from.file !== lastBatch.file || v.from.position !== lastBatch.position)) {
        result.batchBreaks.push(
          `batch from ${v.from.file}:${v.from.position} after one ending at ${lastBatch.file}:${lastBatch.position}`,
        );
      }
      lastBatch = { file: v.file, position: v.position };
    }
  }
  if (byStart.size > 0) {
    let at = JSON.stringify(null);
    for (let r = byStart.get(at); r && r.uses === 0; r = byStart.get(at)) {
      r.uses++;
      at = r.to;
    }
    if (at !== JSON.stringify(max))
      result.chunkBreaks.push(
        `the committed ranges chain from the first key to ${at}, not to the max ${JSON.stringify(max)}`,
      );
    for (const [start, r] of byStart)
      if (r.uses !== 1) result.chunkBreaks.push(`range after ${start} is not on the chain from the first key`);
  }
  return result;
}

type BinlogEvent = any;

/**
 * Reads the binlog from `from` until an event at or past `to`, handing each event of the
 * given tables (and each commit) to `onEvent` with zongji's position after it.
 */
async function readBinlog(
  port: number,
  from: BinlogPosition,
  to: BinlogPosition,
  tables: Record<string, string[]>,
  onEvent: (e: BinlogEvent, at: { file: string; position: number }) => void,
): Promise<void> {
  const { default: ZongJi } = await import('@vlasky/zongji');
  const zongji: any = new ZongJi({ host: '127.0.0.1', port, user: 'revenant', password: 'revenant' } as any);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      zongji.stop();
      reject(new Error('audit: binlog end not reached in 60 s'));
    }, 60_000);
    zongji.on('error', (e: Error) => {
      clearTimeout(timer);
      zongji.stop();
      reject(e);
    });
    zongji.on('binlog', (e: BinlogEvent) => {
      const at = { file: zongji.options.filename, position: zongji.options.position };
      onEvent(e, at);
      if (compareBinlogPositions(at, to) >= 0) {
        clearTimeout(timer);
        zongji.stop();
        resolve();
      }
    });
    zongji.start({
      serverId: 4_000_000 + Math.floor(Math.random() * 1000),
      filename: from.file,
      position: from.position,
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query'],
      includeSchema: tables,
    });
  });
}

/**
 * For a failed comparison: every committed binlog event that touched the given keys, in the
 * table and in its ghost, a line each with its commit position. A ghost change names the
 * checkpoint its transaction committed (the copy chunk or applied batch that carried it); a
 * change to the table names the applied batch whose range holds its commit, or says none did.
 */
export async function traceKeys(
  port: number,
  database: string,
  table: string,
  keyColumn: string,
  keys: string[],
  from: BinlogPosition,
  to: BinlogPosition,
): Promise<string[]> {
  const wanted = new Set(keys.map(String));
  const ghost = `_${table}_gho`;
  const changelog = `_${table}_ghc`;
  const changes: { text: string; ghost: boolean; at?: BinlogPosition; checkpoints: string[] }[] = [];
  const batches: { from: BinlogPosition; to: BinlogPosition }[] = [];
  let open: typeof changes = [];
  let checkpoints: string[] = [];
  await readBinlog(port, from, to, { [database]: [table, ghost, changelog] }, (e, at) => {
    const name = e.getEventName();
    if (name === 'xid' || (name === 'query' && /^\s*COMMIT/i.test(e.query ?? ''))) {
      for (const c of open) changes.push({ ...c, at: { ...at }, checkpoints });
      open = [];
      checkpoints = [];
      return;
    }
    if (name !== 'writerows' && name !== 'updaterows' && name !== 'deleterows') return;
    const tm = e.tableMap[e.tableId];
    for (const r of e.rows) {
      if (tm.tableName === changelog) {
        const row = name === 'updaterows' ? r.after : r;
        const hint = String(row.hint);
        if (isCheckpointHint(hint)) {
          checkpoints.push(`${hint} ${String(row.value).slice(0, 200)}`);
          const v = JSON.parse(String(row.value));
          if (hint === HINT.binlog && v.from) batches.push({ from: v.from, to: v });
        }
        continue;
      }
      const images = name === 'updaterows' ? [r.before, r.after] : [r];
      if (!images.some((i) => wanted.has(String(i[keyColumn])))) continue;
      const text = `${tm.tableName} ${name} ${images.map((i) => JSON.stringify(i)).join(' -> ')}`;
      open.push({ text, ghost: tm.tableName === ghost, checkpoints: [] });
    }
  });
  return changes.map((c) => {
    const where = `${c.text} committed at ${c.at?.file}:${c.at?.position}`;
    if (c.ghost) return `${where} with ${c.checkpoints.join('; ') || 'no checkpoint'}`;
    const at = c.at as BinlogPosition;
    const batch = batches.find((b) => compareBinlogPositions(b.from, at) < 0 && compareBinlogPositions(at, b.to) <= 0);
    return `${where}; ${batch ? `applied in the batch ${batch.from.file}:${batch.from.position}..${batch.to.file}:${batch.to.position}` : 'in no applied batch'}`;
  });
}
