#!/usr/bin/env bash
# Two release builds side by side (A before a change, B after), alternating, one server under load
# at a time, wrk -t2 -c64 for DURATION per path, ROUNDS rounds; prints req/s per round.
#   scripts/ab-bench.sh /path/to/old/.build/release .build/release
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(cd "$1" && pwd) b=$(cd "$2" && pwd)
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-4s}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
run() { # $1 label, $2 bin
  sed -e "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$2\"|" plugins.conf > "$scratch/plugins.conf"
  rm -rf "$scratch/db"; mkdir -p "$scratch/db"
  STELLTRON_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warning "$2/stelltron" serve --config "$scratch/plugins.conf" --port 18282 --database "$scratch/db/db.sqlite" &
  local pid=$!
  for _ in $(seq 1 500); do curl -sf localhost:18282/health >/dev/null && break; sleep 0.02; done
  curl -sf -X POST localhost:18282/iot/ping -d '{"device_id":"rpi-1","voltage":3.9,"battery_level":50}' >/dev/null || true
  for path in /health /iot/nodes/rpi-1 /api/v1/tokens/supply; do
    wrk -t2 -c64 -d"$DURATION" "http://127.0.0.1:18282$path" 2>/dev/null | awk -v p="$path" -v m="$1" '/Requests\/sec/ {print m, p, $2}'
  done
  kill $pid; wait $pid 2>/dev/null || true
}
for round in $(seq 1 "$ROUNDS"); do run A "$a"; run B "$b"; done
