// Checksum (--checksum): before the cut-over, the ghost is compared with the original row
// for row, on one consistent snapshot of both. The original is read-locked just long enough
// for the applier to reach a marker written after the lock (every change to the original is
// then in the ghost) and for the snapshot to open; writes go on while the snapshot is read
// chunk by chunk along the original's key. A difference fails the migration before the
// cut-over, with the key range where it is: the original stays the table.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  writtenColumns,
  type ChecksumResult,
  type MigrationInput,
  type SharedKey,
  type TablePlan,
} from '../model/types';
import type { CredentialResolver } from '../mysql/credentials';
import { settingsInForce, type ControlSource } from '../control/live-settings';
import { drainToMarker, lockedMarkerMillis, waitForLowReplicaLag, waitForSmallBacklog } from '../control/catch-up';
import { decodeKey, encodeKey, keyOf, sameKey } from '../table/keys';
import { denseIntegerKey } from '../table/chunks';
import { connect } from '../mysql/connection';
import { flavorOf, hashCastsValuesWithoutCharset } from '../mysql/flavor';
import { exec, rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { applierOf } from '../mysql/topology';

/** Rows per compared range: read-only consistent reads, no locks, so larger than copy chunks. */
export const CHECKSUM_CHUNK_ROWS = 10_000;

interface ColumnType {
  COLUMN_NAME: string;
  COLUMN_TYPE: string;
  CHARACTER_SET_NAME: string | null;
  COLLATION_NAME: string | null;
  /** 'NO': the column is NOT NULL. */
  IS_NULLABLE?: string;
}

interface ComparedColumn {
  source: string;
  ghost: string;
  /** NOT NULL in both tables: hashed without its ISNULL. */
  notNull: boolean;
  /** Text or a binary string; not a number, a date, a bit string (nor JSON on MySQL). */
  hasCharset: boolean;
}

/**
 * The shared columns a checksum compares: those the ALTER left with the same type, charset
 * and collation (a changed type prints its values differently, which is no difference).
 */
export function comparableColumns(
  mapping: { source: string; ghost: string }[],
  source: ColumnType[],
  ghost: ColumnType[],
): { compared: ComparedColumn[]; skipped: string[]; bare: boolean } {
  const find = (cols: ColumnType[], name: string) =>
    cols.find((x) => x.COLUMN_NAME.toLowerCase() === name.toLowerCase());
  const typeOf = (c: ColumnType | undefined) =>
    c ? `${c.COLUMN_TYPE} ${c.CHARACTER_SET_NAME ?? ''} ${c.COLLATION_NAME ?? ''}` : undefined;
  const compared: ComparedColumn[] = [];
  const comparedTypes: ColumnType[] = [];
  const skipped: string[] = [];
  for (const m of mapping) {
    const [a, b] = [find(source, m.source), find(ghost, m.ghost)];
    if (a !== undefined && typeOf(a) === typeOf(b)) {
      compared.push({
        source: m.source,
        ghost: m.ghost,
        notNull: a.IS_NULLABLE === 'NO' && b?.IS_NULLABLE === 'NO',
        hasCharset: a.CHARACTER_SET_NAME !== null,
      });
      comparedTypes.push(a);
    } else skipped.push(m.source);
  }
  return { compared, skipped, bare: oneTextCollation(comparedTypes) };
}

/**
 * Whether the columns' text is all in one charset and collation (numbers, dates, JSON on
 * MySQL and binary strings have none of their own). Then the row's values go into the hash as
 * they are: with the binary separator they come out as the same bytes as each cast to binary
 * (checked on MariaDB 10.11 and MySQL 9.7 over every type), and a cast costs MySQL a fifth of
 * the checksum. Text in two collations needs the casts: MariaDB refuses to join it
 * (Illegal mix of collations).
 */
export function oneTextCollation(columns: ColumnType[]): boolean {
  const text = new Set(
    columns
      .filter((c) => c.CHARACTER_SET_NAME !== null && c.CHARACTER_SET_NAME !== 'binary')
      .map((c) => `${c.CHARACTER_SET_NAME} ${c.COLLATION_NAME}`),
  );
  return text.size <= 1;
}

/**
 * Which compared columns go into the hash as they are, the others cast to binary: the same
 * bytes either way, so only the cost differs. Text in two collations is cast, and so is every
 * other value then; text in one collation goes in as it is (its cast costs MySQL a fifth of
 * the checksum), values without a charset in whichever form the server hashes cheaper
 * (mysql/flavor.ts, hashCastsValuesWithoutCharset).
 */
export function hashedAsTheyAre(
  compared: ComparedColumn[],
  bare: boolean,
  castValuesWithoutCharset: boolean,
): boolean[] {
  return compared.map((m) => bare && (m.hasCharset || !castValuesWithoutCharset));
}

const sameFigures = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  String(a.n) === String(b.n) && String(a.s) === String(b.s);

/** Ranges compared at once at the most, whatever --copy-threads says: each pair holds two connections and a snapshot. */
const MAX_CHECKSUM_PAIRS = 8;

/** Two sessions in the checksum's snapshot: one reads the original's rows of a range, the other the ghost's. */
interface SnapshotPair {
  original: Conn;
  ghost: Conn;
}

/** Ranges that differ, at most this many, are repaired; more means something else is wrong. */
const MAX_REPAIRED_RANGES = 100;

/** A key range of the original compared on its own; `from`/`to` null: unbounded on that side. */
interface Range {
  from: unknown[] | null;
  fromInclusive: boolean;
  to: unknown[] | null;
  toInclusive?: boolean;
  what: string;
  /** The ghost's rows beyond either end of the original's keys: compared, not counted as a range. */
  beyondKeys?: true;
}

export async function checksumTables(
  credentials: CredentialResolver,
  input: MigrationInput,
  plan: TablePlan,
  controlSource?: ControlSource,
): Promise<ChecksumResult> {
  const ctx = Context.current();
  const { database: db, table, ghostTable: ghost } = plan;
  const server = applierOf(input, plan);
  const c = await connect(server, credentials);
  const inspected = plan.applier ? await connect(input.server, credentials) : c;
  /**
   * The snapshot, on pairs of connections: each pair compares one range at a time, the
   * original's rows read on one connection and the ghost's on the other, at once.
   */
  let snap: SnapshotPair[] | undefined;
  const closeSnapshot = async (commit: boolean) => {
    const open = snap;
    snap = undefined;
    if (!open) return;
    const sessions = open.flatMap((pair) => [pair.original, pair.ghost]);
    try {
      if (commit) await Promise.all(sessions.map((session) => session.query('COMMIT')));
    } finally {
      for (const session of sessions) session.destroy();
    }
  };
  try {
    // The copy walks the original's key; its columns have the same names in the ghost's shape.
    const key: SharedKey = plan.copyKey ?? plan.key;
    const ghostName = (col: string) => plan.columns.find((m) => m.source === col)?.ghost ?? col;
    // Metadata-lock waits bounded on this session too, as in the cut-over: it reads the
    // changelog while the original is locked.
    await exec(c, sql.lockWaitTimeout(input.cutOverLockTimeoutSeconds));
    const { compared, skipped, bare } = comparableColumns(
      plan.columns,
      await rows<ColumnType>(c, sql.columnsOf(db, table)),
      await rows<ColumnType>(c, sql.columnsOf(db, ghost)),
    );
    if (compared.length === 0)
      throw ApplicationFailure.nonRetryable(
        `--checksum: no column of ${db}.${table} keeps its type in the ghost; nothing to compare`,
        'ChecksumImpossible',
      );
    const asKey = (r: Record<string, unknown>) => decodeKey(key, encodeKey(keyOf(r, key.columns)));
    const ghostKey = key.columns.map(ghostName);
    const sourceCols = compared.map((m) => m.source);
    const ghostCols = compared.map((m) => m.ghost);
    const notNull = compared.map((m) => m.notNull);
    const asTheyAre = hashedAsTheyAre(compared, bare, hashCastsValuesWithoutCharset(flavorOf(c)));
    let lockMillis = 0;

    /**
     * The snapshot: the original read-locked, the applier past a marker written after the
     * lock, the snapshot opened, the lock released. Bounded waits only while it is held. As
     * for the cut-over, the marker must reach the applier (through any replica it reads)
     * within the lock's time. It is opened on every session while the lock holds: nothing
     * changes either table then (the applier writes the ghost only what the original's
     * writes, held by the lock, would give it), so all see the same state, and the ranges
     * are read side by side: the two tables of a range at once, `pairs` ranges at once.
     */
    const openSnapshot = async (pairs: number): Promise<SnapshotPair[]> => {
      await waitForSmallBacklog(c, inspected, plan, 60_000);
      await waitForLowReplicaLag(plan, credentials, input, 60_000, controlSource);
      const lock = await connect(server, credentials);
      const sessions: Conn[] = [];
      try {
        for (let i = 0; i < 2 * pairs; i++) {
          const s = await connect(server, credentials);
          sessions.push(s);
          await exec(s, sql.ghostWriterSession(input));
          await exec(s, sql.repeatableRead());
        }
        const lockTimeout = input.cutOverLockTimeoutSeconds;
        await exec(lock, sql.lockWaitTimeout(lockTimeout));
        const lockedAt = Date.now();
        try {
          await exec(lock, sql.lockTableRead(db, table));
        } catch (e) {
          throw ApplicationFailure.retryable(
            `--checksum: could not read-lock ${db}.${table} within ${lockTimeout}s (${(e as Error).message}); will retry`,
            'LockTimeout',
          );
        }
        try {
          await drainToMarker(c, plan, lockedMarkerMillis(lockTimeout), 'checksum marker');
          for (const s of sessions) await exec(s, sql.consistentSnapshot());
        } finally {
          await exec(lock, sql.unlockTables()).catch(() => {});
        }
        lockMillis = Math.max(lockMillis, Date.now() - lockedAt);
        return Array.from({ length: pairs }, (_, i) => ({ original: sessions[2 * i], ghost: sessions[2 * i + 1] }));
      } catch (e) {
        for (const s of sessions) s.destroy();
        throw e;
      } finally {
        lock.destroy();
      }
    };

    /** Both tables' figures for one range, in the snapshot: null when equal, else the difference. */
    const compare = async (r: Range, pair: SnapshotPair): Promise<{ n: number; diff: string | null }> => {
      const bounded = { from: r.from, fromInclusive: r.fromInclusive, to: r.to, toInclusive: r.toInclusive };
      const { original, ghost: ghostConn } = pair;
      const [[a], [b]] = await Promise.all([
        rows(original, sql.rangeChecksum(db, table, key.name, key.columns, sourceCols, bounded, notNull, asTheyAre)),
        rows(ghostConn, sql.rangeChecksum(db, ghost, null, ghostKey, ghostCols, bounded, notNull, asTheyAre)),
      ]);
      if (sameFigures(a, b)) return { n: Number(a.n), diff: null };
      return {
        n: Number(a.n),
        diff: `${r.what}: ${db}.${table} has ${a.n} rows (crc sum ${a.s}), ${db}.${ghost} ${b.n} (crc sum ${b.s})`,
      };
    };

    // 1. Every range along the key, in one snapshot, as many at once as the copy runs copiers;
    // the ghost's rows beyond both ends too.
    const { copyThreads } = await settingsInForce(input, controlSource);
    const opening = Date.now();
    const pairs = await openSnapshot(Math.max(1, Math.min(copyThreads ?? 1, MAX_CHECKSUM_PAIRS)));
    const comparing = Date.now();
    snap = pairs;
    const walker = pairs[0].original;
    const [min] = await rows(walker, sql.keyExtreme(db, table, key, 'ASC'));
    const [max] = await rows(walker, sql.keyExtreme(db, table, key, 'DESC'));
    let rowsCompared = 0;
    let ranges = 0;
    const differing: { range: Range; diff: string }[] = [];
    const differs = (range: Range, diff: string) => {
      differing.push({ range, diff });
      if (differing.length > MAX_REPAIRED_RANGES)
        throw mismatch(`more than ${MAX_REPAIRED_RANGES} ranges differ, the first ${differing[0].diff}`);
    };
    if (!min || !max) {
      const everything: Range = { from: null, fromInclusive: true, to: null, what: 'the whole table' };
      const r = await compare(everything, pairs[0]);
      if (r.diff) differs(everything, `${db}.${table} is empty and ${db}.${ghost} is not`);
    } else {
      const lo = asKey(min);
      const hi = asKey(max);
      const last = encodeKey(hi);
      const outside: Range[] = [
        {
          from: null,
          fromInclusive: true,
          to: lo,
          what: `keys before ${JSON.stringify(encodeKey(lo))}`,
          toInclusive: false,
          beyondKeys: true,
        },
        { from: hi, fromInclusive: false, to: null, what: `keys after ${JSON.stringify(last)}`, beyondKeys: true },
      ];
      // The ranges along the key, found one after the other (any session of the snapshot can
      // find the next one: all see the same rows), each compared by the first pair free.
      let next: { from: unknown[]; first: boolean } | undefined = { from: lo, first: true };
      let finding: Promise<Range | undefined> = Promise.resolve(undefined);
      const width =
        key.columns.length === 1 &&
        key.integer[0] &&
        denseIntegerKey(lo[0] as bigint, hi[0] as bigint, plan.estimatedRows)
          ? BigInt(CHECKSUM_CHUNK_ROWS)
          : undefined;
      const nextRange = (finder: Conn): Promise<Range | undefined> => {
        finding = finding.then(async () => {
          const at = next;
          if (!at) return outside.shift();
          if (width !== undefined) {
            // From `at` up to, not including, `at + width`; the last range up to hi, included.
            // Named as the ranges found by reading are, so a message reads the same either way.
            const where = `keys from ${JSON.stringify(encodeKey(at.from))}`;
            const to = [(at.from[0] as bigint) + width];
            if (to[0] > (hi[0] as bigint)) {
              next = undefined;
              return { from: at.from, fromInclusive: true, to: hi, what: `${where} to ${JSON.stringify(last)}` };
            }
            next = { from: to, first: true };
            return {
              from: at.from,
              fromInclusive: true,
              to,
              toInclusive: false,
              what: `${where} before ${JSON.stringify(encodeKey(to))}`,
            };
          }
          const [end] = await rows(finder, sql.chunkEnd(db, table, key, at.from, at.first, hi, CHECKSUM_CHUNK_ROWS));
          const to = end ? asKey(end) : hi;
          next = sameKey(encodeKey(to), last) ? undefined : { from: to, first: false };
          const where = `keys ${at.first ? 'from' : 'after'} ${JSON.stringify(encodeKey(at.from))}`;
          return { from: at.from, fromInclusive: at.first, to, what: `${where} to ${JSON.stringify(encodeKey(to))}` };
        });
        return finding;
      };
      let failed = false;
      const outcomes = await Promise.allSettled(
        pairs.map(async (pair) => {
          try {
            while (!failed) {
              const range = await nextRange(pair.original);
              if (!range) return;
              ctx.heartbeat({ rowsCompared, ranges });
              const r = await compare(range, pair);
              if (r.diff) differs(range, r.diff);
              if (!range.beyondKeys) {
                rowsCompared += r.n;
                ranges++;
              }
            }
          } catch (e) {
            // The other pairs stop at their next range; the first failure is the one told.
            failed = true;
            throw e;
          }
        }),
      );
      const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failure) throw failure.reason;
    }
    await closeSnapshot(true);
    ctx.log.info(
      `--checksum: snapshot opened in ${comparing - opening} ms (original read-locked ${lockMillis} ms), ` +
        `${rowsCompared} rows in ${ranges} ranges compared in ${Date.now() - comparing} ms on ${pairs.length} pair(s) of sessions`,
    );
    if (differing.length === 0)
      return { rowsCompared, ranges, columns: sourceCols, skippedColumns: skipped, lockMillis };

    // 2. Repair, as Spirit does: each differing range copied again from the original (the
    // applier goes on meanwhile, as during the copy), then compared again in a new snapshot.
    ctx.log.warn(
      `--checksum: ${differing.length} range(s) differ (the first: ${differing[0].diff}); copying them again`,
    );
    await exec(c, sql.ghostWriterSession(input));
    for (const { range } of differing) {
      ctx.heartbeat({ repairing: range.what });
      await c.query('START TRANSACTION');
      try {
        await exec(c, sql.deleteKeyRange(db, ghost, ghostKey, range));
        await exec(c, sql.copyKeyRange(db, table, ghost, key, writtenColumns(plan.columns), range));
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    }
    snap = await openSnapshot(1);
    for (const { range, diff } of differing) {
      const r = await compare(range, snap[0]);
      if (r.diff) throw mismatch(`${r.diff}, still after copying the range again (first seen: ${diff})`);
    }
    await closeSnapshot(true);
    return {
      rowsCompared,
      ranges,
      columns: sourceCols,
      skippedColumns: skipped,
      lockMillis,
      repairedRanges: differing.length,
    };
  } finally {
    await closeSnapshot(false);
    if (inspected !== c) inspected.destroy();
    c.destroy();
  }
}

function mismatch(where: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `--checksum: the ghost differs from the original (${where}); no cut-over was done`,
    'ChecksumMismatch',
  );
}
