#!/usr/bin/env bash
# The whole test suite, one pass per database server, the passes side by side: installs what
# is missing, then each pass starts its own Temporal dev server and its own private instance
# of its server (ports and work folder of its own: nothing of one pass meets another), and
# runs every test file against them, one file at a time. A line per file as it ends; at the
# end each pass's totals and wall time, the ten slowest files, and the output of every file
# that failed. A failure in any pass fails the whole.
#   REVENANT_TEST_SERVERS="mariadb mysql" (default: mariadb mysql mariadb11)   npm test [-- dist/test/integration/x.test.js …]
#   REVENANT_TEST_PATTERN='regex'   only the tests whose names match (node's --test-name-pattern)
#   REVENANT_TEST_KEEP=1            leave the servers and their data for a look after a failure
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${REVENANT_TEST_SERVERS:-mariadb mysql mariadb11}
bash scripts/setup.sh
# MariaDB 11.8 (Debian 13's) runs from a trixie root, as MySQL 9.7 from a sid root: both kept.
MARIADB11_ROOT=${REVENANT_MARIADB11_ROOT:-/var/lib/revenant/mariadb-trixie}
case " $servers " in *" mysql "*) bash scripts/mysql.sh install >/dev/null ;; esac
case " $servers " in *" mariadb11 "*) REVENANT_MARIADB_ROOT=$MARIADB11_ROOT bash scripts/mariadb.sh install >/dev/null ;; esac
work=$(mktemp -d /tmp/revenant-test.XXXXXX)
logs=${REVENANT_TEST_LOGS:-/tmp/revenant-test-logs}
rm -rf "$logs" && mkdir -p "$logs"
# The test workers' allowances, as an operator would write them: hooks from the tests' own
# temporary folders, throttle URLs on this machine. (MySQL logins go to loopback servers only,
# a worker's default without REVENANT_CONFIG or REVENANT_MYSQL_HOSTS; the loopback servers'
# RSA keys may be taken as they offer them.)
export REVENANT_HOOKS_DIRS=${TMPDIR:-/tmp} REVENANT_MYSQL_SSL_DIRS=${TMPDIR:-/tmp}:/var/lib/revenant REVENANT_THROTTLE_HTTP_URLS=http://127.0.0.1: REVENANT_MYSQL_GET_SERVER_PUBLIC_KEY=1
files=("$@"); [ ${#files[@]} -gt 0 ] || files=(dist/test/integration/*.test.js)
pattern=(); [ -z "${REVENANT_TEST_PATTERN:-}" ] || pattern=(--test-name-pattern="$REVENANT_TEST_PATTERN")

# A count from the closing lines of node's spec reporter in LOG (pass, fail, skipped); 0 if none.
count() { grep -aE "^ℹ $1 [0-9]+" "$2" | tail -1 | grep -oE '[0-9]+' || echo 0; }

# The tests that need no server first (seconds): a failure there stops the run before any
# server starts. Only when the whole suite runs (no files named).
unit_pass=0; unit_fail=0; unit_skip=0
if [ $# -eq 0 ]; then
  echo "==== unit: the tests that need no server"
  set +e
  node --test --test-force-exit --test-reporter=spec "${pattern[@]}" dist/test/unit/ >"$logs/unit.log" 2>&1
  rc=$?
  set -e
  unit_pass=$(count pass "$logs/unit.log")
  unit_fail=$(count fail "$logs/unit.log")
  unit_skip=$(count skipped "$logs/unit.log")
  echo "  unit: $unit_pass passed, $unit_fail failed, $unit_skip skipped"
  if [ "$rc" != 0 ]; then
    cat "$logs/unit.log"
    echo "suite: $unit_pass passed, $unit_fail failed"
    exit 1
  fi
fi

# The script of a pass's server, and the root it runs from (the host's MariaDB: none).
script_of() { case $1 in mysql) echo mysql ;; *) echo mariadb ;; esac; }
root_of() { [ "$1" = mariadb11 ] && echo "$MARIADB11_ROOT" || true; }

stop_pass() { # server folder
  bash scripts/temporal.sh stop "$2/temporal" >/dev/null 2>&1 || true
  REVENANT_MARIADB_ROOT=$(root_of "$1") bash "scripts/$(script_of "$1").sh" prune "$2" >/dev/null 2>&1 || true
}

# One pass: its own ports (offset 100 apart), Temporal, server and work folder; the files in
# turn. Writes <pass>/results.tsv (file, seconds, passed, failed, skipped, exit code).
run_pass() { # server offset
  local server=$1 offset=$2 dir=$work/$1 script
  script=$(script_of "$server")
  mkdir -p "$dir" "$logs/$server"
  # The tests know two kinds of server (REVENANT_TEST_SERVER); the pass's name says which one
  # (REVENANT_TEST_PASS, with the suite's passes in REVENANT_TEST_PASSES: each server-independent
  # test runs on one pass only, see onePass in test/support/helpers.ts), and every MariaDB
  # instance a test starts comes from the pass's root.
  export REVENANT_TEST_SERVER=$script REVENANT_TEST_PASS=$server REVENANT_TEST_PASSES="$servers" REVENANT_TEST_WORK=$dir REVENANT_TEST_PORT_OFFSET=$offset
  export REVENANT_MARIADB_ROOT; REVENANT_MARIADB_ROOT=$(root_of "$server")
  export TEMPORAL_ADDRESS=127.0.0.1:$(( ${REVENANT_TEST_TEMPORAL_PORT:-27233} + offset ))
  export REVENANT_TEST_MYSQL_PORT=$(( ${REVENANT_TEST_MYSQL_PORT_BASE:-23306} + offset ))
  export REVENANT_TEST_FAULT_MYSQL_PORT=$(( 23307 + offset )) REVENANT_TEST_NOBINLOG_PORT=$(( 23308 + offset ))
  export REVENANT_TEST_TOPO_MASTER_PORT=$(( 23310 + offset )) REVENANT_TEST_TOPO_REPLICA_PORT=$(( 23311 + offset ))
  export REVENANT_TEST_FAILOVER_PORT=$(( 23313 + offset ))
  export REVENANT_TEST_FAULT_TEMPORAL_PORT=$(( 27300 + offset ))
  local port=${TEMPORAL_ADDRESS##*:}
  bash scripts/temporal.sh start "$dir/temporal" "$port" $(( port + 1000 )) >"$logs/$server/setup.log" 2>&1
  bash "scripts/$script.sh" start "$dir/server" "$REVENANT_TEST_MYSQL_PORT" 1 >>"$logs/$server/setup.log" 2>&1
  echo "[$server] Temporal on $TEMPORAL_ADDRESS; $(tail -1 "$logs/$server/setup.log")"
  : >"$dir/results.tsv"
  local f name start rc log
  for f in "${files[@]}"; do
    name=$(basename "$f" .js)
    log="$logs/$server/$name.log"
    start=$(date +%s%N)
    set +e
    node --test --test-concurrency=1 --test-force-exit --test-reporter=spec "${pattern[@]}" "$f" >"$log" 2>&1
    rc=$?
    set -e
    local secs pass fail skip
    secs=$(( ($(date +%s%N) - start) / 1000000000 ))
    pass=$(count pass "$log")
    fail=$(count fail "$log")
    skip=$(count skipped "$log")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$pass" "$fail" "$skip" "$rc" >>"$dir/results.tsv"
    printf '[%s] %s %-28s %4s s: %s passed, %s failed, %s skipped\n' "$server" "$([ "$rc" = 0 ] && echo ok || echo FAILED)" \
      "$name" "$secs" "$pass" "$fail" "$skip"
  done
  [ -n "${REVENANT_TEST_KEEP:-}" ] || stop_pass "$server" "$dir"
}

cleanup() {
  if [ -n "${REVENANT_TEST_KEEP:-}" ]; then echo "kept: $work"; return; fi
  for server in $servers; do stop_pass "$server" "$work/$server"; done
  # The instances' data and binlogs run to gigabytes: nothing of them is kept (the logs are).
  rm -rf "$work"
}
trap cleanup EXIT

started=$(date +%s)
declare -A offsets=([mariadb]=0 [mysql]=100 [mariadb11]=200)
pids=()
for server in $servers; do
  echo "==== $server: every test file against a private $server"
  # REVENANT_TEST_PORT_SHIFT moves every port of every pass (a second suite beside a first).
  ( run_pass "$server" $(( ${offsets[$server]:-300} + ${REVENANT_TEST_PORT_SHIFT:-0} )); echo $(( $(date +%s) - started )) >"$work/$server/wall" ) &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done

echo "==== summary (logs of every file in $logs)"
total_pass=$unit_pass; total_fail=$unit_fail; total_skip=$unit_skip
for server in $servers; do
  r=$work/$server/results.tsv
  [ -f "$r" ] || { echo "  $server: did not run:"; tail -5 "$logs/$server/setup.log" 2>/dev/null | sed 's/^/    /'; failed=1; continue; }
  read -r p f s < <(awk -F'\t' '{p+=$3; f+=$4; s+=$5} END {print p+0, f+0, s+0}' "$r")
  bad=$(awk -F'\t' '$6 != 0' "$r" | wc -l)
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
  [ "$bad" = 0 ] || failed=1
  echo "  $server: $p passed, $f failed, $s skipped, $bad file(s) failed, $(cat "$work/$server/wall" 2>/dev/null || echo '?') s wall"
done
echo "  the ten slowest files:"
for server in $servers; do sed "s/^/$server\t/" "$work/$server/results.tsv" 2>/dev/null; done | sort -t$'\t' -k3,3nr | head -10 |
  awk -F'\t' '{printf "    %5d s  %s %s\n", $3, $1, $2}'
failed_files=()
for server in $servers; do
  while read -r name; do failed_files+=("$server $name"); done < <(awk -F'\t' '$6 != 0 {print $1}' "$work/$server/results.tsv" 2>/dev/null)
done
for f in "${failed_files[@]}"; do
  read -r server name <<<"$f"
  echo "==== $server: $name failed; its output:"
  cat "$logs/$server/$name.log"
done
# CI keeps only the output's tail: each failure in brief last, so that every one is seen there.
for f in "${failed_files[@]}"; do
  read -r server name <<<"$f"
  echo "==== in brief, $server $name:"
  sed -n '/^✖ failing tests:/,$p' "$logs/$server/$name.log" | grep -v '^ *at ' | head -25
done
echo "  whole suite: $(( $(date +%s) - started )) s"
echo "suite: $total_pass passed, $total_fail failed, $total_skip skipped"
exit $failed
