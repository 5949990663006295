// Where a migration reads and where it writes: gh-ost's topologies.
//   default              connected to a replica: its binlog is read (log_slave_updates), its
//                        master is found (or --assume-master-host) and written to;
//   --allow-on-master    connected to the master: read and written there;
//   --migrate-on-replica everything on the replica; replication stops for the cut-over only;
//   --test-on-replica    everything on the replica; at the cut-over replication stops, the
//                        tables swap and swap back, and both stay for comparison.
// Lag is measured on the replica read from and on --throttle-control-replicas.
import { hostAndPort, type MigrationInput, type ServerRef, type TablePlan } from '../model/types';
import { refuse } from '../checks/refuse';
import { rows, type Conn } from './query';
import {
  flavorOf,
  replicaLogsUpdates,
  replicaLogsUpdatesFlag,
  replicaStatus,
  replicaStatusQuery,
  type ReplicaStatus,
} from './flavor';
import { must } from '../model/must';

export type Topology = 'master' | 'replica' | 'migrate-on-replica' | 'test-on-replica';

export interface Servers {
  topology: Topology;
  /** Where the ghost, the changelog and the cut-over are. */
  applier: ServerRef;
  /** Replicas whose lag throttles copy and apply. */
  lagReplicas: ServerRef[];
}

export function topologyOf(input: MigrationInput): Topology {
  if (input.testOnReplica) return 'test-on-replica';
  if (input.migrateOnReplica) return 'migrate-on-replica';
  return input.allowOnMaster ? 'master' : 'replica';
}

/**
 * "host:port" as a server the worker connects to as it does to `like` (the --host server):
 * the same user (unless `user` says another), TLS and timeout.
 */
export function parseHostPort(spec: string, like: ServerRef, user = like.user): ServerRef {
  const at = hostAndPort(spec);
  if (!at) throw new Error(`"${spec}" is not host[:port]`);
  return sameLogin(at, like, user);
}

/** A server of the topology, reached as `like` is: user, TLS and --mysql-timeout (not a named connection: that names one server). */
function sameLogin(at: { host: string; port: number }, like: ServerRef, user = like.user): ServerRef {
  return {
    host: at.host,
    port: at.port,
    ...(user ? { user } : {}),
    ...(like.tls ? { tls: like.tls } : {}),
    ...(like.timeoutSeconds ? { timeoutSeconds: like.timeoutSeconds } : {}),
  };
}

/** The address a replica's status names as its source. */
const sourceOf = (s: ReplicaStatus) => ({ host: s.sourceHost, port: s.sourcePort });

/** Decides, on the connected (inspected) server, which server is written and which replicas are watched. */
export async function resolveServers(conn: Conn, input: MigrationInput): Promise<Servers> {
  const topology = topologyOf(input);
  const f = flavorOf(conn);
  const source = await replicaStatus(conn, f);
  const isReplica = !!source;
  const controlReplicas = (input.throttleControlReplicas ?? []).map((r) => parseHostPort(r, input.server));
  if (topology === 'master') {
    return { topology, applier: input.server, lagReplicas: controlReplicas };
  }
  const [v] = await rows(conn, replicaLogsUpdates(f));
  if (topology === 'replica' && !isReplica && !input.assumeMasterHost) {
    refuse(
      `${input.server.host}:${input.server.port} is not a replica (${replicaStatusQuery(f).sql} is empty): connect to a replica of it, ` +
        'or pass --allow-on-master to read and write the master itself',
    );
  }
  if (!isReplica && topology !== 'replica')
    refuse(`--${topology} needs a replica, but ${input.server.host}:${input.server.port} replicates from nothing`);
  if (Number(v.on_) !== 1) {
    const flag = replicaLogsUpdatesFlag(f);
    refuse(
      `${flag.slice(2).replace(/-/g, '_')} is OFF on ${input.server.host}:${input.server.port}: the replica's binlog lacks the changes it replicates, which revenant reads; start it with ${flag}`,
    );
  }
  if (topology === 'replica') {
    const master = input.assumeMasterHost
      ? parseHostPort(input.assumeMasterHost, input.server, input.masterUser ?? input.server.user)
      : sameLogin(sourceOf(must(source, 'the replica status')), input.server);
    const self = sameLogin(input.server, input.server);
    return { topology, applier: master, lagReplicas: dedupe([self, ...controlReplicas]) };
  }
  return { topology, applier: input.server, lagReplicas: controlReplicas };
}

/** The plan's part the topology decides: the applier only when it is not the server given, the watched replicas when any. */
export function placement(
  servers: Servers,
  input: MigrationInput,
): Pick<TablePlan, 'topology' | 'applier' | 'lagReplicas'> {
  return {
    topology: servers.topology,
    ...(servers.applier !== input.server ? { applier: servers.applier } : {}),
    ...(servers.lagReplicas.length ? { lagReplicas: servers.lagReplicas } : {}),
  };
}

const dedupe = (list: ServerRef[]) =>
  list.filter((s, i) => list.findIndex((x) => x.host === s.host && x.port === s.port) === i);

/** The server the ghost, the changelog and the cut-over live on. */
export const applierOf = (input: MigrationInput, plan?: Pick<TablePlan, 'applier'>): ServerRef =>
  plan?.applier ?? input.server;
