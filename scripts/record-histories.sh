#!/usr/bin/env bash
# Records real migration histories into test/histories/ (replayed by test/replay.test.ts): the
# test harness's servers, one migration per path of the workflow, on each server.
#   bash scripts/record-histories.sh          (both servers; REVENANT_TEST_SERVERS picks;
#                                              REVENANT_HISTORIES=revert-window,… only those)
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
exec bash scripts/test.sh dist/test/support/record-histories.js
