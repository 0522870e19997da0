#!/usr/bin/env bash
# RPC benchmarks, haul daemon vs aria2c side by side on loopback, printing
# each figure and the haul/aria2 ratio. Not a test: numbers vary by machine.
#
#   bench/rpc-vs-aria2.sh            # DURATION=10s ADDS=10000 by default
#
# 1. system.getVersion vs aria2.getVersion: requests/s, HTTP keep-alive, 16 connections (wrk);
#    and the machine's ceiling for that load: nginx answering a fixed body
#    (wrk runs on the same cores, so a small machine caps every server);
#    and with one core each: daemon (one serving thread) and aria2 on the
#    last CPU, wrk on the first, which compares work per request
# 2. download.list of 100 vs aria2.tellWaiting(0, 100): requests/s, same load
# 3. adding ADDS downloads in JSON-RPC batches of 100: wall time
# 4. daemon RSS holding ADDS queued (paused) downloads
# 5. haul's aria2-compatible port (--aria2-listen) vs aria2c on aria2's own
#    calls, aria2.getGlobalStat and aria2.tellActive, with 5 downloads active
#    (nginx throttles them) besides the ADDS paused ones: requests/s, same load
# 6. notification latency to 100 WebSocket clients: p50/p99 (haul only;
#    aria2 pushes no progress notifications)
set -euo pipefail
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-10s}
ADDS=${ADDS:-10000}
SECRET=bench-secret-0123456789

need aria2c aria2
need wrk wrk
need nginx nginx
build_haul

"$haul" daemon --listen 127.0.0.1:6901 --dir "$work/haul-dl" --state-dir "$work/haul-state" \
  --rpc-secret "$SECRET" --max-downloads 1000000 --max-batch 1000 \
  --aria2-listen 127.0.0.1:6905 >"$work/haul.out" 2>"$work/haul.err" &
pids+=($!); haul_pid=$!
aria2c --enable-rpc --rpc-listen-port=6902 --rpc-secret="$SECRET" --dir="$work/aria2-dl" \
  --max-concurrent-downloads=5 --rpc-max-request-size=16M --quiet >"$work/aria2.out" 2>&1 &
pids+=($!); aria2_pid=$!
HAUL=http://127.0.0.1:6901/jsonrpc
ARIA2=http://127.0.0.1:6902/jsonrpc
for i in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:6901/healthz" && curl -s -o /dev/null "$ARIA2" && break
  sleep 0.1
