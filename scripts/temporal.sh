#!/usr/bin/env bash
# Start or stop a local Temporal dev server (real server, SQLite file storage, Web UI),
# with revenant's search attributes registered.
#   scripts/temporal.sh start DIR [PORT] [UI_PORT]
#   scripts/temporal.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?state directory}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
case "$cmd" in
start)
  port=${3:-7233}; ui=${4:-8233}
  if [ -f "$dir/temporal.pid" ] && kill -0 "$(cat "$dir/temporal.pid")" 2>/dev/null; then
    if temporal operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then
      echo "temporal already running in $dir"; exit 0
    fi
    pid=$(cat "$dir/temporal.pid")
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  bin=$(command -v temporal) || { echo "temporal CLI not found: run scripts/setup.sh"; exit 1; }
  nohup "$bin" server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$ui" \
    --db-filename "$dir/temporal.db" --log-level warn \
    --search-attribute RevenantDatabase=Keyword --search-attribute RevenantTable=Keyword \
    --search-attribute RevenantPhase=Keyword --search-attribute RevenantProgress=Double --search-attribute RevenantFleet=Keyword \
    >"$dir/temporal.log" 2>&1 &
  echo $! >"$dir/temporal.pid"
  for _ in $(seq 1 120); do
    if temporal operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then
      echo "temporal up on 127.0.0.1:$port (Web UI http://127.0.0.1:$ui)"; exit 0
    fi
    sleep 0.5
  done
  echo "temporal did not start"; tail -20 "$dir/temporal.log"; exit 1
  ;;
stop)
  if [ -f "$dir/temporal.pid" ]; then
    pid=$(cat "$dir/temporal.pid"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true; rm -f "$dir/temporal.pid"
  fi
  ;;
esac
