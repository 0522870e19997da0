#!/usr/bin/env bash
# haul daemons as one cluster on one PostgreSQL (a private throwaway server
# from Debian's binaries, or HAUL_TEST_PG=postgres://… naming one):
#
# 1. takeover: a node runs a download (nginx throttles it) and is killed
#    (SIGKILL); how long until another node runs it, over ROUNDS rounds
#    (median, min, max), with --cluster-lease LEASE and --cluster-renew
#    RENEW: the lease bounds it, the rest is the reaper's and the claim's
# 2. download.list of 100 on a node of a cluster holding DOWNLOADS
#    downloads, against a lone daemon (SQLite) holding as many:
#    requests/s (wrk, 16 connections), and each daemon's RSS
#
#   bench/cluster.sh       # ROUNDS=5 LEASE=10s RENEW=1s DOWNLOADS=100000 DURATION=10s
set -euo pipefail
source "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-5}
LEASE=${LEASE:-10s}
RENEW=${RENEW:-1s}
DOWNLOADS=${DOWNLOADS:-100000}
DURATION=${DURATION:-10s}
SECRET=bench-secret-0123456789

need wrk wrk
need nginx nginx
build_haul

# The database: HAUL_TEST_PG's server, or a private one in $work.
if [ -n "${HAUL_TEST_PG:-}" ]; then
  admin=$HAUL_TEST_PG
else
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ -x "$bin/initdb" ] || { echo "no PostgreSQL: apt-get install postgresql, or set HAUL_TEST_PG" >&2; exit 1; }
  as_pg=()
  if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); chown postgres "$work"; fi
  "${as_pg[@]}" "$bin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start \
    -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  stop_pg() { "${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true; }
  admin="postgres://postgres@127.0.0.1:$port/postgres"
fi
db() { # a fresh database's URL
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  echo "${admin%/*}/$1"
}
trap 'cleanup; [ -z "${HAUL_TEST_PG:-}" ] && stop_pg' EXIT

# A throttled file for the takeover rounds.
mkdir -p "$work/www" "$work/root"
head -c $((64 << 20)) /dev/urandom >"$work/www/big.bin"
start_nginx <<CONF
server {
  listen 127.0.0.1:6931;
  root $work/www;
  limit_rate 1m;
}
CONF

