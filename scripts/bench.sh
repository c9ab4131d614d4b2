#!/usr/bin/env bash
# Benchmarks that print figures (never pass/fail), each compared with a baseline in the same run:
#   1. the ABI round trip vs a direct Swift call; a one-query read on GRDB's pool vs on the
#      calling thread's connection, and a whole read route without HTTP;
#   2. a foreign hook through libffi vs a direct C call; a slot call through the ABI vs a direct
#      Swift call; the matching engine with 10 000 resting orders vs 100; one sell crossing 3 000
#      dust buys with matching bounded per request vs unbounded, beside a plain order;
#   3. cold start and idle memory of `stelltron serve` with the five plugins of plugins.conf;
#   4. HTTP with wrk, each as a ratio to the host's constant route (/health, the framework's
#      ceiling): plugin-routed reads (a one-query balance, the token supply, the authenticated
#      market price), an authenticated order, node-data pings from 1 000 devices (with a check
#      that every acknowledged ping is stored);
#   5. SSE fan-out to 1 000 and 10 000 subscribers over real sockets (scripts/sse-fanout.py);
#   6. memory after PINGS node-data pings (default 1 000 000), and again nothing lost;
#   7. Hummingbird alone (stelltron-bench bare-http) beside /health: the framework's ceiling;
#   8. ../shared/peers/side-by-side.sh when it is there: the three ratios against the Gin peer.
# Usage: scripts/bench.sh          (DURATION=10s CONNECTIONS=64 THREADS=2 tune wrk; PINGS=0 skips 6)
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
echo "== a one-query read: GRDB's pool vs the calling thread's own connection, and a read route"
"$bin/stelltron-bench" reads "$bin"
echo "== finding a route: the whole route table vs a router of one route"
"$bin/stelltron-bench" routing "$bin"
echo "== foreign hooks and slot calls"
scratch=$(mktemp -d)
cc -O2 -shared -fPIC Tests/Fixtures/CHooks/factors.c -o "$scratch/libfactors.so"
"$bin/stelltron-bench" hooks "$bin" "$scratch/libfactors.so"
echo "== matching engine"
"$bin/stelltron-bench" matching
echo "== worst case for the writer: one sell crossing 3 000 dust buys (0.001 kWh each)"
"$bin/stelltron-bench" dust "$bin"

# Room for 10 000 SSE clients in this shell, the server it starts and the client script.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "== cold start and idle memory (five plugins)"
pid=""
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$scratch"' EXIT
# wrk and the SSE fan-out open thousands of connections from one address, and wrk's orders all
# come from one user: lift the per-address caps and the open-order cap.
sed -e "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$bin\"|" \
    -e "s|^max_connections_per_ip = .*|max_connections_per_ip = 30000|" -e "s|^max_subscribers_per_ip = .*|max_subscribers_per_ip = 30000|" \
    -e "s|^max_open_orders_per_user = .*|max_open_orders_per_user = 10000000|" \
    plugins.conf > "$scratch/plugins.conf"
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
  errors=$(awk '/Non-2xx/ {print $5}' "$scratch/wrk.txt")
  awk -v path="${@: -1}" -v errors="${errors:-0}" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%-60s rps=%s p50=%s p99=%s non2xx=%s\n", path, rps, p50, p99, errors}' "$scratch/wrk.txt"
}
"$bin/stelltron-bench" wallet > "$scratch/proof.json"
curl -sf "http://127.0.0.1:$port/api/v1/auth/signup" -d @"$scratch/proof.json" >/dev/null
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -d @"$scratch/proof.json" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
wallet=$(sed 's/.*"wallet_address":"\([^"]*\)".*/\1/' "$scratch/proof.json")

measure "http://127.0.0.1:$port/health";                        ceiling=$rps
measure "http://127.0.0.1:$port/api/v1/ledger/balance/$wallet";  balance_read=$rps
measure "http://127.0.0.1:$port/api/v1/tokens/supply";          supply_read=$rps
measure -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/market/price"; price_read=$rps

cat > "$scratch/order.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"type":"buy","kwh_amount":0.01,"token_price":4.5}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
measure -s "$scratch/order.lua" "http://127.0.0.1:$port/api/v1/market/order/create"; order_write=$rps
orders=$(curl -sf "http://127.0.0.1:$port/api/v1/market/orders" -H "Authorization: Bearer $token" | grep -o '"id"' | wc -l)
echo "open orders listed after the run (capped at 1000 by the route): $orders"

