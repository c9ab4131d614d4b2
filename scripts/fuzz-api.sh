#!/usr/bin/env bash
# Fuzzes the live API from its own OpenAPI document with schemathesis (PyPI), as a signed-in user:
# a bounded number of cases per operation; any 5xx, or a response that is not the documented
# JSON, fails the run.   Usage: scripts/fuzz-api.sh [.build/debug] [examples per operation]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/debug}" && pwd)
examples=${2:-10}
python3 -m pip install -q schemathesis
scratch=$(mktemp -d)
port=18555
sed "s|# plugin_dir = \"/opt/stelltron/plugins\"|plugin_dir = \"$bin\"|" plugins.conf > "$scratch/plugins.conf"
STELLTRON_RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=error "$bin/stelltron" serve --config "$scratch/plugins.conf" --port $port --database "$scratch/db.sqlite" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 1 500); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.02; done
"$bin/stelltron-bench" wallet > "$scratch/proof.json"
curl -sf "http://127.0.0.1:$port/api/v1/auth/signup" -d @"$scratch/proof.json" >/dev/null
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -d @"$scratch/proof.json" | python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
schemathesis run "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $token" -n "$examples" \
  -c not_a_server_error,content_type_conformance --exclude-path /iot/events --request-timeout 10
