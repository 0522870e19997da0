#!/usr/bin/env bash
# RPC throughput over TLS against plain HTTP, haul and aria2 side by side in
# one run: haul plain, haul with --rpc-certificate, aria2c with
# --rpc-secure on the same certificate. Requests/s of system.getVersion /
# aria2.getVersion and of a list of 100 (download.list / aria2.tellWaiting
# with 100 paused downloads each), 16 keep-alive connections (wrk).
#
#   bench/rpc-tls.sh            # DURATION=10s by default
set -euo pipefail
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-10s}
SECRET=bench-secret-0123456789

need aria2c aria2
need wrk wrk
need openssl openssl
build_haul

# One self-signed certificate for 127.0.0.1, for both.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

start() { # NAME PORT FLAGS…
  local name=$1 port=$2; shift 2
  "$haul" daemon --listen "127.0.0.1:$port" --dir "$work/$name-dl" --state-dir "$work/$name-state" \
    --rpc-secret "$SECRET" "$@" >/dev/null 2>"$work/$name.err" &
  pids+=($!)
}
start plain 6911
start tls 6912 --rpc-certificate "$work/cert.pem" --rpc-private-key "$work/key.pem"
aria2c --enable-rpc --rpc-listen-port=6913 --rpc-secret="$SECRET" --dir="$work/aria2-dl" --quiet \
  --rpc-secure --rpc-certificate="$work/cert.pem" --rpc-private-key="$work/key.pem" >/dev/null 2>&1 &
pids+=($!)
for i in $(seq 50); do
  curl -sfk -o /dev/null http://127.0.0.1:6911/healthz && curl -sfk -o /dev/null https://127.0.0.1:6912/healthz \
    && curl -sk -o /dev/null https://127.0.0.1:6913/jsonrpc && break
  sleep 0.1
done

# 100 paused downloads in each, for the lists.
post() { curl -sk -o /dev/null "$@"; }
batch() { python3 -c "
import json, sys
kind = sys.argv[1]
calls = []
for i in range(100):
    uri = f'http://127.0.0.1:9/file-{i}.bin'
    if kind == 'haul':
        calls.append({'jsonrpc': '2.0', 'id': i, 'method': 'download.add', 'params': {'url': uri, 'paused': True}})
    else:
        calls.append({'jsonrpc': '2.0', 'id': i, 'method': 'aria2.addUri', 'params': ['token:$SECRET', [uri], {'pause': 'true'}]})
print(json.dumps(calls))" "$1"; }
for port in 6911 6912; do
  scheme=http; [ $port = 6912 ] && scheme=https
  post -H "authorization: Bearer $SECRET" -H 'content-type: application/json' -d "$(batch haul)" "$scheme://127.0.0.1:$port/jsonrpc"
done
post -d "$(batch aria2)" https://127.0.0.1:6913/jsonrpc

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
if os.getenv("AUTH") ~= "" then wrk.headers["Authorization"] = os.getenv("AUTH") end
LUA
rps() { BODY=$2 AUTH=${3:-} wrk -t2 -c16 -d"$DURATION" -s "$work/post.lua" "$1" | awk '/Requests\/sec/ {print $2}'; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
row() { printf '%-22s %12s %12s %12s %10s %10s\n' "$@"; }

version='{"jsonrpc":"2.0","id":1,"method":"system.getVersion"}'
list='{"jsonrpc":"2.0","id":1,"method":"download.list","params":{"limit":100}}'
a_version="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"aria2.getVersion\",\"params\":[\"token:$SECRET\"]}"
a_list="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"aria2.tellWaiting\",\"params\":[\"token:$SECRET\",0,100]}"
row "req/s (16 conns)" "haul http" "haul https" "aria2 https" "tls/http" "haul/aria2"
for pair in "getVersion|$version|$a_version" "list 100|$list|$a_list"; do
  IFS='|' read -r name ours theirs <<<"$pair"
  p=$(rps http://127.0.0.1:6911/jsonrpc "$ours" "Bearer $SECRET")
  t=$(rps https://127.0.0.1:6912/jsonrpc "$ours" "Bearer $SECRET")
  a=$(rps https://127.0.0.1:6913/jsonrpc "$theirs")
  row "$name" "$p" "$t" "$a" "$(ratio "$t" "$p")" "$(ratio "$t" "$a")"
done
