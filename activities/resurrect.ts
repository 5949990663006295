// --resurrect: a new workflow continues a migration that failed or was terminated, from the
// checkpoints in its changelog. Its terms, each checked with a clear error and nothing
// changed: same database, table and ALTER as the checkpoint's; ghost and changelog present;
// the binlog from the checkpoint still on the server (by GTID where there is one).
import type { BinlogPosition, MigrationInput, TablePlan } from '../workflows/types';
import { changelogTableName, ghostTableName, tableNameBase } from '../workflows/types';
import { normalizeAlter } from './alter';
import { HINT, readJson, type BinlogCheckpoint, type CopyCheckpoint, type MigrationRecord } from './changelog';
import type { CredentialResolver } from './credentials';
import { checkServer, checkTableAndAlter, refuse } from './inspect';
import { rows, withConnection, type Conn } from './mysql';
import * as sql from './sql';
import { flavorOf, gtidCheckpointProblem } from './flavor';
import { placement, resolveServers } from './topology';

export interface Resurrected {
  plan: TablePlan;
  estimatedRows: number;
  copy: CopyCheckpoint;
  binlog: BinlogCheckpoint;
}

export async function resurrect(credentials: CredentialResolver, input: MigrationInput): Promise<Resurrected> {
  return withConnection(input.server, credentials, async (conn) => {
    const { database: db, table } = input;
    await checkServer(conn, input);
    const { estimatedRows } = await checkTableAndAlter(conn, input, { resurrect: true });
    const [changelog, ghost] = [changelogTableName(tableNameBase(input)), ghostTableName(tableNameBase(input))];
    const present = new Set((await rows(conn, sql.tablesNamed(db, [changelog, ghost]))).map((r) => String(r.TABLE_NAME)));
    if (!present.has(changelog)) {
      refuse(`nothing to resurrect: changelog table ${db}.${changelog} does not exist (the migration completed, was cleaned up, or never began copying); run without --resurrect`);
    }
    if (!present.has(ghost)) {
      refuse(`cannot resurrect: ghost table ${db}.${ghost} is gone, though the changelog remains; drop ${changelog} and start anew`);
    }
    const names = { database: db, changelogTable: changelog };
    const record = await readJson<MigrationRecord>(conn, names, HINT.migration);
    const copy = await readJson<CopyCheckpoint>(conn, names, HINT.copy);
    const binlog = await readJson<BinlogCheckpoint>(conn, names, HINT.binlog);
    if (!record || !copy || !binlog) refuse(`cannot resurrect: ${db}.${changelog} holds no complete checkpoint (the earlier migration stopped before it began copying); drop it and start anew`);
    if (record.database !== db || record.table !== table) {
      refuse(`cannot resurrect: the checkpoint in ${db}.${changelog} is for ${record.database}.${record.table}`);
    }
    if (normalizeAlter(record.alter) !== normalizeAlter(input.alter)) {
      refuse(`cannot resurrect: --resurrect needs the exact same ALTER; the checkpoint was taken for "${record.alter}", this command has "${normalizeAlter(input.alter)}"`);
    }
    const missing = await binlogMissing(conn, binlog);
    if (missing) refuse(`cannot resurrect: the binlog from the checkpoint (${describePosition(binlog)}) is no longer on the server (${missing}); start the migration anew`);
    // Where to write and whose lag to watch, decided anew: after a failover the server given
    // (--host) is the promoted replica, and the plan's old master is gone.
    const { applier: _oldApplier, lagReplicas: _oldReplicas, ...kept } = record.plan;
    const plan: TablePlan = { ...kept, estimatedRows, ...placement(await resolveServers(conn, input), input) };
    return { plan, estimatedRows, copy, binlog };
  }, { firstContact: true });
}

export function describePosition(p: BinlogPosition): string {
  return `${p.file}:${p.position}${p.gtid ? `, GTID ${p.gtid}` : ''}`;
}

/** Why the binlog after `cp` cannot be read any more, or null when it can. */
export async function binlogMissing(conn: Conn, cp: BinlogPosition): Promise<string | null> {
  const files = (await rows(conn, sql.showBinaryLogs())).map((r) => String(r.Log_name));
  if (files.length === 0) return 'the server has no binary logs';
  if (!cp.gtid) return files.includes(cp.file) ? null : `oldest binlog is ${files[0]}; ${cp.file} was purged`;
  return gtidCheckpointProblem(conn, flavorOf(conn), cp.gtid, files[0]);
}
