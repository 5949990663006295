#!/usr/bin/env bash
# Install, start or stop a private Oracle MySQL instance for tests, the demo and benchmarks.
#   scripts/mysql.sh install
#   scripts/mysql.sh start DIR PORT [SERVER_ID] [extra mysqld flags…]
#   scripts/mysql.sh stop DIR
#   scripts/mysql.sh remove DIR          (stop, then delete the instance's data)
#   scripts/mysql.sh prune FOLDER        (stop and delete every instance whose DIR is under FOLDER)
#   scripts/mysql.sh client DIR [mysql args…]   (the root client over the instance's socket)
#
# Debian 12 carries no MySQL; Debian sid carries mysql-server-core 9.7 (the current LTS), built
# for a newer glibc. So `install` debootstraps a minimal sid root into a folder
# (REVENANT_MYSQL_ROOT, default /var/lib/revenant/mysql-sid; about 800 MB, kept between runs)
# and installs MySQL there; `start` runs its mysqld through chroot. It serves 127.0.0.1:PORT to
# the host like any server. The instance's data lives inside the root (the chroot sees nothing
# else), under instances/<DIR's path>; DIR on the host holds a link to it and the pid.
#
# As scripts/mariadb.sh: ROW binlog with FULL images, GTIDs on (gtid_mode=ON, as production
# MySQL runs), root without password over the socket and 'revenant'@'%' with password
# 'revenant' over TCP, authenticated by caching_sha2_password (MySQL 9's only built-in method).
set -euo pipefail
ROOT=${REVENANT_MYSQL_ROOT:-/var/lib/revenant/mysql-sid}
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
APT=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3 -o Dpkg::Use-Pty=0)

# The Debian mirror this machine's apt already uses (its sources name it), for the sid root.
mirror() {
  local m
  m=$(grep -hoE '^(URIs:|deb)\s+https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | grep -E '/debian/?$' | head -1) || true
  echo "${m:-http://deb.debian.org/debian}"
}

install() {
  if [ -x "$ROOT/usr/sbin/mysqld" ] && [ -x "$ROOT/usr/bin/mysql" ]; then return 0; fi
  command -v debootstrap >/dev/null || {
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debootstrap >/dev/null
  }
  if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
    $SUDO mkdir -p "$ROOT"
    echo "debootstrapping a Debian sid root into $ROOT (for MySQL 9.7)" >&2
    $SUDO debootstrap --variant=minbase sid "$ROOT" "$(mirror)" >"/tmp/revenant-debootstrap.log" 2>&1 \
      || { tail -30 /tmp/revenant-debootstrap.log; exit 1; }
  fi
  $SUDO chroot "$ROOT" apt-get "${APT[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO chroot "$ROOT" apt-get "${APT[@]}" install -y -qq --no-install-recommends \
    mysql-server-core mysql-client-core >/dev/null
  $SUDO chroot "$ROOT" mysqld --version
}

# DIR on the host -> the instance's folder inside the root, and that folder as the chroot sees it.
inner_of() { echo "/instances/$(echo "$1" | sed 's#^/##; s#[^A-Za-z0-9._-]#_#g')"; }

cmd=${1:?install|start|stop|remove|prune|client}
if [ "$cmd" = install ]; then install; exit 0; fi
if [ "$cmd" = prune ]; then
  # Every instance whose DIR was under the given folder: stopped (kill -9: its data goes too)
  # and removed. For test runs, whose instances may have been left running by a failed test.
  under=$(cd "${2:?folder}" 2>/dev/null && pwd || echo "$2")
  prefix=$(inner_of "$under")
  for inst in "$ROOT$prefix"*; do
    [ -d "$inst" ] || continue
    pkill -9 -f -- "--datadir=${inst#"$ROOT"}/data" 2>/dev/null || true
    rm -rf "$inst"
  done
  exit 0
fi
dir=${2:?instance directory}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
inner=$(inner_of "$dir"); outer="$ROOT$inner"
sock="$inner/mysqld.sock"
client() { chroot "$ROOT" mysql --no-defaults -uroot --socket="$sock" "$@"; }
alive() { [ -f "$dir/mysqld.pid" ] && kill -0 "$(cat "$dir/mysqld.pid")" 2>/dev/null; }

case "$cmd" in
start)
  port=${3:?port}; server_id=${4:-1}; shift 4 || shift $#
  install
  if alive; then
    if client -e 'SELECT 1' >/dev/null 2>&1; then echo "mysql already running in $dir"; exit 0; fi
    # A process that does not answer is still dying (e.g. just killed): wait for it to go.
    pid=$(cat "$dir/mysqld.pid")
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  mkdir -p "$outer"; ln -sfn "$outer" "$dir/instance"
  if [ ! -d "$outer/data/mysql" ]; then
    rm -rf "$outer/data"
    chroot "$ROOT" mysqld --no-defaults --initialize-insecure --user=root --datadir="$inner/data" >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log"; exit 1; }
  fi
  # chroot's pid is mysqld's: chroot execs it.
  nohup chroot "$ROOT" mysqld --no-defaults --user=root --datadir="$inner/data" --socket="$sock" \
    --port="$port" --bind-address=127.0.0.1 --mysqlx=OFF --secure-file-priv= --server-id="$server_id" \
    --log-bin=binlog --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL --gtid-mode=ON --enforce-gtid-consistency=ON \
    --log-error="$inner/error.log" --innodb-buffer-pool-size=512M --innodb-redo-log-capacity=512M \
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --max-connections=500 \
    --event-scheduler=ON --skip-name-resolve --log-error-verbosity=2 "$@" >/dev/null 2>&1 &
  echo $! >"$dir/mysqld.pid"
  for _ in $(seq 1 240); do
    if client -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    kill -0 "$(cat "$dir/mysqld.pid")" 2>/dev/null || break
    sleep 0.5
  done
  client -e "
    CREATE USER IF NOT EXISTS 'revenant'@'%' IDENTIFIED WITH caching_sha2_password BY 'revenant';
    GRANT ALL PRIVILEGES ON *.* TO 'revenant'@'%' WITH GRANT OPTION;" \
    || { echo "mysql did not start; see $outer/error.log"; tail -20 "$outer/error.log"; exit 1; }
  echo "mysql $(client -N -e 'SELECT @@version') up on 127.0.0.1:$port (data $outer)"
  ;;
stop|remove)
  if alive; then
    pid=$(cat "$dir/mysqld.pid"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/mysqld.pid"
  if [ "$cmd" = remove ]; then rm -rf "$outer" "$dir/instance"; fi
  ;;
client) shift 2; client "$@" ;;
*) echo "usage: $0 install|start|stop|remove|client DIR [PORT] [SERVER_ID]"; exit 2 ;;
esac
