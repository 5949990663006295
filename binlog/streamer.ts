// The streamer: reads the server's binlog with @vlasky/zongji from a given position and
// turns it into a queue of row changes, transaction commits (with the resume position
// right after them) and DDL statements. It knows nothing about ghosts or checkpoints.
import { ApplicationFailure } from '@temporalio/common';
import type { BinlogPosition, ServerRef } from '../model/types';
import type { CredentialResolver } from '../mysql/credentials';
import { connectionOptions } from '../mysql/connection';
import { decodeBinaryJson, jsonValueSql, UnrepresentableJson } from './mysql-json';
import { fastLatin1 } from './latin1';
import { ItemQueue } from './item-queue';
import type { Row, RowChange } from './row-events';
import type { GtidSet as GtidSetModel, MariadbGtidPosition as MariadbGtidPositionModel } from '@vlasky/zongji' with {
  'resolution-mode': 'import',
};

export type StreamItem =
  | {
      type: 'rows';
      database: string;
      table: string;
      change: RowChange;
      timestamp: number;
      /** Binary JSON columns still as the server's bytes (StreamerOptions.jsonAsBytes): rebuildJson's to decode. */
      jsonColumns?: string[];
    }
  | { type: 'commit'; position: BinlogPosition; timestamp: number }
  | { type: 'ddl'; database: string; query: string; position: BinlogPosition; timestamp: number };

/**
 * The columns the applier reads of one table's row images (binlog/row-events.ts changeToDml):
 * the key of an update's before image and of a deleted row, the columns both tables share of
 * an inserted row and of an update's after image. A reader given them keeps only those: an
 * item crosses from the reader's thread to the applier's by the structured clone and waits in
 * the applier's queue, and with FULL images most of an update's before image and of a deleted
 * row is never read (a TEXT or BLOB of it too). On sysbench's narrow rows it changed the
 * worker's CPU by nothing measurable (docs/benchmark.md). A column an image lacks stays
 * missing, so the applier still refuses an image that is not FULL.
 */
export interface UsedColumns {
  database: string;
  table: string;
  key: string[];
  values: string[];
}

/** Of `row`, the columns named, those it has. */
function only(row: Row, names: string[]): Row {
  const kept: Row = {};
  for (const n of names) if (n in row) kept[n] = row[n];
  return kept;
}

/** The rows of an event on the table of `used`, with only the columns the applier reads. */
export function trimImages(kind: RowChange['kind'], rows: unknown[], used: UsedColumns): unknown[] {
  if (kind === 'insert') return (rows as Row[]).map((r) => only(r, used.values));
  if (kind === 'delete') return (rows as Row[]).map((r) => only(r, used.key));
  return (rows as { before: Row; after: Row }[]).map((u) => ({
    before: only(u.before, used.key),
    after: only(u.after, used.values),
  }));
}

export interface StreamerOptions {
  server: ServerRef;
  credentials: CredentialResolver;
  from: BinlogPosition;
  /** database -> tables whose row events are wanted */
  tables: Record<string, string[]>;
  /** The applier's table and the columns it reads: the other columns are dropped from its images here. */
  used?: UsedColumns;
  /** --allow-data-loss: JSON values no SQL can rebuild are written as their text, not refused. */
  approximateJson?: boolean;
  /** Pause reading when this many items wait unprocessed. */
  highWater?: number;
  /**
   * Leave binary JSON values as bytes, naming their columns in each rows item: the values
   * SQL rebuilds (SqlExpression) cannot cross to another thread, so the reader's thread
   * leaves them to the applier's (binlog/reader-thread.ts).
   */
  jsonAsBytes?: boolean;
  /**
   * A stream that receives nothing from the server for this long, while it reads (not paused),
   * fails as dead. The migration writes a heartbeat every --heartbeat-interval-millis, so a live
   * stream is never silent for long; a dead one (a server host gone without a word, a dump
   * thread stuck) would otherwise leave the applier waiting for ever. Unset: never.
   */
  silenceLimitMs?: number;
}

/** A binlog read from a position: what the applier takes its items from. */
export interface BinlogSource {
  start(serverId: number): Promise<void>;
  /** Takes up to `max` items, waiting at most `waitMs` for the first one. */
  take(max: number, waitMs: number): Promise<StreamItem[]>;
  /** Items read and not yet taken. */
  readonly backlog: number;
  stop(): void;
}

/**
 * Items the queue holds before the stream pauses. Each is a row event with its images: enough
 * to keep the applier fed (it takes up to 1000 a round), little enough to keep the worker
 * small when the applier is held back.
 */
const HIGH_WATER = 5_000;

const MYSQL_TYPE_JSON = 245;
const MYSQL_TYPE_BLOB = 252;
const MYSQL_TYPE_GEOMETRY = 255;

