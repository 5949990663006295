#!/usr/bin/env bash
# The production shape of docker-compose.yml, run on this machine without Docker (the README's
# "Production shape" maps one to the other):
#   - PostgreSQL (Debian's) holding Temporal's persistence and its visibility (search attributes);
#   - two Temporal server nodes (all four services each; one cluster, found through the
#     database's membership table), built from go.temporal.io/server, behind a TCP load balancer
#     (Debian's haproxy) on one address, as a production frontend is; mutual TLS everywhere
#     (frontends and nodes, certificates from the cluster's own CA, scripts/cluster/make-certs.sh):
#     a client without a certificate that CA signed is refused;
#   - the default namespace and revenant's search attributes registered (the dev server does both
#     itself; a cluster does neither);
#   - a MySQL 9.7 master (GTIDs, ROW binlog, FULL images) and a GTID replica of it; the workers log
#     in as `migrator`, with gh-ost's grants only (not ALL);
#   - two `revenant worker` processes, each in a network namespace of its own (its own address on
#     a bridge: a "host" that can be cut off or killed as a whole), configured as production
#     workers are: an envconfig profile (TEMPORAL_CONFIG_FILE/TEMPORAL_PROFILE), REVENANT_CONFIG
#     for the MySQL login, metrics on REVENANT_METRICS_ADDRESS, JSON logs.
# Needs root (network namespaces, chroot for MySQL).
#
#   scripts/cluster.sh up | down | status
#   scripts/cluster.sh env                        (the variables a client on this host sets: the
#                                                  operator's profile, with its client certificate)
#   scripts/cluster.sh temporal-node N kill|start (N: 1 or 2)
#   scripts/cluster.sh worker N kill|start|cut|uncut
#   scripts/cluster.sh mysql restart|kill|start
#   scripts/cluster.sh test                       (test/cluster-faults.ts on the cluster: faults under load)
#
# REVENANT_CLUSTER_DIR (default /tmp/revenant-cluster) holds every process's data, logs and pids;
# ports are 29xxx (REVENANT_CLUSTER_PORT_BASE, default 29000).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DIR=${REVENANT_CLUSTER_DIR:-/tmp/revenant-cluster}
BASE=${REVENANT_CLUSTER_PORT_BASE:-29000}
TEMPORAL_VERSION=1.32.2
# go.temporal.io/server 1.32 needs a newer Go than Debian 12's; the Go module proxy serves it.
GO_TOOLCHAIN=go1.27.3
TEMPORAL_BIN=${REVENANT_TEMPORAL_SERVER_BIN:-/var/lib/revenant/temporal-server-$TEMPORAL_VERSION}
PG_BIN=/usr/lib/postgresql/15/bin
BRIDGE=rv-br0
HOST_IP=10.77.0.1
PG_PORT=$((BASE + 432))
LB_PORT=$((BASE + 233))         # the frontend address everyone uses (haproxy)
MASTER_PORT=$((BASE + 306))
REPLICA_PORT=$((BASE + 307))
TLS=$DIR/tls
# The operator's certificate, for every `temporal` command this script runs.
TLS_ARGS=(--tls-cert-path "$TLS/operator.pem" --tls-key-path "$TLS/operator.key" --tls-ca-path "$TLS/ca.pem" --tls-server-name temporal)
# The workers' MySQL account: gh-ost's documented grants, nothing more (no ALL, no GRANT OPTION,
# no SUPER). The tests' own account, revenant, stays the administrator's.
MIGRATOR_GRANTS="ALTER, CREATE, DELETE, DROP, INDEX, INSERT, LOCK TABLES, SELECT, TRIGGER, UPDATE, REPLICATION CLIENT, REPLICATION SLAVE, PROCESS"
node_port() { echo $((BASE + 240 + ($1 - 1) * 20 + $2)); } # node N's port number K (0..9)

