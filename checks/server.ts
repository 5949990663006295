// The server's preconditions: version, binlog settings, GTID mode and the migration user's
// grants. Each refusal names what to change.
import type { MigrationInput } from '../model/types';
import { exec, rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import {
  binlogMonitorPrivilegeName,
  replicaMonitorPrivilegeName,
  replicaMonitorPrivileges,
  binlogMonitorPrivileges,
  binlogSettingProblems,
  enableMetadataLockInstrument,
  flavorOf,
  otherPorts,
  gtidModeProblem,
  gtidVariables,
  replicaStatus,
  startReplica,
  stopReplica,
  usesGtids,
  type Flavor,
} from '../mysql/flavor';
import { refuse } from '../checks/refuse';

export interface ServerFacts {
  /** "MySQL 9.7.4", "MariaDB 10.11.6" */
  version: string;
  serverUuid: string;
  /** Whether checkpoints carry a GTID position (MariaDB; MySQL with gtid_mode=ON). */
  gtids: boolean;
}

export async function checkServer(
  conn: Conn,
  opts: Pick<
    MigrationInput,
    'assumeRbr' | 'switchToRbr' | 'skipPortValidation' | 'allowSetupMetadataLockInstruments'
  > = {},
): Promise<ServerFacts> {
  const f = flavorOf(conn);
  let [v] = await rows(conn, sql.serverVariables());
  if (!opts.skipPortValidation) {
    // gh-ost's check: the server reached is the one named (not a proxy's or a forwarded port's other end).
    const reached = Number(conn.config.port);
    const other = otherPorts(f);
    const [extra] = other ? await rows(conn, other) : [];
    if (reached !== Number(v.port) && reached !== Number(extra?.port ?? 0)) {
      refuse(
        `unexpected database port reported: the server reached on port ${reached} says its port is ${v.port}; ` +
          'through a proxy or a forwarded port, add --skip-port-validation (or --aliyun-rds, --gcp, --azure)',
      );
    }
  }
  const setUp = opts.allowSetupMetadataLockInstruments ? enableMetadataLockInstrument(f) : undefined;
  if (setUp) await exec(conn, setUp);
  if (String(v.binlog_format).toUpperCase() !== 'ROW' && opts.switchToRbr && (await replicaStatus(conn, f))) {
    // gh-ost's --switch-to-rbr: the replica's SQL thread logs ROW from its restart on.
    await exec(conn, sql.setGlobalRowFormat());
    await exec(conn, stopReplica(f));
    await exec(conn, startReplica(f));
    [v] = await rows(conn, sql.serverVariables());
    if (String(v.binlog_format).toUpperCase() !== 'ROW') v = { ...v, binlog_format: 'ROW' };
  }
  if (Number(v.log_bin) !== 1) {
    refuse(
      'binary logging is off (log_bin=OFF) on the server: revenant reads row changes from the binlog; start it with --log-bin --binlog-format=ROW --binlog-row-image=FULL',
    );
  }
  if (String(v.binlog_format).toUpperCase() !== 'ROW' && !opts.assumeRbr) {
    refuse(
      `binlog_format is ${v.binlog_format}, but revenant needs ROW: SET GLOBAL binlog_format='ROW' (and restart replication threads), or start the server with --binlog-format=ROW`,
    );
  }
  if (String(v.binlog_row_image).toUpperCase() !== 'FULL') {
    refuse(
      `binlog_row_image is ${v.binlog_row_image}, but revenant needs FULL: its binlog events must carry whole rows (SET GLOBAL binlog_row_image='FULL')`,
    );
  }
  const [problem] = await binlogSettingProblems(conn, f);
  if (problem) refuse(problem);
  const [g] = await rows(conn, gtidVariables(f));
  const gtidProblem = gtidModeProblem(f, String(g.mode));
  if (gtidProblem) refuse(gtidProblem);
  await checkGrants(conn, f);
  return { version: f.name, serverUuid: `${v.hostname}:${v.port}:${v.server_id}`, gtids: usesGtids(f, String(g.mode)) };
}

const TABLE_PRIVILEGES = ['ALTER', 'CREATE', 'DELETE', 'DROP', 'INDEX', 'INSERT', 'LOCK TABLES', 'SELECT', 'UPDATE'];

async function checkGrants(conn: Conn, f: Flavor): Promise<void> {
  const grants = (await rows(conn, sql.showGrants())).map((r) => String(Object.values(r)[0]));
  const global = new Set<string>();
  const anyDb = new Set<string>();
  for (const g of grants) {
    const m = /^GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s/i.exec(g);
    if (!m) continue;
    const privs = m[1].split(',').map((p) => p.trim().toUpperCase());
    const target = privs.includes('ALL PRIVILEGES') ? ['ALL'] : privs;
    for (const p of target) (m[2] === '*.*' ? global : anyDb).add(p);
  }
  if (global.has('ALL')) return;
  const missing: string[] = [];
  if (!global.has('REPLICATION SLAVE') && !global.has('SUPER')) missing.push('REPLICATION SLAVE');
  if (!binlogMonitorPrivileges(f).some((p) => global.has(p))) missing.push(binlogMonitorPrivilegeName(f));
  const monitor = replicaMonitorPrivilegeName(f);
  if (!replicaMonitorPrivileges(f).some((p) => global.has(p)) && !missing.includes(monitor)) missing.push(monitor);
  for (const p of TABLE_PRIVILEGES) if (!global.has(p) && !anyDb.has(p) && !anyDb.has('ALL')) missing.push(p);
  if (missing.length) {
    refuse(
      `the MySQL user lacks privileges revenant needs: ${missing.join(', ')} (see docs/security.md, "Privileges")`,
    );
  }
}
