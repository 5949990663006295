// The server's preconditions: each in a file of its own, registered in checks/registry.ts and
// run here in order (port; then binlog, GTID mode, grants), with what --switch-to-rbr and
// --allow-setup-metadata-lock-instruments may change on request between the two stages. Each
// refusal names what to change.
import { exec, rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import {
  enableMetadataLockInstrument,
  flavorOf,
  gtidVariables,
  replicaStatus,
  startReplica,
  stopReplica,
  usesGtids,
} from '../mysql/flavor';
import { serverChecks, type ServerCheckOptions } from './registry';
import './port';
import './binlog';
import './gtid';
import './grants';

export interface ServerFacts {
  /** "MySQL 9.7.4", "MariaDB 10.11.6" */
  version: string;
  serverUuid: string;
  /** Whether checkpoints carry a GTID position (MariaDB; MySQL with gtid_mode=ON). */
  gtids: boolean;
}

export async function checkServer(conn: Conn, options: ServerCheckOptions = {}): Promise<ServerFacts> {
  const flavor = flavorOf(conn);
  let [variables] = await rows(conn, sql.serverVariables());
  for (const check of serverChecks('reached')) await check.run({ conn, flavor, variables, options });
  const setUp = options.allowSetupMetadataLockInstruments ? enableMetadataLockInstrument(flavor) : undefined;
  if (setUp) await exec(conn, setUp);
  if (
    String(variables.binlog_format).toUpperCase() !== 'ROW' &&
    options.switchToRbr &&
    (await replicaStatus(conn, flavor))
  ) {
    // gh-ost's --switch-to-rbr: the replica's SQL thread logs ROW from its restart on.
    await exec(conn, sql.setGlobalRowFormat());
    await exec(conn, stopReplica(flavor));
    await exec(conn, startReplica(flavor));
    [variables] = await rows(conn, sql.serverVariables());
    if (String(variables.binlog_format).toUpperCase() !== 'ROW') variables = { ...variables, binlog_format: 'ROW' };
  }
  for (const check of serverChecks('settings')) await check.run({ conn, flavor, variables, options });
  const [g] = await rows(conn, gtidVariables(flavor));
  return {
    version: flavor.name,
    serverUuid: `${variables.hostname}:${variables.port}:${variables.server_id}`,
    gtids: usesGtids(flavor, String(g.mode)),
  };
}