install() {
  local need=()
  command -v haproxy >/dev/null || need+=(haproxy)
  [ -x "$PG_BIN/initdb" ] || need+=(postgresql)
  command -v ip >/dev/null || need+=(iproute2)
  command -v envsubst >/dev/null || need+=(gettext-base)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  # Debian starts a packaged PostgreSQL of its own on 5432; ours is a private one, on PG_PORT.
  bash scripts/setup.sh >/dev/null
  bash scripts/mysql.sh install >/dev/null
  if [ ! -x "$TEMPORAL_BIN/server" ] || [ ! -x "$TEMPORAL_BIN/sql" ]; then
    echo "building the Temporal server $TEMPORAL_VERSION and its SQL schema tool (several minutes, once)" >&2
    mkdir -p "$TEMPORAL_BIN"
    GOTOOLCHAIN=$GO_TOOLCHAIN GOBIN="$TEMPORAL_BIN" go install "go.temporal.io/server/cmd/server@v$TEMPORAL_VERSION"
    GOTOOLCHAIN=$GO_TOOLCHAIN GOBIN="$TEMPORAL_BIN" go install "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_VERSION"
  fi
}

# The server module's own schema files (the SQL tool applies them).
schema_dir() {
  GOTOOLCHAIN=$GO_TOOLCHAIN go mod download -json "go.temporal.io/server@v$TEMPORAL_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pid() {
  local f=$1 sig=${2:-TERM}
  if alive "$f"; then
    local pid; pid=$(cat "$f"); kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
wait_for() { # what, command…
  local what=$1; shift
  for _ in $(seq 1 240); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "$what did not come up" >&2; return 1
}

postgres_up() {
  mkdir -p "$DIR/postgres"; chown postgres: "$DIR/postgres"
  if [ ! -f "$DIR/postgres/data/PG_VERSION" ]; then
    echo temporal >"$DIR/postgres/pw"; chown postgres: "$DIR/postgres/pw"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$DIR/postgres/data" -U temporal --pwfile="$DIR/postgres/pw" \
      --auth-local=trust --auth-host=scram-sha-256 >"$DIR/postgres/initdb.log"
  fi
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DIR/postgres/data" -l "$DIR/postgres/postgres.log" -w \
    -o "-p $PG_PORT -k $DIR/postgres -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
}

schema_up() {
  local sql=("$TEMPORAL_BIN/sql" --plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u temporal --pw temporal)
  local src; src=$(schema_dir)/schema/postgresql/v12
  for db in temporal temporal_visibility; do
    local versioned=$src/temporal/versioned; [ "$db" = temporal ] || versioned=$src/visibility/versioned
    "${sql[@]}" --db "$db" create-database >/dev/null 2>&1 || true # already there on a second `up`
    "${sql[@]}" --db "$db" setup-schema -v 0.0 >/dev/null 2>&1 || true
    "${sql[@]}" --db "$db" update-schema -d "$versioned" >"$DIR/schema-$db.log" 2>&1 || { cat "$DIR/schema-$db.log"; return 1; }
  done
}

certs_up() {
  # Kept across `up`s of one cluster folder; the workers reach the frontend at the bridge's address.
  sh scripts/cluster/make-certs.sh "$TLS" "IP:$HOST_IP"
}

temporal_config() { # node
  local n=$1 p; p() { node_port "$n" "$1"; }
  mkdir -p "$DIR/temporal-$n"
  cat >"$DIR/temporal-$n/config.yaml" <<EOF
# Temporal node $n of 2 (generated by scripts/cluster.sh). The other node differs only in ports.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 16
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: 127.0.0.1:$PG_PORT
        connectProtocol: tcp
        user: temporal
        password: temporal
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: 127.0.0.1:$PG_PORT
        connectProtocol: tcp
        user: temporal
        password: temporal
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  # Mutual TLS: clients (workers, the CLI, the system workers) and the nodes among themselves
  # show a certificate of the cluster's CA, or are refused.
  # One set of settings for both (a YAML anchor).
  tls:
    internode: &mtls
      server:
        certFile: $TLS/server.pem
        keyFile: $TLS/server.key
        requireClientAuth: true
        clientCaFiles: [$TLS/ca.pem]
      client:
        serverName: temporal
        rootCaFiles: [$TLS/ca.pem]
    frontend: *mtls
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: 127.0.0.1:$(p 9)
services:
  frontend:
    rpc: { grpcPort: $(p 0), membershipPort: $(p 1), httpPort: $(p 2), bindOnIP: 127.0.0.1 }
  history:
    rpc: { grpcPort: $(p 3), membershipPort: $(p 4), bindOnIP: 127.0.0.1 }
  matching:
    rpc: { grpcPort: $(p 5), membershipPort: $(p 6), bindOnIP: 127.0.0.1 }
  worker:
    rpc: { grpcPort: $(p 7), membershipPort: $(p 8), bindOnIP: 127.0.0.1 }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:$LB_PORT
# The system workers reach the frontend through the load balancer, as clients do.
publicClient:
  hostPort: 127.0.0.1:$LB_PORT
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: $REPO/scripts/cluster/dynamicconfig.yaml
  pollInterval: 10s
EOF
}

temporal_node() { # N start|kill
  local n=$1 pidf="$DIR/temporal-$1/server.pid"
  case $2 in
  start)
    alive "$pidf" && return 0
    temporal_config "$n"
    # --allow-no-auth: no authorizer (every caller Temporal lets in may do everything); who is let
    # in is decided by mTLS above: only holders of a certificate of the cluster's CA.
    nohup "$TEMPORAL_BIN/server" --config-file "$DIR/temporal-$n/config.yaml" --allow-no-auth start \
      >>"$DIR/temporal-$n/server.log" 2>&1 &
    echo $! >"$pidf"
    wait_for "Temporal node $n" temporal operator cluster health --address "127.0.0.1:$(node_port "$n" 0)" "${TLS_ARGS[@]}"
    ;;
  kill) alive "$pidf" && kill -9 "$(cat "$pidf")"; rm -f "$pidf" ;;
  esac
}

