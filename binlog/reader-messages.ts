// What the binlog reader's thread and the applier's thread say to each other. A message is
// copied between them by the structured clone algorithm, which keeps plain data only: a
// Buffer arrives as a bare Uint8Array, an Error as an Error without mysql2's fields (its
// errno and code decide whether the activity retries). Both are put back here.
import type { BinlogPosition, ServerRef } from '../model/types';
import type { Credentials } from '../mysql/credentials';
import type { Row } from './row-events';
import type { StreamItem, UsedColumns } from './streamer';

export interface ReaderThreadData {
  server: ServerRef;
  /** The server's login, resolved by the worker's config for this server only. */
  credentials: Credentials;
  from: BinlogPosition;
  tables: Record<string, string[]>;
  used?: UsedColumns;
  approximateJson?: boolean;
  silenceLimitMs?: number;
  serverId: number;
}

/** Every message names its session: one migration's read, on a thread that reads one at a time and outlives them. */
export type FromReader =
  | { type: 'ready'; session: number }
  | { type: 'items'; session: number; items: StreamItem[]; backlog: number }
  | { type: 'error'; session: number; error: ErrorShape }
  /** The session's connection is closed: the thread may read for another. */
  | { type: 'closed'; session: number };

export type ToReader =
  | { type: 'open'; session: number; data: ReaderThreadData }
  | { type: 'taken'; session: number; count: number }
  | { type: 'stop'; session: number };

/** An error's message and the fields mysql2 and Node give it. */
export interface ErrorShape {
  message: string;
  name?: string;
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
}

const ERROR_FIELDS = ['code', 'errno', 'sqlState', 'sqlMessage', 'fatal'] as const;

export function shapeOfError(e: unknown): ErrorShape {
  if (!(e instanceof Error)) return { message: String(e) };
  const shape: ErrorShape = { message: e.message, name: e.name };
  const fields = e as unknown as Record<string, unknown>;
  for (const f of ERROR_FIELDS) if (fields[f] !== undefined) Object.assign(shape, { [f]: fields[f] });
  return shape;
}

/** The error again, with mysql2's fields where it had them. */
export function errorOf(shape: ErrorShape): Error {
  const e = new Error(shape.message);
  if (shape.name) e.name = shape.name;
  for (const f of ERROR_FIELDS) if (shape[f] !== undefined) Object.assign(e, { [f]: shape[f] });
  return e;
}

function restoreRow(row: Row): void {
  for (const k in row) {
    const v = row[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
}

/** The Buffers of a rows item's images, which arrived as Uint8Arrays. */
export function restoreBuffers(item: StreamItem): void {
  if (item.type !== 'rows') return;
  const { change } = item;
  if (change.kind === 'update') {
    for (const u of change.rows) {
      restoreRow(u.before);
      restoreRow(u.after);
    }
  } else for (const r of change.rows) restoreRow(r);
}