# node NAME PORT DB [FLAGS...]: a cluster node on 127.0.0.1:PORT; prints its pid.
node() {
  local name=$1 port=$2 url=$3
  shift 3
  "$haul" daemon --listen "127.0.0.1:$port" --dir "$work/root" --state-dir "$work/state-$name" \
    --rpc-secret "$SECRET" --cluster-db "$url" --node-name "$name" \
    --cluster-lease "$LEASE" --cluster-renew "$RENEW" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  echo $!
}
up() { for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" && return; sleep 0.1; done; echo "port $1 did not come up" >&2; exit 1; }
rpc() {
  curl -sf -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "http://127.0.0.1:$1/jsonrpc"
}
field() { python3 -c 'import json, sys; r = json.load(sys.stdin)["result"]; print(r.get(sys.argv[1]) if isinstance(r, dict) else r)' "$1"; }
now() { date +%s.%N; }

echo "== takeover after SIGKILL ($ROUNDS rounds, --cluster-lease $LEASE --cluster-renew $RENEW)"
url=$(db haul_takeover)
a=$(node a 6932 "$url" --max-concurrent 50)
pids+=("$a")
up 6932
times=()
round=0
tries=0
gone() { while kill -0 "$1" 2>/dev/null; do sleep 0.05; done; }
while [ "$round" -lt "$ROUNDS" ]; do
  tries=$((tries + 1))
  port=$((6940 + tries)) # a port of its own: the last one may still close
  b=$(node "b$tries" "$port" "$url")
  up "$port"
  gid=$(rpc "$port" download.add "{\"url\":\"http://127.0.0.1:6931/big.bin\",\"fileName\":\"r$round.bin\"}" | field gid)
  owner=
  for _ in $(seq 200); do
    owner=$(rpc "$port" download.status "{\"gid\":\"$gid\"}" | field node)
    [ "$owner" != None ] && break
    sleep 0.05
  done
  if [ "$owner" != "b$tries" ]; then # the other node claimed it first: again
    rpc 6932 download.remove "{\"gid\":\"$gid\",\"deleteFiles\":true}" >/dev/null
    kill "$b"; gone "$b"
    continue
  fi
  sleep 1.5 # a checkpoint or so
  kill -KILL "$b"
  killed=$(now)
  while [ "$(rpc 6932 download.status "{\"gid\":\"$gid\"}" | field node)" != a ]; do sleep 0.02; done
  took=$(python3 -c "print(f'{$(now) - $killed:.2f}')")
  echo "  round $((round + 1)): taken over by a after $took s"
  times+=("$took")
  rpc 6932 download.remove "{\"gid\":\"$gid\",\"deleteFiles\":true}" >/dev/null
  gone "$b"
  round=$((round + 1))
done
python3 - "$LEASE" "${times[@]}" <<'EOF'
import statistics, sys
lease, times = sys.argv[1], [float(t) for t in sys.argv[2:]]
print(f"takeover: median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s (lease {lease})")
EOF
kill "$a"; gone "$a"

echo "== download.list of 100 holding $DOWNLOADS downloads: a cluster node vs a lone daemon (SQLite)"
url=$(db haul_list)
c=$(node c 6934 "$url" --max-downloads 1000000 --max-batch 1000)
pids+=("$c")
"$haul" daemon --listen 127.0.0.1:6935 --dir "$work/lone-root" --state-dir "$work/lone-state" \
  --rpc-secret "$SECRET" --max-downloads 1000000 --max-batch 1000 >"$work/lone.out" 2>"$work/lone.err" &
lone=$!
pids+=("$lone")
up 6934
up 6935
# Paused, so nothing runs: what is measured is holding them.
python3 - "$DOWNLOADS" >"$work/batch.json" <<'EOF'
import json, sys
print(json.dumps([{"jsonrpc": "2.0", "id": i, "method": "download.add",
                   "params": {"url": f"http://127.0.0.1:9/f{i}.bin", "paused": True}} for i in range(1000)]))
EOF
for port in 6934 6935; do
  start=$(now)
  for _ in $(seq $((DOWNLOADS / 1000))); do
    curl -sf -o /dev/null -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' \
      --data-binary @"$work/batch.json" "http://127.0.0.1:$port/jsonrpc"
  done
  echo "  added $DOWNLOADS on port $port in $(python3 -c "print(f'{$(now) - $start:.1f}')") s"
done
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("AUTH")
LUA
list='{"jsonrpc":"2.0","id":1,"method":"download.list","params":{"limit":100}}'
rps() { BODY=$list AUTH="Bearer $SECRET" wrk -t2 -c16 -d"$DURATION" -s "$work/post.lua" "http://127.0.0.1:$1/jsonrpc" | awk '/Requests\/sec/ {print $2}'; }
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# PostgreSQL's autovacuum of 100,000 new rows would run beside the first
# measurement on these cores: done first, and the two alternate.
psql -q "$url" -c "VACUUM ANALYZE" >/dev/null
sleep 2
printf '%-36s %12s %12s %8s\n' "" "cluster node" "lone daemon" "ratio"
for run in 1 2; do
  cluster_rps=$(rps 6934)
  lone_rps=$(rps 6935)
  printf '%-36s %12s %12s %8s\n' "download.list of 100, requests/s ($run)" "$cluster_rps" "$lone_rps" \
    "$(python3 -c "print(f'{$cluster_rps / $lone_rps:.2f}')")"
done
printf '%-36s %12s %12s %8s\n' "RSS holding $DOWNLOADS, MiB" "$(rss "$c")" "$(rss "$lone")" \
  "$(python3 -c "print(f'{$(rss "$c") / $(rss "$lone"):.2f}')")"
