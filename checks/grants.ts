// The migration user's grants, read once (SHOW GRANTS) and compared with what revenant needs,
// so that a missing one is named before anything runs, not met by a statement mid-migration.
import {
  binlogMonitorPrivilegeName,
  binlogMonitorPrivileges,
  replicaMonitorPrivilegeName,
  replicaMonitorPrivileges,
  type Flavor,
} from '../mysql/flavor';
import { rows, type Conn } from '../mysql/query';
import * as sql from '../mysql/statements';
import { refuse } from './refuse';
import { registerServerCheck } from './registry';

registerServerCheck({
  name: 'grants',
  stage: 'settings',
  order: 60,
  run: ({ conn, flavor }) => checkGrants(conn, flavor),
});

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
