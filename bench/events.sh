#!/usr/bin/env bash
# Event-stream benchmarks (issue #6). Not a test: numbers vary by machine.
#
#   bench/events.sh
#
# 1. Memory of the replay window at its default size (10,000) while 100
#    downloads run: RSS of a daemon with the default window minus RSS of one
#    with --event-window 1, both after 100 throttled downloads from a loopback
#    nginx ran for a while and 10,000 further notifications were published.
# 2. Replaying the window (about 10,000 events) to a reconnecting client:
#    `benches/event_replay.rs`, median of 5 reconnects.
# 3. The daemon's CPU with 99 WebSocket readers, then with one more that
#    never reads, under 1,000 state changes a second: `benches/slow_client.rs`.
set -euo pipefail
source "$(dirname "$0")/common.sh"
SECRET=bench-secret-0123456789
need nginx nginx
build_haul

mkdir -p "$work/www"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/www/64M.bin"
chmod 644 "$work"/www/*
start_nginx <<CONF
  server { listen 127.0.0.1:39191; root $work/www; limit_rate 128k; }
CONF

# start <name> <port> <extra flags…>: a daemon running 100 downloads, then
# 10,000 more notifications (paused adds, then removals).
start() {
  local name=$1 port=$2; shift 2
  "$haul" daemon --listen "127.0.0.1:$port" --dir "$work/$name-dl" --state-dir "$work/$name-state" \
    --rpc-secret "$SECRET" --max-concurrent 100 --max-batch 1000 "$@" >/dev/null 2>"$work/$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  python3 - "http://127.0.0.1:$port/jsonrpc" "$SECRET" <<'PY'
import json, sys, urllib.request
url, secret = sys.argv[1], sys.argv[2]
def post(body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"})
    return json.load(urllib.request.urlopen(req))
batch = lambda calls: post([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)])
batch([("download.add", {"url": "http://127.0.0.1:39191/64M.bin", "connections": 1, "fileName": f"{i}.bin"}) for i in range(100)])
for _ in range(10):
    added = batch([("download.add", {"url": "http://127.0.0.1:9/x", "paused": True}) for _ in range(1000)])
    batch([("download.remove", {"gid": r["result"]["gid"]}) for r in added])
PY
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

start window 6911
start nowindow 6912 --event-window 1
sleep 5
a=$(rss "$window_pid"); b=$(rss "$nowindow_pid")
printf '%-58s %10s\n' "RSS, default window (10,000), 100 downloads running" "$((a / 1024)) MB"
printf '%-58s %10s\n' "RSS, --event-window 1, same load" "$((b / 1024)) MB"
printf '%-58s %10s\n' "the window's memory (difference)" "$(((a - b) / 1024)) MB"

cargo bench --quiet --bench event_replay -- "ws://127.0.0.1:6911/jsonrpc/ws" "$SECRET" 2>/dev/null
cargo bench --quiet --bench slow_client -- "ws://127.0.0.1:6911/jsonrpc/ws" \
  "http://127.0.0.1:6911/jsonrpc" "$SECRET" "$window_pid" 2>/dev/null
