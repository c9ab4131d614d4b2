#!/usr/bin/env bash
# The cost of metrics on the request path (issue 18): the same release binary with metrics off and
# on ([host] metrics_bind), alternating, one server at a time, wrk -t2 -c64 for 4 s per path.
# Usage: swift build -c release && scripts/metrics-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release
scratch=$(mktemp -d)
sed -e "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$PWD/$bin\"|" plugins.conf > "$scratch/plugins.conf"
run() { # $1 metrics_bind ("" = off)
  rm -rf "$scratch/db"*; mkdir -p "$scratch/db"
  STELLTRON_METRICS_BIND="$1" STELLTRON_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warning $bin/stelltron serve --config "$scratch/plugins.conf" --port 18181 --database "$scratch/db/db.sqlite" &
  pid=$!
  for _ in $(seq 1 500); do curl -sf localhost:18181/health >/dev/null && break; sleep 0.02; done
  for path in /health /api/v1/tokens/supply; do
    wrk -t2 -c64 -d4s "http://127.0.0.1:18181$path" 2>/dev/null | awk -v p="$path" -v m="${1:-off}" '/Requests\/sec/ {print m, p, $2}'
  done
  kill $pid; wait $pid 2>/dev/null || true
}
for round in 1 2 3; do run ""; run "127.0.0.1:19464"; done
