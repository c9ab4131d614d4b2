#!/usr/bin/env bash
# Two release builds side by side (A before a change, B after), alternating, one server under load
# at a time, wrk -t2 -c64 for DURATION per path, ROUNDS rounds; prints req/s, the server's CPU
# time per request and its context switches per request (all threads) for each round, then the
# medians for A and B and the ratios B/A.
#   scripts/ab-bench.sh /path/to/old/.build/release .build/release
# PATHS overrides the paths; "price" is the authenticated GET /api/v1/market/price, "ping" node-data
# pings from 1 000 devices (POST /iot/ping, scripts/wrk/node-data-ping.lua); "price-bad-token" and
# "price-no-token" the price refused (a malformed token, no Authorization). DATABASE, a
# postgres://USER@HOST:PORT/DB URL, runs both builds on PostgreSQL: each run on a fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(cd "$1" && pwd) b=$(cd "$2" && pwd)
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-4s}
PATHS=${PATHS:-"/health /iot/nodes/rpi-1 /api/v1/tokens/supply price"}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
switches() { # voluntary + involuntary context switches of every thread of process $1
  cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'
}
run() { # $1 label, $2 bin
  sed -e "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$2\"|" plugins.conf > "$scratch/plugins.conf"
  rm -rf "$scratch/db"; mkdir -p "$scratch/db"
  local database="$scratch/db/db.sqlite"
  if [[ -n ${DATABASE:-} ]]; then database=$(scripts/postgres-cluster.sh database "$DATABASE" ab); fi
  STELLTRON_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') STELLTRON_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warning \
    "$2/stelltron" serve --config "$scratch/plugins.conf" --port 18282 --database "$database" &
  local pid=$!
  for _ in $(seq 1 500); do curl -sf localhost:18282/health >/dev/null && break; sleep 0.02; done
  curl -sf -X POST localhost:18282/iot/ping -d '{"device_id":"rpi-1","voltage":3.9,"battery_level":50}' >/dev/null || true
  "$2/stelltron-bench" wallet > "$scratch/proof.json"
  curl -sf localhost:18282/api/v1/auth/signup -d @"$scratch/proof.json" >/dev/null
  local token
  token=$(curl -sf localhost:18282/api/v1/auth/login -d @"$scratch/proof.json" | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
  for path in $PATHS; do
    local url="http://127.0.0.1:18282$path"
    local script=() header=(-H "Authorization: Bearer $token")
    [[ $path == price ]] && url="http://127.0.0.1:18282/api/v1/market/price"
    [[ $path == price-bad-token ]] && url="http://127.0.0.1:18282/api/v1/market/price" header=(-H "Authorization: Bearer not.a.token")
    [[ $path == price-no-token ]] && url="http://127.0.0.1:18282/api/v1/market/price" header=()
    [[ $path == ping ]] && url="http://127.0.0.1:18282/iot/ping" script=(-s scripts/wrk/node-data-ping.lua)
    # CPU the server spent per request (user + system, all threads): steadier than req/s on a
    # machine whose neighbours come and go.
    # Context switches: on a virtual machine where waking a thread is dear, a server that lets
    # the load generator sleep between its answers pays for each wake-up (BENCHMARKS.md, issue 16,
    # ninth session).
    local t0 t1 c0 c1
    t0=$(awk '{print $14 + $15}' /proc/$pid/stat) c0=$(switches $pid)
    wrk -t2 -c64 -d"$DURATION" "${header[@]}" "${script[@]}" "$url" 2>/dev/null >"$scratch/wrk"
    t1=$(awk '{print $14 + $15}' /proc/$pid/stat) c1=$(switches $pid)
    awk -v p="$path" -v m="$1" -v cpu=$((t1 - t0)) -v cs=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
      '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {printf "%s %s %s %.1f %.2f\n", m, p, r, cpu / hz * 1e6 / n, cs / n}' "$scratch/wrk"
  done
  kill $pid; wait $pid 2>/dev/null || true
}
for round in $(seq 1 "$ROUNDS"); do run A "$a"; run B "$b"; done | tee "$scratch/rounds"
echo "medians: req/s A, B, B/A; server CPU µs per request A, B, B/A; context switches per request A, B"
for path in $PATHS; do
  med() { awk -v m="$1" -v p="$path" -v c="$2" '$1==m && $2==p {print $c}' "$scratch/rounds" | sort -g | awk '{v[NR]=$1} END{print (NR%2)? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
  awk -v p="$path" -v x="$(med A 3)" -v y="$(med B 3)" -v cx="$(med A 4)" -v cy="$(med B 4)" -v sx="$(med A 5)" -v sy="$(med B 5)" \
    'BEGIN{printf "%-24s %9.0f %9.0f %6.2f   %7.1f %7.1f %6.2f   %5.2f %5.2f\n", p, x, y, y/x, cx, cy, cy/cx, sx, sy}'
done
