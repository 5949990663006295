#!/usr/bin/env bash
# The whole test suite, once against MariaDB 10.11 and once against MySQL 9.7: installs what is
# missing, starts a Temporal dev server and, for each server in turn, a private instance of it;
# runs every test file against it with node's test runner; stops everything. A summary per
# server at the end, and a failure in either fails the whole.
#   REVENANT_TEST_SERVERS="mariadb mysql" (default both)   npm test [-- dist/test/x.test.js …]
#   REVENANT_TEST_PATTERN='regex'   only the tests whose names match (node's --test-name-pattern)
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${REVENANT_TEST_SERVERS:-mariadb mysql}
bash scripts/setup.sh
case " $servers " in *" mysql "*) bash scripts/mysql.sh install >/dev/null ;; esac
work=$(mktemp -d /tmp/revenant-test.XXXXXX)
export TEMPORAL_ADDRESS=127.0.0.1:${REVENANT_TEST_TEMPORAL_PORT:-27233}
# The test workers' allowances, as an operator would write them: hooks from the tests' own
# temporary folders, throttle URLs on this machine. (MySQL logins go to loopback servers only,
# a worker's default without REVENANT_CONFIG or REVENANT_MYSQL_HOSTS; the loopback servers'
# RSA keys may be taken as they offer them.)
export REVENANT_HOOKS_DIRS=${TMPDIR:-/tmp} REVENANT_THROTTLE_HTTP_URLS=http://127.0.0.1: REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY=1
cleanup() {
  # REVENANT_TEST_KEEP=1 leaves the servers and their data (in $work) for a look after a failure.
  if [ -n "${REVENANT_TEST_KEEP:-}" ]; then echo "kept: $work"; return; fi
  bash scripts/temporal.sh stop "$work/temporal" >/dev/null 2>&1 || true
  bash scripts/mariadb.sh stop "$work/mariadb/server" >/dev/null 2>&1 || true
  bash scripts/mysql.sh prune "$work" >/dev/null 2>&1 || true
  # The instances' data and binlogs run to gigabytes: nothing of them is kept.
  rm -rf "$work"
}
trap cleanup EXIT
bash scripts/temporal.sh start "$work/temporal" "${TEMPORAL_ADDRESS##*:}" $(( ${TEMPORAL_ADDRESS##*:} + 1000 ))
files=("$@"); [ ${#files[@]} -gt 0 ] || files=(dist/test/*.test.js)

summary=(); failed=0; total_pass=0; total_fail=0
for server in $servers; do
  # Each server's run has ports and a work folder of its own: nothing of one run meets the next.
  offset=0; [ "$server" = mysql ] && offset=100
  export REVENANT_TEST_SERVER=$server
  export REVENANT_TEST_WORK=$work/$server
  export REVENANT_TEST_MYSQL_PORT=$(( ${REVENANT_TEST_MYSQL_PORT_BASE:-23306} + offset ))
  export REVENANT_TEST_FAULT_MYSQL_PORT=$(( 23307 + offset )) REVENANT_TEST_NOBINLOG_PORT=$(( 23308 + offset ))
  export REVENANT_TEST_TOPO_MASTER_PORT=$(( 23310 + offset )) REVENANT_TEST_TOPO_REPLICA_PORT=$(( 23311 + offset ))
  export REVENANT_TEST_FAILOVER_PORT=$(( 23313 + offset ))
  export REVENANT_TEST_FAULT_TEMPORAL_PORT=$(( 27300 + offset ))
  mkdir -p "$REVENANT_TEST_WORK"
  echo "==== $server: every test file against a private $server on 127.0.0.1:$REVENANT_TEST_MYSQL_PORT"
  bash "scripts/$server.sh" start "$REVENANT_TEST_WORK/server" "$REVENANT_TEST_MYSQL_PORT" 1
  start=$(date +%s)
  log="$REVENANT_TEST_WORK/node-test.log"
  set +e
  pattern=(); [ -z "${REVENANT_TEST_PATTERN:-}" ] || pattern=(--test-name-pattern="$REVENANT_TEST_PATTERN")
  node --test --test-concurrency=1 --test-force-exit --test-reporter=spec "${pattern[@]}" "${files[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  pass=$(grep -aE '^ℹ pass [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  fail=$(grep -aE '^ℹ fail [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
  summary+=("$server: $pass passed, $fail failed, exit $rc, $(( $(date +%s) - start )) s")
  [ "$rc" = 0 ] || failed=1
  if [ "$server" = mysql ]; then bash scripts/mysql.sh remove "$REVENANT_TEST_WORK/server" >/dev/null 2>&1 || true
  else bash scripts/mariadb.sh stop "$REVENANT_TEST_WORK/server" >/dev/null 2>&1 || true; fi
done
echo "==== summary"
for line in "${summary[@]}"; do echo "  $line"; done
echo "suite: $total_pass passed, $total_fail failed"
exit $failed
