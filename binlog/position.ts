// Where the binlog is now, as a migration records it: file and offset, cheap enough to poll.
import type { BinlogPosition } from '../model/types';
import { refuse } from '../checks/refuse';
import { rows, type Conn } from '../mysql/query';
import { binlogStatus, flavorOf } from '../mysql/flavor';

/** The server's binlog file and offset now: cheap, fit for polling. */
export async function currentBinlogPosition(conn: Conn): Promise<BinlogPosition> {
  const s = binlogStatus(flavorOf(conn));
  const [ms] = await rows(conn, s);
  if (!ms) return refuse(`${s.sql} returned nothing: binary logging is off`);
  return { file: String(ms.File), position: Number(ms.Position) };
}