lb_up() {
  cat >"$DIR/haproxy.cfg" <<EOF
# The frontend's one address: gRPC over TCP to whichever node answers (generated by scripts/cluster.sh).
global
  maxconn 2000
defaults
  mode tcp
  timeout connect 2s
  timeout client 10m
  timeout server 10m
  option redispatch
  retries 3
frontend temporal
  bind 127.0.0.1:$LB_PORT
  bind $HOST_IP:$LB_PORT
  default_backend nodes
backend nodes
  balance roundrobin
  server node1 127.0.0.1:$(node_port 1 0) check inter 1s fall 2 rise 2
  server node2 127.0.0.1:$(node_port 2 0) check inter 1s fall 2 rise 2
EOF
  stop_pid "$DIR/haproxy.pid"
  haproxy -D -f "$DIR/haproxy.cfg" -p "$DIR/haproxy.pid"
}

namespace_up() {
  local t=(--address "127.0.0.1:$LB_PORT" "${TLS_ARGS[@]}")
  temporal operator namespace describe --namespace default "${t[@]}" >/dev/null 2>&1 ||
    temporal operator namespace create --namespace default --retention 72h "${t[@]}" >/dev/null
  # The namespace reaches every frontend's cache within its refresh interval.
  wait_for "the default namespace" temporal workflow list --namespace default "${t[@]}" --limit 1
  # revenant's search attributes (workflows/search-attributes.ts): on SQL visibility each takes
  # one of a fixed number of prepared columns of its type.
  temporal operator search-attribute create --namespace default "${t[@]}" \
    --name RevenantDatabase --type Keyword --name RevenantTable --type Keyword \
    --name RevenantPhase --type Keyword --name RevenantProgress --type Double --name RevenantFleet --type Keyword >/dev/null 2>&1 || true
  wait_for "revenant's search attributes" bash -c "temporal operator search-attribute list --namespace default ${t[*]} | grep -q RevenantFleet"
}

network_up() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || {
    ip link add "$BRIDGE" type bridge
    ip addr add "$HOST_IP/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  }
  for n in 1 2; do
    ip netns list | grep -qw "rv-w$n" && continue
    ip netns add "rv-w$n"
    ip link add "rv-w$n-h" type veth peer name "rv-w$n-n"
    ip link set "rv-w$n-n" netns "rv-w$n"
    ip link set "rv-w$n-h" master "$BRIDGE" up
    ip netns exec "rv-w$n" ip addr add "10.77.0.1$n/24" dev "rv-w$n-n"
    ip netns exec "rv-w$n" ip link set "rv-w$n-n" up
    ip netns exec "rv-w$n" ip link set lo up
  done
}

