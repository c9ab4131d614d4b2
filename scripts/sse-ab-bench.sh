#!/usr/bin/env bash
# The SSE fan-out of two release builds (A before a change, B after), alternating, ROUNDS rounds
# of 10 000 subscribers on /iot/events (scripts/sse-fanout.py); prints one line per server run.
#   scripts/sse-ab-bench.sh /path/to/old/.build/release .build/release
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(cd "$1" && pwd) b=$(cd "$2" && pwd)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for round in $(seq 1 "${ROUNDS:-3}"); do
  for label in A B; do
    dir=$a; [[ $label == B ]] && dir=$b
    sed -e "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$dir\"|" \
        -e "s|^max_connections_per_ip = .*|max_connections_per_ip = 30000|" -e "s|^max_subscribers_per_ip = .*|max_subscribers_per_ip = 30000|" \
        plugins.conf > "$scratch/plugins.conf"
    rm -rf "$scratch/db"; mkdir -p "$scratch/db"
    STELLTRON_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warning "$dir/stelltron" serve --config "$scratch/plugins.conf" --port 18284 --database "$scratch/db/db.sqlite" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 500); do curl -sf localhost:18284/health >/dev/null && break; sleep 0.02; done
    echo "$label $(python3 scripts/sse-fanout.py --port 18284 --pid $pid --clients 10000 | tail -1)"
    kill $pid; wait $pid 2>/dev/null || true
  done
done
