#!/usr/bin/env bash
# Start or stop a private MariaDB instance for tests, the demo and benchmarks.
#   scripts/mariadb.sh start DIR PORT [SERVER_ID] [extra mariadbd flags…]
#   scripts/mariadb.sh stop DIR
# The instance runs as root on 127.0.0.1:PORT with its data, socket and logs in DIR,
# ROW binlog with FULL images (what a migration needs), and user root without password
# over the socket plus 'revenant'@'%' with password 'revenant' for TCP.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data directory}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
case "$cmd" in
start)
  port=${3:?port}; server_id=${4:-1}; shift 4 || shift $#
  if [ -f "$dir/mariadb.pid" ] && kill -0 "$(cat "$dir/mariadb.pid")" 2>/dev/null; then
    if mariadb --no-defaults -uroot --socket="$dir/mariadb.sock" -e 'SELECT 1' >/dev/null 2>&1; then
      echo "mariadb already running in $dir"; exit 0
    fi
    # A process that does not answer is still dying (e.g. just killed): wait for it to go.
    pid=$(cat "$dir/mariadb.pid")
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  if [ ! -d "$dir/data/mysql" ]; then
    mkdir -p "$dir/data"
    mariadb-install-db --no-defaults --user=root --datadir="$dir/data" --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log"; exit 1; }
  fi
  nohup mariadbd --no-defaults --user=root --datadir="$dir/data" --socket="$dir/mariadb.sock" \
    --pid-file="$dir/mariadb.pid" --port="$port" --bind-address=127.0.0.1 \
    --log-bin="$dir/data/binlog" --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL --server-id="$server_id" \
    --log-error="$dir/error.log" --innodb-buffer-pool-size=512M --innodb-log-file-size=256M \
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --max-connections=500 \
    --event-scheduler=ON --skip-name-resolve "$@" >/dev/null 2>&1 &
  for _ in $(seq 1 120); do
    if mariadb --no-defaults -uroot --socket="$dir/mariadb.sock" -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  mariadb --no-defaults -uroot --socket="$dir/mariadb.sock" -e "
    CREATE USER IF NOT EXISTS 'revenant'@'%' IDENTIFIED BY 'revenant';
    GRANT ALL PRIVILEGES ON *.* TO 'revenant'@'%' WITH GRANT OPTION;" \
    || { echo "mariadb did not start; see $dir/error.log"; tail -20 "$dir/error.log"; exit 1; }
  echo "mariadb up on 127.0.0.1:$port (data $dir)"
  ;;
stop)
  if [ -f "$dir/mariadb.pid" ]; then
    pid=$(cat "$dir/mariadb.pid"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  ;;
*) echo "usage: $0 start|stop DIR [PORT] [SERVER_ID]"; exit 2 ;;
esac