interface MappedColumn {
  name: string;
  type: number;
  charset?: string | null;
  binaryJson?: boolean;
}

/**
 * Columns whose values zongji would decode and lose, read as a BLOB instead: the server's own
 * bytes. GEOMETRY: zongji keeps points only and loses the rest (SRID, the geometry's kind);
 * the bytes (SRID + WKB) go back into a GEOMETRY column as they are. JSON (MySQL's binary
 * JSON): zongji's text loses the values' types; the bytes are decoded by mysqljson.ts into
 * SQL that rebuilds the document exactly. The table map is read before its rows events.
 */
function rawBytes(tableMap: { columns?: MappedColumn[] } | undefined): void {
  for (const c of tableMap?.columns ?? []) {
    if (c.type === MYSQL_TYPE_GEOMETRY || c.type === MYSQL_TYPE_JSON) {
      c.binaryJson = c.type === MYSQL_TYPE_JSON;
      c.type = MYSQL_TYPE_BLOB;
      c.charset = null;
    }
  }
}

/** The columns of a table map whose values are MySQL's binary JSON, read as bytes. */
const binaryJsonColumns = (columns: MappedColumn[]): string[] => columns.filter((c) => c.binaryJson).map((c) => c.name);

/** Binary JSON values (of columns `names`) of a rows event's images, as the SQL that rebuilds them. */
export function rebuildJson(rows: Row[] | { before: Row; after: Row }[], names: string[], approximate: boolean): void {
  if (names.length === 0) return;
  const convert = (row: Row) => {
    for (const n of names) {
      const v = row[n];
      try {
        if (Buffer.isBuffer(v)) row[n] = v.length === 0 ? null : jsonValueSql(decodeBinaryJson(v), approximate);
      } catch (e) {
        if (!(e instanceof UnrepresentableJson)) throw e;
        throw ApplicationFailure.nonRetryable(
          `the ALTER loses data: column ${n}: ${e.message}. Nothing was cut over. ` +
            'Rerun with --allow-data-loss to accept the value as its text',
          'DataLoss',
        );
      }
    }
  };
  for (const r of rows) {
    if ('before' in r && 'after' in r && typeof r.before === 'object') {
      convert(r.before as Row);
      convert(r.after as Row);
    } else convert(r as Row);
  }
}

// zongji's GTID models, loaded with it (an ES module).
let GtidSet: typeof GtidSetModel;
let MariadbGtidPosition: typeof MariadbGtidPositionModel;

const COMMIT_QUERY = /^\s*(COMMIT|XA\s+COMMIT)\b/i;
const DDL_QUERY = /^\s*(ALTER|RENAME|DROP|TRUNCATE|CREATE|OPTIMIZE|REPAIR)\b/i;

export class BinlogStreamer implements BinlogSource {
  // biome-ignore lint/suspicious/noExplicitAny: zongji's typings lack the mysql2 connection it reads from (paused for backpressure).
  private zongji: any;
  private readonly queue = new ItemQueue<StreamItem>();
  private paused = false;
  private silenceWatch: NodeJS.Timeout | undefined;

  constructor(private readonly opts: StreamerOptions) {}

