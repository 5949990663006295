#!/usr/bin/env bash
# The whole test suite: installs what is missing, starts a private MariaDB and a Temporal
# dev server, runs every test against them with node's test runner, and stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
work=$(mktemp -d /tmp/revenant-test.XXXXXX)
export REVENANT_TEST_MYSQL_PORT=${REVENANT_TEST_MYSQL_PORT:-23306}
export TEMPORAL_ADDRESS=127.0.0.1:${REVENANT_TEST_TEMPORAL_PORT:-27233}
export REVENANT_TEST_WORK=$work
cleanup() {
  bash scripts/temporal.sh stop "$work/temporal" >/dev/null 2>&1 || true
  bash scripts/mariadb.sh stop "$work/mariadb" >/dev/null 2>&1 || true
  # The instances' data and binlogs run to gigabytes: nothing of them is kept.
  rm -rf "$work"
}
trap cleanup EXIT
bash scripts/mariadb.sh start "$work/mariadb" "$REVENANT_TEST_MYSQL_PORT" 1
bash scripts/temporal.sh start "$work/temporal" "${TEMPORAL_ADDRESS##*:}" $(( ${TEMPORAL_ADDRESS##*:} + 1000 ))
files=("$@"); [ ${#files[@]} -gt 0 ] || files=(dist/test/*.test.js)
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
