// Where the binlog is now, as a migration records it: file and offset, cheap enough to poll.
import type { BinlogPosition } from '../model/types';
import { refuse } from '../checks/refuse';
import { rows, type Conn } from '../mysql/query';
import { binlogStatus, flavorOf } from '../mysql/flavor';

/**
 * Binlog positions in the server's order (<0, 0, >0): by the file's number, then the offset. The
 * number, not the name: binlog.999999 is followed by binlog.1000000.
 */
export function compareBinlogPositions(
  a: Pick<BinlogPosition, 'file' | 'position'>,
  b: Pick<BinlogPosition, 'file' | 'position'>,
): number {
  const index = (file: string) => Number(/(\d+)$/.exec(file)?.[1] ?? -1);
  if (a.file !== b.file) return index(a.file) - index(b.file);
  return a.position - b.position;
}

/** The server's binlog file and offset now: cheap, fit for polling. */
export async function currentBinlogPosition(conn: Conn): Promise<BinlogPosition> {
  const s = binlogStatus(flavorOf(conn));
  const [ms] = await rows(conn, s);
  if (!ms) return refuse(`${s.sql} returned nothing: binary logging is off`);
  return { file: String(ms.File), position: Number(ms.Position) };
}
