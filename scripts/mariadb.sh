#!/usr/bin/env bash
# Start or stop a private MariaDB instance for tests, the demo and benchmarks.
#   scripts/mariadb.sh install                 (only with REVENANT_MARIADB_ROOT: the root below)
#   scripts/mariadb.sh start DIR PORT [SERVER_ID] [extra mariadbd flags…]
#   scripts/mariadb.sh stop DIR
#   scripts/mariadb.sh prune FOLDER            (stop every instance whose DIR is under FOLDER)
# The instance runs as root on 127.0.0.1:PORT with its data, socket and logs in DIR,
# ROW binlog with FULL images (what a migration needs), and user root without password
# over the socket plus 'revenant'@'%' with password 'revenant' for TCP.
#
# The server is Debian 12's MariaDB 10.11 (the host's mariadbd), or, with
# REVENANT_MARIADB_ROOT set (scripts/test.sh's mariadb11 pass sets
# /var/lib/revenant/mariadb-trixie), Debian 13's MariaDB 11.8: `install` debootstraps a minimal
# trixie root into that folder (kept between runs) and installs mariadb-server-core there;
# `start` runs its mariadbd through chroot, as scripts/mysql.sh runs MySQL from a sid root. Its
# data then lives inside the root, under instances/<DIR's path>, DIR holding a link to it.
set -euo pipefail
ROOT=${REVENANT_MARIADB_ROOT:-}
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
APT=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3 -o Dpkg::Use-Pty=0)

# The Debian mirror this machine's apt already uses (its sources name it).
mirror() {
  local m
  m=$(grep -hoE '^(URIs:|deb)\s+https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | grep -E '/debian/?$' | head -1) || true
  echo "${m:-http://deb.debian.org/debian}"
}

install() {
  [ -n "$ROOT" ] || return 0
  if [ -x "$ROOT/usr/sbin/mariadbd" ] && [ -x "$ROOT/usr/bin/mariadb-install-db" ] && [ -s "$ROOT/etc/hosts" ]; then return 0; fi
  command -v debootstrap >/dev/null || {
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debootstrap >/dev/null
  }
  if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
    $SUDO mkdir -p "$ROOT"
    echo "debootstrapping a Debian trixie root into $ROOT (for MariaDB 11.8)" >&2
    $SUDO debootstrap --variant=minbase trixie "$ROOT" "$(mirror)" >/tmp/revenant-debootstrap-trixie.log 2>&1 \
      || { tail -30 /tmp/revenant-debootstrap-trixie.log; exit 1; }
  fi
  $SUDO chroot "$ROOT" apt-get "${APT[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO chroot "$ROOT" apt-get "${APT[@]}" install -y -qq --no-install-recommends \
    mariadb-server-core mariadb-client-core >/dev/null
  # mariadb-install-db looks up localhost: a minimal root has no hosts file.
  [ -s "$ROOT/etc/hosts" ] || echo '127.0.0.1 localhost' | $SUDO tee "$ROOT/etc/hosts" >/dev/null
  $SUDO chroot "$ROOT" mariadbd --version
}

cmd=${1:?install|start|stop|prune}
if [ "$cmd" = install ]; then install; exit 0; fi

# DIR on the host -> the instance's folder inside the root (see scripts/mysql.sh).
inner_of() { echo "/instances/$(echo "$1" | sed 's#^/##; s#[^A-Za-z0-9._-]#_#g')"; }

if [ "$cmd" = prune ]; then
  under=$(cd "${2:?folder}" 2>/dev/null && pwd || echo "$2")
  for pidf in $(find "$under" -name mariadb.pid 2>/dev/null); do
    kill -9 "$(cat "$pidf")" 2>/dev/null || true
  done
  if [ -n "$ROOT" ]; then
    prefix=$(inner_of "$under")
    for inst in "$ROOT$prefix"*; do [ -d "$inst" ] && rm -rf "$inst"; done
  fi
  exit 0
fi

dir=${2:?data directory}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
if [ -n "$ROOT" ]; then
  inner=$(inner_of "$dir"); outer="$ROOT$inner"
  run=(chroot "$ROOT")
else
  inner=$dir; outer=$dir
  run=()
fi
sock="$outer/mariadb.sock"
client() { mariadb --no-defaults -uroot --socket="$sock" "$@"; }

case "$cmd" in
start)
  port=${3:?port}; server_id=${4:-1}; shift 4 || shift $#
  install
  if [ -f "$dir/mariadb.pid" ] && kill -0 "$(cat "$dir/mariadb.pid")" 2>/dev/null; then
    if client -e 'SELECT 1' >/dev/null 2>&1; then
      echo "mariadb already running in $dir"; exit 0
    fi
    # A process that does not answer is still dying (e.g. just killed): wait for it to go.
    pid=$(cat "$dir/mariadb.pid")
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  if [ -n "$ROOT" ]; then mkdir -p "$outer"; ln -sfn "$outer" "$dir/instance"; fi
  if [ ! -d "$outer/data/mysql" ]; then
    mkdir -p "$outer/data"
    "${run[@]}" mariadb-install-db --no-defaults --user=root --datadir="$inner/data" --auth-root-authentication-method=normal --skip-name-resolve >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log"; exit 1; }
  fi
  # Under chroot, chroot's pid is mariadbd's (chroot execs it): the pid file is written here.
  nohup "${run[@]}" mariadbd --no-defaults --user=root --datadir="$inner/data" --socket="$inner/mariadb.sock" \
    --pid-file="$inner/mariadb.pid" --port="$port" --bind-address=127.0.0.1 \
    --log-bin="$inner/data/binlog" --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL --server-id="$server_id" \
    --log-error="$inner/error.log" --innodb-buffer-pool-size=512M --innodb-log-file-size=256M \
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --max-connections=500 \
    --event-scheduler=ON --skip-name-resolve "$@" >/dev/null 2>&1 &
  echo $! >"$dir/mariadb.pid"
  for _ in $(seq 1 120); do
    if client -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    kill -0 "$(cat "$dir/mariadb.pid")" 2>/dev/null || break
    sleep 0.5
  done
  client -e "
    CREATE USER IF NOT EXISTS 'revenant'@'%' IDENTIFIED BY 'revenant';
    GRANT ALL PRIVILEGES ON *.* TO 'revenant'@'%' WITH GRANT OPTION;" \
    || { echo "mariadb did not start; see $outer/error.log"; tail -20 "$outer/error.log"; exit 1; }
  echo "mariadb $(client -N -e 'SELECT @@version') up on 127.0.0.1:$port (data $outer)"
  ;;
stop)
  if [ -f "$dir/mariadb.pid" ]; then
    pid=$(cat "$dir/mariadb.pid"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  ;;
*) echo "usage: $0 install|start|stop|prune DIR [PORT] [SERVER_ID]"; exit 2 ;;
esac
