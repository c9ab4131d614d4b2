#!/usr/bin/env bash
# Issue 17's figures, in one run: node-data pings/s and the authenticated price read on
#   sqlite   one server on SQLite (the default),
#   pg-1     one replica on PostgreSQL,
#   pg-3     three replicas on PostgreSQL behind nginx (round robin),
# alternating ROUNDS times (default 2), wrk -t2 -c64 for DURATION (default 8s) each, with the check
# that every acknowledged ping is stored, and the PostgreSQL statements (round trips) each kind of
# request costs, counted from the server's statement log. Run from the project root after
# `swift build -c release`; needs Debian's postgresql and nginx, and wrk.
#
# On 2 cores shared by wrk, nginx, PostgreSQL and the replicas this measures overhead, not scaling.
set -euo pipefail
bin="$PWD/.build/release"
rounds=${ROUNDS:-2}
duration=${DURATION:-8s}
pg_dir=/tmp/stelltron-bench-pg
pg_port=55434
scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f "$scratch/nginx/nginx.pid" ]] && nginx -p "$scratch/nginx" -c "$scratch/nginx.conf" -s stop 2>/dev/null || true
  scripts/postgres-cluster.sh stop "$pg_dir"
  rm -rf "$scratch"
}
trap cleanup EXIT
server_url=$(scripts/postgres-cluster.sh start "$pg_dir" "$pg_port")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%Y-%m-%d); PostgreSQL $(psql -tAc 'SHOW server_version' "$server_url") with fsync on"

sed -e "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$bin\"|" \
    -e "s|^max_connections_per_ip = .*|max_connections_per_ip = 30000|" plugins.conf > "$scratch/plugins.conf"
sed -e "s|127.0.0.1:8081|127.0.0.1:18481|; s|127.0.0.1:8082|127.0.0.1:18482|; s|127.0.0.1:8083|127.0.0.1:18483|; s|127.0.0.1:8080|127.0.0.1:18480|" \
    docs/nginx-replicas.conf > "$scratch/nginx.conf"
mkdir -p "$scratch/nginx"
export STELLTRON_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') STELLTRON_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warning


wait_for() { for _ in $(seq 1 5000); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.005; done; echo "no server on $1"; exit 1; }

# start MODE: the servers of one configuration; sets $port (where wrk goes) and $database.
start() {
  pids=()
  case $1 in
    sqlite)
      rm -f "$scratch"/db.sqlite* "$scratch"/jwt-secret
      database="$scratch/db.sqlite"
      "$bin/stelltron" serve --config "$scratch/plugins.conf" --port 18480 --database "$database" & pids+=($!)
      port=18480; wait_for 18480 ;;
    pg-1|pg-3)
      database=$(scripts/postgres-cluster.sh database "$server_url" bench)
      local ports=(18481); [[ $1 == pg-3 ]] && ports=(18481 18482 18483)
      for p in "${ports[@]}"; do "$bin/stelltron" serve --config "$scratch/plugins.conf" --port "$p" --database "$database" & pids+=($!); done
      for p in "${ports[@]}"; do wait_for "$p"; done
      if [[ $1 == pg-3 ]]; then nginx -p "$scratch/nginx" -c "$scratch/nginx.conf"; port=18480; wait_for 18480; else port=18481; fi ;;
  esac
}
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
  if [[ -f "$scratch/nginx/nginx.pid" ]]; then nginx -p "$scratch/nginx" -c "$scratch/nginx.conf" -s stop; sleep 0.5; fi
}
stored_pings() {
  if [[ $database == postgres* ]]; then
    psql -tAc "SELECT COALESCE(SUM(total_count), 0) FROM iot_quality" "$database"
  else
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COALESCE(SUM(total_count),0) FROM iot_quality').fetchone()[0])" "$database"
  fi
}
rps() { awk '/Requests\/sec/ {print $2}' "$scratch/wrk.txt"; }

declare -A results
for round in $(seq 1 "$rounds"); do
  for mode in sqlite pg-1 pg-3; do
    start $mode
    "$bin/stelltron-bench" wallet > "$scratch/proof.json"
    curl -sf "http://127.0.0.1:$port/api/v1/auth/signup" -d @"$scratch/proof.json" >/dev/null
    token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -d @"$scratch/proof.json" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
    wrk -t2 -c64 -d"$duration" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/market/price" > "$scratch/wrk.txt"
    price=$(rps)
    wrk -t2 -c64 -d"$duration" -s scripts/wrk/node-data-ping.lua "http://127.0.0.1:$port/iot/ping" > "$scratch/wrk.txt"
    pings=$(rps)
    acknowledged=$(awk '/requests in/ {n=$1} /Non-2xx/ {bad=$5} END {print n - bad}' "$scratch/wrk.txt")
    stored=$(stored_pings)
    printf "round %d %-6s price=%8s req/s  pings=%8s req/s  (pings acknowledged %s, stored %s%s)\n" "$round" "$mode" "$price" "$pings" \
      "$acknowledged" "$stored" "$( (( stored < acknowledged )) && echo ", LOST $(( acknowledged - stored ))" )"
    results[$mode,price]+="$price "
    results[$mode,pings]+="$pings "
    stop
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for kind in price pings; do
  s=$(echo "${results[sqlite,$kind]}" | median); one=$(echo "${results[pg-1,$kind]}" | median); three=$(echo "${results[pg-3,$kind]}" | median)
  awk -v k="$kind" -v s="$s" -v o="$one" -v t="$three" 'BEGIN {
    printf "median %-5s sqlite=%.0f pg-1=%.0f pg-3=%.0f  pg-1/sqlite=%.2f  pg-3/pg-1=%.2f\n", k, s, o, t, o / s, t / o }'
done

# Round trips: PostgreSQL's statement log over ten requests of each kind, on one replica.
start pg-1
psql -q "$server_url" -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
"$bin/stelltron-bench" wallet > "$scratch/proof.json"
curl -sf "http://127.0.0.1:$port/api/v1/auth/signup" -d @"$scratch/proof.json" >/dev/null
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -d @"$scratch/proof.json" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
count_statements() {
  sleep 1.5 # let the one-second event poll run before and after, so it is not counted twice
  local before=$(grep -c "LOG:  \(statement\|execute\)" "$pg_dir/server.log" || true)
  "$@"
  local after=$(grep -c "LOG:  \(statement\|execute\)" "$pg_dir/server.log" || true)
  echo $(( after - before ))
}
price_statements=$(count_statements bash -c "for i in \$(seq 1 10); do curl -sf -H 'Authorization: Bearer $token' http://127.0.0.1:$port/api/v1/market/price >/dev/null; done")
ping_statements=$(count_statements bash -c "for i in \$(seq 1 10); do curl -sf http://127.0.0.1:$port/iot/ping -H 'Content-Type: application/json' -d '{\"device_id\":\"rpi-rt\",\"voltage\":3.9,\"battery_level\":70,\"state\":\"IDLE\",\"nodes_detail\":[{\"uid\":\"NODE_A\",\"voltage\":3.9,\"soc\":70,\"state\":\"IDLE\"}]}' >/dev/null; done")
psql -q "$server_url" -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
stop
awk -v p="$price_statements" -v n="$ping_statements" 'BEGIN {
  printf "statements per request on PostgreSQL (ten of each, sequential; includes the 1 s event poll if it fell inside): price=%.1f ping=%.1f\n", p / 10, n / 10 }'