done

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
if os.getenv("AUTH") ~= "" then wrk.headers["Authorization"] = os.getenv("AUTH") end
LUA
# requests/s of POSTing BODY to URL
# WRK: the load generator (pinned to a CPU for the one-core-each row)
WRK="wrk -t2"
rps() { BODY=$2 AUTH=${3:-} $WRK -c16 -d"$DURATION" -s "$work/post.lua" "$1" | awk '/Requests\/sec/ {print $2}'; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
row() { printf '%-44s %14s %14s %8s\n' "$@"; }

row "benchmark" "haul" "aria2" "ratio"
version='{"jsonrpc":"2.0","id":1,"method":"system.getVersion"}'
aria2_version="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"aria2.getVersion\",\"params\":[\"token:$SECRET\"]}"
h=$(rps "$HAUL" "$version" "Bearer $SECRET")
a=$(rps "$ARIA2" "$aria2_version")
row "getVersion req/s (16 conns, higher wins)" "$h" "$a" "$(ratio "$h" "$a")"
mkdir -p "$work/www" && chmod 755 "$work/www" && truncate -s 1G "$work/www/big.bin" && chmod 644 "$work/www/big.bin"
start_nginx auto <<CONF
  server {
    listen 127.0.0.1:6903;
    keepalive_requests 100000000;
    location / { default_type application/json; return 200 '{"jsonrpc":"2.0","id":1,"result":{"version":"0.1.0"}}'; }
  }
  server {
    listen 127.0.0.1:6906;
    root $work/www;
    limit_rate 16k;
  }
CONF
n=$(rps http://127.0.0.1:6903/jsonrpc "$version")
row "  ceiling: nginx, fixed answer, req/s" "$n" "$a" "$(ratio "$n" "$a")"
last=$(($(nproc) - 1))
if [ "$last" -ge 1 ] && command -v taskset >/dev/null; then
  taskset -c "$last" "$haul" daemon --listen 127.0.0.1:6904 --rpc-threads 1 \
    --dir "$work/pinned-dl" --state-dir "$work/pinned-state" --rpc-secret "$SECRET" >/dev/null 2>&1 &
  pids+=($!)
  for i in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:6904/healthz && break; sleep 0.1; done
  taskset -a -p -c "$last" "$aria2_pid" >/dev/null
  WRK="taskset -c 0 wrk -t1"
  h=$(rps http://127.0.0.1:6904/jsonrpc "$version" "Bearer $SECRET")
  a=$(rps "$ARIA2" "$aria2_version")
  row "  one core each, req/s" "$h" "$a" "$(ratio "$h" "$a")"
  WRK="wrk -t2"
  taskset -a -p -c "0-$last" "$aria2_pid" >/dev/null
fi

# Adds ADDS paused downloads in batches of 100; prints seconds.
add_all() {
  python3 - "$1" "$2" "$ADDS" "$SECRET" <<'PY'
import json, sys, time, urllib.request
kind, url, total, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
headers = {"content-type": "application/json"}
if kind == "haul":
    headers["authorization"] = f"Bearer {secret}"
started = time.perf_counter()
for start in range(0, total, 100):
    batch = []
    for i in range(start, min(start + 100, total)):
        uri = f"http://127.0.0.1:9/file-{i}.bin"
        if kind == "haul":
            batch.append({"jsonrpc": "2.0", "id": i, "method": "download.add", "params": {"url": uri, "paused": True}})
        else:
            batch.append({"jsonrpc": "2.0", "id": i, "method": "aria2.addUri", "params": [f"token:{secret}", [uri], {"pause": "true"}]})
    request = urllib.request.Request(url, json.dumps(batch).encode(), headers)
    answers = json.load(urllib.request.urlopen(request))
    failed = [a for a in answers if "error" in a]
    if failed:
        sys.exit(f"{kind}: {failed[0]}")
print(f"{time.perf_counter() - started:.2f}")
PY
}
h=$(add_all haul "$HAUL"); a=$(add_all aria2 "$ARIA2")
row "add $ADDS in batches of 100, s (lower wins)" "$h" "$a" "$(ratio "$h" "$a")"

rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
h=$(rss "$haul_pid"); a=$(rss "$aria2_pid")
row "RSS with $ADDS queued, MB (lower wins)" "$h" "$a" "$(ratio "$h" "$a")"

h=$(rps "$HAUL" '{"jsonrpc":"2.0","id":1,"method":"download.list","params":{"limit":100}}' "Bearer $SECRET")
a=$(rps "$ARIA2" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"aria2.tellWaiting\",\"params\":[\"token:$SECRET\",0,100]}")
row "list 100 req/s (16 conns, higher wins)" "$h" "$a" "$(ratio "$h" "$a")"

HAUL_ARIA2=http://127.0.0.1:6905/jsonrpc
for i in 1 2 3 4 5; do
  for url in "$HAUL_ARIA2" "$ARIA2"; do
    curl -sf -o /dev/null "$url" -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"aria2.addUri\",\"params\":[\"token:$SECRET\",[\"http://127.0.0.1:6906/big.bin\"],{\"out\":\"big-$i.bin\"}]}"
  done
done
sleep 1
stat="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"aria2.getGlobalStat\",\"params\":[\"token:$SECRET\"]}"
h=$(rps "$HAUL_ARIA2" "$stat"); a=$(rps "$ARIA2" "$stat")
row "aria2 port: getGlobalStat req/s" "$h" "$a" "$(ratio "$h" "$a")"
active="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"aria2.tellActive\",\"params\":[\"token:$SECRET\"]}"
h=$(rps "$HAUL_ARIA2" "$active"); a=$(rps "$ARIA2" "$active")
row "aria2 port: tellActive (5 active) req/s" "$h" "$a" "$(ratio "$h" "$a")"

cargo bench --quiet --bench ws_fanout -- "ws://127.0.0.1:6901/jsonrpc/ws" "$HAUL" "$SECRET" 2>/dev/null \
  | while read -r a b c d e f; do row "$a $b $c $d (p50 / p99)" "$e / $f" "-" "-"; done