# Every node-data ping adds one to its device's total_count: compare with wrk's 2xx answers.
# Requests still in flight when wrk stops may be stored without being counted, so stored may
# exceed acknowledged by at most the number of connections; fewer stored would be a loss.
stored_pings() {
  python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COALESCE(SUM(total_count),0) FROM iot_quality').fetchone()[0])" "$scratch/db.sqlite"
}
check_pings_stored() {
  local acknowledged
  acknowledged=$(awk '/requests in/ {n=$1} /Non-2xx/ {bad=$5} END {print n - bad}' "$scratch/wrk.txt")
  stored=$(stored_pings)
  local added=$(( stored - ${pings_before:-0} ))
  pings_before=$stored
  echo "pings acknowledged with 2xx: $acknowledged; stored by this run: $added"
  if (( added < acknowledged )); then echo "LOST PINGS: $(( acknowledged - added ))"; fi
}
measure -s scripts/wrk/node-data-ping.lua "http://127.0.0.1:$port/iot/ping"; ping_write=$rps
check_pings_stored
awk -v c="$ceiling" -v b="$balance_read" -v s="$supply_read" -v m="$price_read" -v w="$order_write" -v p="$ping_write" 'BEGIN {
  printf "ratios to /health: balance_read=%.2f supply_read=%.2f market_price=%.2f order_create=%.3f node_data_ping=%.3f\n", b / c, s / c, m / c, w / c, p / c }'

echo "== SSE fan-out over real sockets (one heartbeat event to N subscribers of /iot/events)"
python3 scripts/sse-fanout.py --port $port --pid $pid --clients 1000 10000

pings=${PINGS:-1000000}
if (( pings > 0 )); then
  echo "== memory after $pings node-data pings (1 000 devices, wrk ${CONNECTIONS:-64} connections, a fresh server)"
  # A fresh server: the SSE run above leaves its 10 000 connections' memory with the allocator.
  kill $pid; wait $pid 2>/dev/null || true
  start_server
  sleep 1
  rss_before=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  pings_before=0
  wrk -t"${THREADS:-2}" -c"${CONNECTIONS:-64}" -d3600s -s scripts/wrk/node-data-ping.lua "http://127.0.0.1:$port/iot/ping" > "$scratch/wrk.txt" &
  wrk_pid=$!
  # wrk cannot stop after a number of requests: watch the database, then interrupt it (wrk
  # prints its figures on SIGINT).
  until (( $(stored_pings) >= pings )); do sleep 1; done
  kill -INT $wrk_pid; wait $wrk_pid || true
  sleep 1
  rss_after=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  # wrk writes the duration as 59.99s, 3.92m or 1.05h.
  awk '/requests in/ {t = $4; sub(/,$/, "", t); unit = substr(t, length(t)); t = substr(t, 1, length(t) - 1) * (unit == "m" ? 60 : unit == "h" ? 3600 : 1)
    printf "pings=%d in %.0f s (%.0f/s); ", $1, t, $1 / t}' "$scratch/wrk.txt"
  echo "RSS before=$rss_before KiB after=$rss_after KiB"
  check_pings_stored
  echo "database files: $(du -ch "$scratch"/db.sqlite* | tail -1 | cut -f1)"
fi

# The framework alone and the Go service this replaces, on the same machine in the same run.
kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; pid=""
echo "== Hummingbird alone (stelltron-bench bare-http: one constant route, no middleware) beside /health"
"$bin/stelltron-bench" bare-http 18283 > /dev/null 2>&1 & bare_pid=$!
start_server
for _ in $(seq 1 500); do curl -sf http://127.0.0.1:18283/const >/dev/null && break; sleep 0.02; done
for round in 1 2 3; do
  measure "http://127.0.0.1:18283/const"; bare=$rps
  measure "http://127.0.0.1:$port/health"; health=$rps
  awk -v b="$bare" -v h="$health" 'BEGIN {printf "round: bare=%.0f health=%.0f health/bare=%.2f\n", b, h, h / b}'
done
kill $bare_pid $pid 2>/dev/null; wait $bare_pid $pid 2>/dev/null || true; pid=""
peers=../shared/peers/side-by-side.sh
if [[ -x $peers ]]; then
  echo "== side by side with the Gin + SQLite peer ($peers, RUNS=${SIDE_RUNS:-3} DURATION=${SIDE_DURATION:-8s})"
  RUNS=${SIDE_RUNS:-3} DURATION=${SIDE_DURATION:-8s} "$peers"
else
  echo "== side by side skipped: $peers is not here"
fi
