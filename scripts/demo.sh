#!/usr/bin/env bash
# The demo: a local MariaDB (or, with --mysql or REVENANT_SERVER=mysql, MySQL 9.7) and Temporal,
# a sysbench table of ROWS rows (default 1,000,000)
# under sysbench write load, migrated online by `revenant migrate` with its live status line
# (and --checksum: the ghost compared with the original before the cut-over), then a checksum
# comparison of the migrated table against the original (writes stopped just before the
# cut-over, via gh-ost's postpone flag file).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
SERVER=${REVENANT_SERVER:-mariadb}
[ "${1:-}" = --mysql ] && SERVER=mysql
[ "${1:-}" = --mariadb ] && SERVER=mariadb
case "$SERVER" in mariadb|mysql) ;; *) echo "REVENANT_SERVER is mariadb or mysql, not $SERVER"; exit 2 ;; esac
PORT=${REVENANT_DEMO_PORT:-$([ "$SERVER" = mysql ] && echo 33406 || echo 33306)}
HOME_DIR=${REVENANT_HOME:-$HOME/.revenant}
export REVENANT_HOME=$HOME_DIR
bash scripts/setup.sh
bash "scripts/$SERVER.sh" start "$HOME_DIR/demo-$SERVER" "$PORT" 1
M=(mariadb --no-defaults -h127.0.0.1 -P"$PORT" -urevenant -prevenant)
SB=(sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$PORT" --mysql-user=revenant --mysql-password=revenant --mysql-db=sbtest --tables=1 --table-size="$ROWS")

echo "== preparing sbtest.sbtest1 with $ROWS rows (sysbench)"
"${M[@]}" -e 'DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest'
"${SB[@]}" --threads=2 prepare >/dev/null

echo "== starting sysbench oltp_write_only load (200 tx/s)"
"${SB[@]}" --threads=4 --rate=200 --time=0 --report-interval=0 run >"$HOME_DIR/demo-sysbench.log" 2>&1 &
load=$!
flag=$(mktemp "$HOME_DIR/postpone-cut-over.XXXXXX")
stop_load() { kill "$load" 2>/dev/null || true; wait "$load" 2>/dev/null || true; }
trap 'stop_load; rm -f "$flag"' EXIT

# When the copy is done (state postponed), stop the load and let the cut-over go.
(
  while sleep 1; do
    if node bin/revenant.js status --host 127.0.0.1 --port "$PORT" --database sbtest --table sbtest1 2>/dev/null | grep -q 'State: postponed'; then
      kill "$load" 2>/dev/null || true
      sleep 1; rm -f "$flag"; exit 0
    fi
  done
) &
watcher=$!

echo "== revenant migrate (ALTER: ADD COLUMN revenant_demo INT NOT NULL DEFAULT 0)"
start=$(date +%s)
node bin/revenant.js migrate --host 127.0.0.1 --port "$PORT" --user revenant --password revenant \
  --database sbtest --table sbtest1 --alter "ADD COLUMN revenant_demo INT NOT NULL DEFAULT 0" \
  --allow-on-master --execute --checksum --chunk-size 2000 --postpone-cut-over-flag-file "$flag"
end=$(date +%s)
kill "$watcher" 2>/dev/null || true
stop_load

sum() { "${M[@]}" -N -e "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', id, k, c, pad))), SUM(CRC32(CONCAT_WS('|', id, k, c, pad))) FROM sbtest.$1"; }
orig=$(sum _sbtest1_del); new=$(sum sbtest1)
echo "== checksum (rows, xor, sum) original: $orig"
echo "== checksum (rows, xor, sum) migrated: $new"
echo "== migration took $((end - start))s; Temporal Web UI: http://127.0.0.1:8233 (namespace default)"
echo "   stop the servers: bash scripts/$SERVER.sh stop $HOME_DIR/demo-$SERVER; node bin/revenant.js server stop"
[ "$orig" = "$new" ] && echo "== EQUAL: the migrated table matches the original row for row" || { echo "== DIFFERENT"; exit 1; }
