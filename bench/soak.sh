#!/usr/bin/env bash
# The soak, one command (not in CI: it runs for an hour): runs bench/soak.ts (the harness's set-up
# builds it) against the test harness's private servers. REVENANT_TEST_SERVERS picks the server (mariadb by
# default; "mariadb mysql" runs it on both, one after the other); REVENANT_SOAK_MINUTES the length.
#   npm run soak
set -euo pipefail
cd "$(dirname "$0")/.."
REVENANT_TEST_SERVERS=${REVENANT_TEST_SERVERS:-mariadb} exec bash scripts/test.sh dist/bench/soak.js
