// Checksum (--checksum): before the cut-over, the ghost is compared with the original row
// for row, on one consistent snapshot of both. The original is read-locked just long enough
// for the applier to reach a marker written after the lock (every change to the original is
// then in the ghost) and for the snapshot to open; writes go on while the snapshot is read
// chunk by chunk along the original's key. A difference fails the migration before the
// cut-over, with the key range where it is: the original stays the table.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ChecksumResult, MigrationInput, SharedKey, TablePlan } from '../workflows/types';
import type { CredentialResolver } from './credentials';
import { drainToMarker, lockedMarkerMillis, waitForLowReplicaLag, waitForSmallBacklog } from './cutover';
import { decodeKey, encodeKey, keyOf, sameKey } from './keys';
import { connect, exec, rows, type Conn } from './mysql';
import * as sql from './sql';
import { applierOf } from './topology';

/** Rows per compared range: read-only consistent reads, no locks, so larger than copy chunks. */
export const CHECKSUM_CHUNK_ROWS = 10_000;

interface ColumnType { COLUMN_NAME: string; COLUMN_TYPE: string; CHARACTER_SET_NAME: string | null; COLLATION_NAME: string | null }

/**
 * The shared columns a checksum compares: those the ALTER left with the same type, charset
 * and collation (a changed type prints its values differently, which is no difference).
 */
export function comparableColumns(mapping: { source: string; ghost: string }[], source: ColumnType[], ghost: ColumnType[]): { compared: { source: string; ghost: string }[]; skipped: string[] } {
  const typeOf = (cols: ColumnType[], name: string) => {
    const c = cols.find((x) => x.COLUMN_NAME.toLowerCase() === name.toLowerCase());
    return c ? `${c.COLUMN_TYPE} ${c.CHARACTER_SET_NAME ?? ''} ${c.COLLATION_NAME ?? ''}` : undefined;
  };
  const compared: { source: string; ghost: string }[] = [];
  const skipped: string[] = [];
  for (const m of mapping) {
    const a = typeOf(source, m.source);
    if (a !== undefined && a === typeOf(ghost, m.ghost)) compared.push(m);
    else skipped.push(m.source);
  }
  return { compared, skipped };
}

const sameFigures = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  String(a.n) === String(b.n) && String(a.x) === String(b.x) && String(a.s) === String(b.s);

export async function checksumTables(credentials: CredentialResolver, input: MigrationInput, plan: TablePlan): Promise<ChecksumResult> {
  const ctx = Context.current();
  const { database: db, table, ghostTable: ghost } = plan;
  const server = applierOf(input, plan);
  const c = await connect(server, credentials);
  const inspected = plan.applier ? await connect(input.server, credentials) : c;
  let lock: Conn | undefined;
  let snap: Conn | undefined;
  try {
    // The copy walks the original's key; its columns have the same names in the ghost's shape.
    const key: SharedKey = plan.copyKey ?? plan.key;
    const ghostName = (col: string) => plan.columns.find((m) => m.source === col)?.ghost ?? col;
    const { compared, skipped } = comparableColumns(plan.columns,
      await rows<ColumnType>(c, sql.columnsOf(db, table)), await rows<ColumnType>(c, sql.columnsOf(db, ghost)));
    if (compared.length === 0) throw ApplicationFailure.nonRetryable(`--checksum: no column of ${db}.${table} keeps its type in the ghost; nothing to compare`, 'ChecksumImpossible');

    // 1. The snapshot: the original read-locked, the applier past a marker written after
    // the lock, the snapshot opened, the lock released. Bounded waits only while it is held.
    // As for the cut-over: the marker must reach the applier (through any replica it reads) within the lock's time.
    await waitForSmallBacklog(c, inspected, plan, 60_000);
    await waitForLowReplicaLag(c, plan, credentials, input, 60_000);
    lock = await connect(server, credentials);
    snap = await connect(server, credentials);
    await exec(snap, sql.ghostWriterSession());
    await exec(snap, sql.repeatableRead());
    const lockTimeout = input.cutOverLockTimeoutSeconds;
    await exec(lock, sql.lockWaitTimeout(lockTimeout));
    const lockedAt = Date.now();
    try {
      await exec(lock, sql.lockTableRead(db, table));
    } catch (e) {
      throw ApplicationFailure.retryable(`--checksum: could not read-lock ${db}.${table} within ${lockTimeout}s (${(e as Error).message}); will retry`, 'LockTimeout');
    }
    try {
      await drainToMarker(c, plan, lockedMarkerMillis(lockTimeout), 'checksum marker');
      await exec(snap, sql.consistentSnapshot());
    } finally {
      await exec(lock, sql.unlockTables()).catch(() => {});
    }
    const lockMillis = Date.now() - lockedAt;

    // 2. Range by range along the key, in the snapshot.
    const [min] = await rows(snap, sql.keyExtreme(db, table, key, 'ASC'));
    const [max] = await rows(snap, sql.keyExtreme(db, table, key, 'DESC'));
    const asKey = (r: Record<string, unknown>) => decodeKey(key, encodeKey(keyOf(r, key.columns)));
    const ghostKey = key.columns.map(ghostName);
    const sourceCols = compared.map((m) => m.source);
    const ghostCols = compared.map((m) => m.ghost);
    let rowsCompared = 0;
    let ranges = 0;
    if (!min || !max) {
      const [g] = await rows(snap, sql.rowCount(db, ghost));
      if (Number(g.n) !== 0) throw mismatch(`${db}.${table} is empty and ${db}.${ghost} has ${g.n} rows`);
    } else {
      const lo = asKey(min);
      const hi = asKey(max);
      const last = encodeKey(hi);
      let from: unknown[] = lo;
      let first = true;
      for (;;) {
        ctx.heartbeat({ rowsCompared, ranges });
        const [end] = await rows(snap, sql.chunkEnd(db, table, key, from, first, hi, CHECKSUM_CHUNK_ROWS));
        const to = end ? asKey(end) : hi;
        const range = { from, fromInclusive: first, to };
        const [a] = await rows(snap, sql.rangeChecksum(db, table, key.name, key.columns, sourceCols, range));
        const [b] = await rows(snap, sql.rangeChecksum(db, ghost, null, ghostKey, ghostCols, range));
        if (!sameFigures(a, b)) {
          throw mismatch(`keys ${first ? 'from' : 'after'} ${JSON.stringify(encodeKey(from))} to ${JSON.stringify(encodeKey(to))}: ` +
            `${db}.${table} has ${a.n} rows (crc xor ${a.x}, sum ${a.s}), ${db}.${ghost} ${b.n} (crc xor ${b.x}, sum ${b.s})`);
        }
        rowsCompared += Number(a.n);
        ranges++;
        if (sameKey(encodeKey(to), last)) break;
        from = to;
        first = false;
      }
      const [outside] = await rows(snap, sql.rowsOutside(db, ghost, ghostKey, lo, hi));
      if (Number(outside.n) !== 0) throw mismatch(`${db}.${ghost} has ${outside.n} rows outside the original's key range`);
    }
    await snap.query('COMMIT');
    return { rowsCompared, ranges, columns: sourceCols, skippedColumns: skipped, lockMillis };
  } finally {
    lock?.destroy();
    snap?.destroy();
    if (inspected !== c) inspected.destroy();
    c.destroy();
  }
}

function mismatch(where: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`--checksum: the ghost differs from the original (${where}); no cut-over was done`, 'ChecksumMismatch');
}