network_down() {
  for n in 1 2; do ip netns del "rv-w$n" 2>/dev/null || true; ip link del "rv-w$n-h" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
}

mysql_up() {
  # Both listen on every address: the workers reach them at the bridge's $HOST_IP.
  bash scripts/mysql.sh start "$DIR/mysql-master" "$MASTER_PORT" 1 --bind-address=0.0.0.0 >/dev/null
  bash scripts/mysql.sh start "$DIR/mysql-replica" "$REPLICA_PORT" 2 --bind-address=0.0.0.0 --read-only=ON >/dev/null
  if [ -z "$(bash scripts/mysql.sh client "$DIR/mysql-replica" -N -e 'SHOW REPLICA STATUS')" ]; then
    bash scripts/mysql.sh client "$DIR/mysql-replica" -e "CHANGE REPLICATION SOURCE TO SOURCE_HOST = '$HOST_IP',
      SOURCE_PORT = $MASTER_PORT, SOURCE_USER = 'revenant', SOURCE_PASSWORD = 'revenant', SOURCE_AUTO_POSITION = 1,
      GET_SOURCE_PUBLIC_KEY = 1; START REPLICA"
  fi
  # Created on the master once replication runs: the replica gets the account through the binlog.
  bash scripts/mysql.sh client "$DIR/mysql-master" -e "CREATE USER IF NOT EXISTS 'migrator'@'%'
    IDENTIFIED WITH caching_sha2_password BY 'migrator'; GRANT $MIGRATOR_GRANTS ON *.* TO 'migrator'@'%'"
}

worker_files() {
  # How a production worker is configured: where Temporal is (an envconfig profile), the MySQL
  # login (REVENANT_CONFIG, readable by the worker's user only), nothing else.
  # Two profiles: the workers' (their certificate) and the operators' (theirs), one CA.
  profile() { # name address certificate
    printf '[profile.%s]\naddress = "%s"\nnamespace = "default"\n[profile.%s.tls]\n' "$1" "$2" "$1"
    printf 'client_cert_path = "%s"\nclient_key_path = "%s"\n' "$TLS/$3.pem" "$TLS/$3.key"
    printf 'server_ca_cert_path = "%s"\nserver_name = "temporal"\n\n' "$TLS/ca.pem"
  }
  { profile cluster "$HOST_IP:$LB_PORT" worker; profile operator "127.0.0.1:$LB_PORT" operator; } >"$DIR/temporal.toml"
  # The MySQL logins: the two servers only (no "default": the worker refuses any other), as the
  # least-privilege account, over plain TCP with each server's own RSA key, which the worker is
  # given beforehand (it never takes the key a server offers).
  local keys="$DIR/mysql-master/instance/data/public_key.pem" rkeys="$DIR/mysql-replica/instance/data/public_key.pem"
  (umask 077; cat >"$DIR/revenant-worker.json" <<EOF
{"mysql": {
  "$HOST_IP:$MASTER_PORT": {"user": "migrator", "password": "migrator", "serverPublicKey": "$keys"},
  "$HOST_IP:$REPLICA_PORT": {"user": "migrator", "password": "migrator", "serverPublicKey": "$rkeys"}}}
EOF
  )
}

worker() { # N start|kill|cut|uncut
  local n=$1 pidf="$DIR/worker-$1.pid"
  case $2 in
  start)
    alive "$pidf" && return 0
    worker_files
    ip netns exec "rv-w$n" env TEMPORAL_CONFIG_FILE="$DIR/temporal.toml" TEMPORAL_PROFILE=cluster \
      REVENANT_CONFIG="$DIR/revenant-worker.json" REVENANT_METRICS_ADDRESS="0.0.0.0:9464" REVENANT_LOG_FORMAT=json \
      MALLOC_ARENA_MAX=2 nohup node "$REPO/bin/revenant.js" worker >>"$DIR/worker-$n.log" 2>&1 &
    echo $! >"$pidf"
    wait_for "worker $n" grep -q 'revenant worker started' "$DIR/worker-$n.log"
    ;;
  kill) alive "$pidf" && kill -9 "$(cat "$pidf")"; rm -f "$pidf" ;;
  cut) ip link set "rv-w$n-h" down ;;
  uncut) ip link set "rv-w$n-h" up ;;
  esac
}

