#!/usr/bin/env bash
# Benchmarks that print figures (never pass/fail): release build, then
#   1. the ABI round trip vs a direct Swift call (stelltron-bench-abi),
#   2. cold start and idle memory of `stelltron serve` with the five plugins of plugins.conf,
#   3. HTTP throughput with wrk: the host's constant route (/health) vs a plugin-routed GET.
# Usage: scripts/bench.sh            (DURATION=10s CONNECTIONS=64 THREADS=2 to tune wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || sudo apt-get install -y -qq wrk; }
command -v curl >/dev/null || { apt-get install -y -qq curl >/dev/null 2>&1 || sudo apt-get install -y -qq curl; }

swift build -c release > /tmp/stelltron-bench-build.log 2>&1 || { grep -E "error" /tmp/stelltron-bench-build.log; exit 1; }
bin="$PWD/.build/release"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%Y-%m-%d)"

echo "== ABI round trip"
"$bin/stelltron-bench-abi" "$bin"

echo "== cold start and idle memory (five plugins)"
scratch=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$scratch"' EXIT
sed "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$PWD/$bin\"|" plugins.conf > "$scratch/plugins.conf"
port=18080
starts=()
for run in 1 2 3 4 5; do
  rm -f "$scratch"/db*
  t0=$(date +%s%N)
  LOG_LEVEL=warning "$bin/stelltron" serve --config "$scratch/plugins.conf" --port $port --database "$scratch/db.sqlite" &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.002; done
  t1=$(date +%s%N)
  starts+=($(( (t1 - t0) / 1000000 )))
  if [[ $run -lt 5 ]]; then kill $pid; wait $pid 2>/dev/null || true; fi
done
sleep 1
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo "cold_start_ms(first..fifth)=${starts[*]} idle_rss_kib=$rss"

echo "== HTTP throughput (wrk ${DURATION:-10s}, ${CONNECTIONS:-64} connections, ${THREADS:-2} threads)"
# Prints "path rps p50 p99" and leaves the requests/s in $rps.
measure() {
  wrk -t"${THREADS:-2}" -c"${CONNECTIONS:-64}" -d"${DURATION:-10s}" --latency "http://127.0.0.1:$port$1" > "$scratch/wrk.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$scratch/wrk.txt")
  awk -v path="$1" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%-28s rps=%s p50=%s p99=%s\n", path, rps, p50, p99}' "$scratch/wrk.txt"
}
measure /health;                 ceiling=$rps
measure /api/v1/market/status;   plugin=$rps
awk -v c="$ceiling" -v p="$plugin" 'BEGIN {printf "plugin_read_vs_constant_route=%.2f\n", p / c}'
