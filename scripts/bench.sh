#!/usr/bin/env bash
# Benchmarks that print figures (never pass/fail), each compared with a baseline in the same run:
#   1. the ABI round trip vs a direct Swift call;
#   2. a foreign hook through libffi vs a direct C call; a slot call through the ABI vs a direct
#      Swift call; the matching engine with 10 000 resting orders vs 100;
#   3. cold start and idle memory of `stelltron serve` with the five plugins of plugins.conf;
#   4. HTTP with wrk: the host's constant route (/health) vs a plugin-routed public read
#      (/api/v1/tokens/supply) vs an authenticated POST /api/v1/market/order/create vs node-data
#      pings (POST /iot/ping, two nodes);
#   5. SSE fan-out to 1 000 and 10 000 subscribers over real sockets (scripts/sse-fanout.py).
# Usage: scripts/bench.sh          (DURATION=10s CONNECTIONS=64 THREADS=2 tune wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk curl; do
  command -v $tool >/dev/null || { apt-get install -y -qq $tool >/dev/null 2>&1 || sudo apt-get install -y -qq $tool; }
done

swift build -c release > /tmp/stelltron-bench-build.log 2>&1 || { grep -E "error" /tmp/stelltron-bench-build.log; exit 1; }
bin="$PWD/.build/release"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%Y-%m-%d)"

echo "== ABI round trip"
"$bin/stelltron-bench" abi "$bin"
echo "== foreign hooks and slot calls"
scratch=$(mktemp -d)
cc -O2 -shared -fPIC Tests/Fixtures/CHooks/factors.c -o "$scratch/libfactors.so"
"$bin/stelltron-bench" hooks "$bin" "$scratch/libfactors.so"
echo "== matching engine"
"$bin/stelltron-bench" matching

# Room for 10 000 SSE clients in this shell, the server it starts and the client script.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "== cold start and idle memory (five plugins)"
pid=""
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$scratch"' EXIT
sed "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$bin\"|" plugins.conf > "$scratch/plugins.conf"
port=18080
start_server() {
  rm -f "$scratch"/db* "$scratch"/jwt-secret
  STELLTRON_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warning "$bin/stelltron" serve --config "$scratch/plugins.conf" --port $port --database "$scratch/db.sqlite" &
  pid=$!
  for _ in $(seq 1 5000); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0; sleep 0.002; done
  echo "server did not start"; exit 1
}
starts=()
for run in 1 2 3 4 5; do
  t0=$(date +%s%N)
  start_server
  t1=$(date +%s%N)
  starts+=($(( (t1 - t0) / 1000000 )))
  if [[ $run -lt 5 ]]; then kill $pid; wait $pid 2>/dev/null || true; fi
done
sleep 1
echo "cold_start_ms(five runs)=${starts[*]} idle_rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)"

echo "== HTTP throughput (wrk ${DURATION:-10s}, ${CONNECTIONS:-64} connections, ${THREADS:-2} threads, server and wrk on the same 2 cores)"
# Prints "path rps p50 p99" and leaves the requests/s in $rps.
measure() {
  wrk -t"${THREADS:-2}" -c"${CONNECTIONS:-64}" -d"${DURATION:-10s}" --latency "$@" > "$scratch/wrk.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$scratch/wrk.txt")
  errors=$(awk '/Non-2xx/ {print $4}' "$scratch/wrk.txt")
  awk -v path="${@: -1}" -v errors="${errors:-0}" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%-60s rps=%s p50=%s p99=%s non2xx=%s\n", path, rps, p50, p99, errors}' "$scratch/wrk.txt"
}
measure "http://127.0.0.1:$port/health";               ceiling=$rps
measure "http://127.0.0.1:$port/api/v1/tokens/supply"; plugin_read=$rps

"$bin/stelltron-bench" wallet > "$scratch/proof.json"
curl -sf "http://127.0.0.1:$port/api/v1/auth/signup" -d @"$scratch/proof.json" >/dev/null
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -d @"$scratch/proof.json" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
cat > "$scratch/order.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"type":"buy","kwh_amount":0.01,"token_price":4.5}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
measure -s "$scratch/order.lua" "http://127.0.0.1:$port/api/v1/market/order/create"; order_write=$rps
cat > "$scratch/ping.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"device_id":"rpi-bench","voltage":3.92,"battery_level":72.4,"state":"IDLE","connected_nodes":[{"uid":"NODE_A","voltage":3.92},{"uid":"NODE_B","voltage":3.61}],"nodes_detail":[{"uid":"NODE_A","ip":"192.168.1.101","voltage":3.92,"soc":72.4,"state":"IDLE"},{"uid":"NODE_B","ip":"192.168.1.102","voltage":3.61,"soc":28.1,"state":"IDLE"}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
measure -s "$scratch/ping.lua" "http://127.0.0.1:$port/iot/ping"; ping_write=$rps
orders=$(curl -sf "http://127.0.0.1:$port/api/v1/market/orders" -H "Authorization: Bearer $token" | grep -o '"id"' | wc -l)
awk -v c="$ceiling" -v r="$plugin_read" -v w="$order_write" -v p="$ping_write" 'BEGIN {printf "plugin_read_vs_constant=%.2f order_create_vs_constant=%.3f node_data_ping_vs_constant=%.3f\n", r / c, w / c, p / c}'
echo "open orders listed after the run (capped at 1000 by the route): $orders"

echo "== SSE fan-out over real sockets (one heartbeat event to N subscribers of /iot/events)"
python3 scripts/sse-fanout.py --port $port --pid $pid --clients 1000 10000