client_env() {
  echo "export TEMPORAL_CONFIG_FILE=$DIR/temporal.toml TEMPORAL_PROFILE=operator"
  echo "# MySQL master $HOST_IP:$MASTER_PORT, replica $HOST_IP:$REPLICA_PORT (user revenant); workers' metrics http://10.77.0.11:9464/metrics, http://10.77.0.12:9464/metrics"
}

up() {
  install
  mkdir -p "$DIR"
  certs_up
  network_up
  postgres_up
  schema_up
  temporal_node 1 start
  temporal_node 2 start
  lb_up
  namespace_up
  mysql_up
  worker 1 start
  worker 2 start
  echo "cluster up in $DIR: Temporal nodes 127.0.0.1:$(node_port 1 0) and :$(node_port 2 0) behind $HOST_IP:$LB_PORT," \
    "PostgreSQL 127.0.0.1:$PG_PORT, MySQL master $HOST_IP:$MASTER_PORT and replica :$REPLICA_PORT, workers in namespaces rv-w1 (10.77.0.11) and rv-w2 (10.77.0.12)"
  client_env
}

down() {
  for n in 1 2; do worker "$n" kill || true; done
  for n in 1 2; do stop_pid "$DIR/temporal-$n/server.pid"; done
  stop_pid "$DIR/haproxy.pid"
  bash scripts/mysql.sh remove "$DIR/mysql-replica" >/dev/null 2>&1 || true
  bash scripts/mysql.sh remove "$DIR/mysql-master" >/dev/null 2>&1 || true
  [ -d "$DIR/postgres/data" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DIR/postgres/data" -m fast stop >/dev/null 2>&1 || true
  network_down
  rm -rf "$DIR"
}

status() {
  for n in 1 2; do echo "temporal node $n: $(alive "$DIR/temporal-$n/server.pid" && echo up || echo down)"; done
  for n in 1 2; do echo "worker $n: $(alive "$DIR/worker-$n.pid" && echo up || echo down), link $(ip -br link show "rv-w$n-h" 2>/dev/null | awk '{print $2}')"; done
  temporal operator cluster health --address "127.0.0.1:$LB_PORT" "${TLS_ARGS[@]}" 2>&1 | head -1
}

cmd=${1:?up|down|status|env|temporal-node|worker|mysql|test}
case "$cmd" in
up) up ;;
down) down ;;
status) status ;;
env) client_env ;;
temporal-node) temporal_node "${2:?node}" "${3:?kill|start}" ;;
worker) worker "${2:?worker}" "${3:?kill|start|cut|uncut}" ;;
mysql)
  case ${2:?restart|kill|start} in
  restart) bash scripts/mysql.sh stop "$DIR/mysql-master" >/dev/null; mysql_up ;;
  kill) kill -9 "$(cat "$DIR/mysql-master/mysqld.pid")" ;;
  start) mysql_up ;;
  esac ;;
test)
  REVENANT_CLUSTER_DIR=$DIR REVENANT_TEST_SERVER=mysql REVENANT_TEST_MYSQL_PORT=$MASTER_PORT REVENANT_CLUSTER_REPLICA_PORT=$REPLICA_PORT \
    TEMPORAL_CONFIG_FILE=$DIR/temporal.toml TEMPORAL_PROFILE=operator REVENANT_CLUSTER_HOST=$HOST_IP \
    node --test --test-reporter=spec "${@:2}" dist/test/support/cluster-faults.js ;;
*) echo "usage: $0 up|down|status|env|temporal-node N kill|start|worker N kill|start|cut|uncut|mysql restart|kill|start|test" >&2; exit 2 ;;
esac