  async start(serverId: number): Promise<void> {
    fastLatin1();
    const { default: ZongJi } = await import('@vlasky/zongji');
    ({ GtidSet, MariadbGtidPosition } = await import('@vlasky/zongji'));
    const o = connectionOptions(this.opts.server, this.opts.credentials);
    const zongji = new ZongJi({
      host: o.host,
      port: o.port,
      user: o.user,
      password: o.password,
      charset: o.charset,
      ...('ssl' in o ? { ssl: o.ssl } : {}),
      ...('stream' in o ? { stream: o.stream } : {}),
      // (JSON columns are read as bytes, see rawBytes; jsonStrings is for any zongji decodes still.)
      dateStrings: true,
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: false,
      jsonStrings: true,
      // biome-ignore lint/suspicious/noExplicitAny: mysql2's connection options, passed through by zongji, are not in its option type.
    } as any);
    this.zongji = zongji;
    // biome-ignore lint/suspicious/noExplicitAny: onEvent reads each event kind's fields by its name (see there).
    zongji.on('binlog', (e: any) => this.onEvent(e));
    zongji.on('error', (err: Error) => this.fail(err));
    const ready = new Promise<void>((resolve, reject) => {
      zongji.once('ready', resolve);
      zongji.once('error', reject);
    });
    const from = this.opts.from;
    zongji.start({
      serverId,
      // A GTID start (MariaDB) survives rotation and purge of the checkpoint's file, and keeps
      // the GTID known at every later commit; file/position is exact where there is no GTID.
      ...(from.gtid ? { gtidSet: from.gtid } : { filename: from.file, position: from.position }),
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'query', 'xid'],
      includeSchema: this.opts.tables,
    });
    await ready;
    this.watchSilence();
  }

  /** Fails the stream when nothing arrived on its connection for silenceLimitMs while it read. */
  private watchSilence(): void {
    const limit = this.opts.silenceLimitMs;
    if (!limit) return;
    let bytesRead = -1;
    let heardAt = Date.now();
    this.silenceWatch = setInterval(
      () => {
        const read: number = this.zongji?.connection?.stream?.bytesRead ?? 0;
        const now = Date.now();
        // Paused on purpose (the applier is behind or held back): silence is expected.
        if (this.paused || read !== bytesRead) {
          bytesRead = read;
          heardAt = now;
          return;
        }
        if (now - heardAt < limit) return;
        clearInterval(this.silenceWatch);
        const at = this.position();
        this.fail(
          new Error(
            `the binlog stream received nothing for ${Math.round((now - heardAt) / 1000)} s after ${at.file}:${at.position}, ` +
              "though the migration's heartbeats are written to it: taken for dead, read again from the checkpoint",
          ),
        );
      },
      Math.min(5_000, Math.max(100, limit / 4)),
    );
    this.silenceWatch.unref();
  }

  private position(): BinlogPosition {
    const gtid: string | undefined = this.zongji.gtidSet;
    return { file: this.zongji.options.filename, position: this.zongji.options.position, ...(gtid ? { gtid } : {}) };
  }

  /**
   * The position right after a DDL statement. zongji counts a transaction's GTID as done only
   * when the next one begins (a DDL has no commit marker), so its GTID set does not yet hold
   * the DDL's own: added here, or a resume from this position would read the DDL again.
   */
  private positionAfterDdl(gtid: unknown): BinlogPosition {
    const at = this.position();
    if (!at.gtid || gtid === undefined || gtid === null) return at;
    const own = String(gtid);
    if (own.includes(':')) {
      const set = GtidSet.parse(at.gtid);
      set.add(own);
      return { ...at, gtid: set.toString() };
    }
    const [domainId, serverId, seqNo] = own.split('-');
    const position = MariadbGtidPosition.parse(at.gtid);
    position.add({ domainId: Number(domainId), serverId: Number(serverId), seqNo });
    return { ...at, gtid: position.toString() };
  }

  // biome-ignore lint/suspicious/noExplicitAny: events are told apart by getEventName(), each read for the fields of its kind.
  private onEvent(e: any): void {
    const name = e.getEventName();
    const timestamp = Number(e.timestamp) || Date.now();
    if (name === 'tablemap') {
      rawBytes(e.tableMap[e.tableId]);
    } else if (name === 'writerows' || name === 'updaterows' || name === 'deleterows') {
      const tm = e.tableMap[e.tableId];
      const kind = name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete';
      const used = this.opts.used;
      // Before the JSON is decoded: a column the applier does not read is not decoded either.
      const rows =
        used && tm.parentSchema === used.database && tm.tableName === used.table
          ? trimImages(kind, e.rows, used)
          : e.rows;
      const json = binaryJsonColumns(tm.columns ?? []);
      if (!this.opts.jsonAsBytes) {
        try {
          rebuildJson(rows, json, this.opts.approximateJson ?? false);
        } catch (err) {
          this.fail(err as Error);
          return;
        }
      }
      this.push({
        type: 'rows',
        database: tm.parentSchema,
        table: tm.tableName,
        change: { kind, rows } as RowChange,
        timestamp,
        ...(this.opts.jsonAsBytes && json.length ? { jsonColumns: json } : {}),
      });
    } else if (name === 'xid') {
      this.push({ type: 'commit', position: this.position(), timestamp });
    } else if (name === 'query') {
      const q: string = e.query ?? '';
      if (COMMIT_QUERY.test(q)) this.push({ type: 'commit', position: this.position(), timestamp });
      else if (DDL_QUERY.test(q))
        this.push({ type: 'ddl', database: e.schema, query: q, position: this.positionAfterDdl(e.gtid), timestamp });
    }
  }

  private push(item: StreamItem): void {
    this.queue.push(item);
    if (!this.paused && this.queue.length >= (this.opts.highWater ?? HIGH_WATER) && this.zongji?.connection) {
      this.paused = true;
      this.zongji.connection.pause();
    }
  }

  private fail(err: Error): void {
    this.queue.fail(err);
  }

  async take(max: number, waitMs: number): Promise<StreamItem[]> {
    const items = await this.queue.take(max, waitMs);
    if (this.paused && this.queue.length < (this.opts.highWater ?? HIGH_WATER) / 4) {
      this.paused = false;
      this.zongji?.connection?.resume();
    }
    return items;
  }

  get backlog(): number {
    return this.queue.length;
  }

  stop(): void {
    clearInterval(this.silenceWatch);
    try {
      this.zongji?.stop();
    } catch {
      /* already stopped */
    }
  }
}
