#!/usr/bin/env bash
# The benchmark, one command: installs the peers (Debian's percona-toolkit, gh-ost v1.1.10 built
# with `go install` through the Go module proxy) and MySQL 9.7 (scripts/mysql.sh, as root), builds
# revenant, and runs bench/bench.ts on both servers (about 70 minutes), writing bench/RESULTS.md.
#   npm run bench -- [--servers mariadb,mysql] [--rows 1000000] [--large-rows 10000000] [--runs 3]
#                    [--rate 200] [--fractions 25,50,75,90] [--tools …] [--revenant-flags "…"]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
case " $* " in *" --server mariadb "*|*" --servers mariadb "*) ;; *) bash scripts/mysql.sh install >/dev/null ;; esac
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v pt-online-schema-change >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq percona-toolkit >/dev/null
fi
if [ ! -x bench/.bin/gh-ost ]; then
  # `go install …@v1.1.10` first asks the proxy for the module's version list (to check for a
  # deprecation), which the proxy here refuses (403); fetching that one version and building it
  # from the module cache needs only the version itself.
  GOBIN="$PWD/bench/.bin" go install github.com/github/gh-ost/go/cmd/gh-ost@v1.1.10 2>/dev/null || {
    dir=$(go mod download -json github.com/github/gh-ost@v1.1.10 | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    mkdir -p bench/.bin
    (cd "$dir" && GOFLAGS=-mod=mod go build -o "$OLDPWD/bench/.bin/gh-ost" ./go/cmd/gh-ost)
  }
fi
if [ ! -x bench/.bin/gh-ost-mariadb ]; then
  # gh-ost v1.1.10 cannot migrate on Debian's MariaDB 10.11, for two reasons that are not
  # about MariaDB's abilities: it sets the session variable transaction_isolation (MariaDB has
  # it only from 11.1: Error 1193), and it reads "10.11" as newer than MySQL 8.4 and speaks
  # 8.4's SHOW BINARY LOG STATUS / SHOW REPLICA STATUS (Error 1064). For a comparison at all,
  # a second binary is built from the same source with those two constants changed
  # (tx_isolation; the 8.4 terminology cut-off out of MariaDB's reach). RESULTS.md says which ran.
  dir=$(go mod download -json github.com/github/gh-ost@v1.1.10 | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  tmp=$(mktemp -d)
  cp -r "$dir/." "$tmp/" && chmod -R u+w "$tmp"
  sed -i 's/"transaction_isolation=%q"/"tx_isolation=%q"/' "$tmp/go/mysql/connection.go"
  sed -i 's/MysqlVersionCutoff = "8.4"/MysqlVersionCutoff = "80.4"/' "$tmp/go/mysql/replica_terminology_map.go"
  (cd "$tmp" && GOFLAGS=-mod=mod go build -o "$OLDPWD/bench/.bin/gh-ost-mariadb" ./go/cmd/gh-ost)
  rm -rf "$tmp"
fi
exec node dist/bench/bench.js "$@"
