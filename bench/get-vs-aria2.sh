#!/usr/bin/env bash
# haul get vs aria2c on loopback origins, alternating runs: distributions
# (p50, p90, max) and ratios.
#
#   bench/get-vs-aria2.sh [runs] [big-runs]   (defaults 15 and 3; root for apt-get)
#   CASES="2 5" bench/get-vs-aria2.sh           (only those cases)
#
# (1) 100 MiB from nginx capped at 5 MiB/s per connection (`limit_rate 5m`),
#     16 connections each: ideal 100 / (16 × 5) = 1.25 s.
# (2) 100 MiB from nginx with mixed connections: every other one capped at
#     1 MiB/s, the rest at 8 MiB/s (`limit_rate` from a map on $connection).
#     nginx restarts the limit with every request and grants each a burst,
#     which rewards opening new requests; so also:
# (3) 100 MiB from the test suite's own server (benches/origin.rs), which
#     keeps one rate for the life of each TCP connection: 1 and 8 MiB/s
#     alternating. The fast half alone needs 100 / (8 × 8) = 1.56 s.
# (4) 1 GiB unthrottled to disk, 16 connections each: wall and CPU time.
# (5) case (1) through the same local HTTP proxy (Debian's tinyproxy), both
#     tools told of it by flag (haul --all-proxy, aria2 --all-proxy). aria2
#     has no SOCKS, so there is no SOCKS case to compare.
# Both tools preallocate with fallocate (aria2: --file-allocation=falloc), so
# neither pays for writing zeros first. Targets (issue 13): on (2), haul's p90
# at most 0.8 × aria2's p50, and no haul run slower than aria2's p50.
set -euo pipefail

runs=${1:-15}
big_runs=${2:-3}
cases=${CASES:-1 2 3 4 5}
want() { [[ " $cases " == *" $1 "* ]]; }
BENCH_TMP=/var/tmp # 1 GiB of test files: /tmp may be in memory
source "$(dirname "$0")/common.sh"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
need nginx nginx
need aria2c aria2
need tinyproxy tinyproxy
build_haul
origin_bin=$(cargo bench --locked --bench origin --no-run --message-format=json 2>/dev/null |
  grep '"name":"origin"' | grep -o '"executable":"[^"]*"' | cut -d'"' -f4)

mkdir -p "$work/www" "$work/out" "$work/logs"
echo "creating random files in $work/www…"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$work/www/100M.bin"
if want 4; then head -c $((1024 * 1024 * 1024)) /dev/urandom >"$work/www/1G.bin"; fi
chmod 644 "$work"/www/*

throttled=39181
unthrottled=39182
mixed=39183
start_nginx 2 <<CONF
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  map \$connection \$mixed_rate { ~[02468]\$ 1m; default 8m; }
  server { listen 127.0.0.1:$throttled; root $work/www; limit_rate 5m; }
  server { listen 127.0.0.1:$unthrottled; root $work/www; }
  server { listen 127.0.0.1:$mixed; root $work/www; limit_rate \$mixed_rate; }
CONF

"$origin_bin" "$work/www/100M.bin" $((1024 * 1024)),$((8 * 1024 * 1024)) >"$work/origin.url" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/origin.url" ] && break; sleep 0.1; done
origin_url=$(cat "$work/origin.url")
[ -n "$origin_url" ] || { echo "the test origin ($origin_bin) did not start" >&2; exit 1; }

proxy_port=39184
cat >"$work/tinyproxy.conf" <<CONF
Port $proxy_port
Listen 127.0.0.1
Timeout 60
MaxClients 100
LogLevel Warning
LogFile "$work/logs/tinyproxy.log"
Allow 127.0.0.1
DisableViaHeader Yes
CONF
tinyproxy -d -c "$work/tinyproxy.conf" &
pids+=($!)
# The proxy the next bench's runs go through (none when empty).
proxy=

TIMEFORMAT='%R %U %S'
# run <tool> <url> <file name> <results file>: appends "wall cpu"
run() {
  local tool=$1 url=$2 name=$3 results=$4 t
  rm -f "$work/out/$name" "$work/out/$name.aria2" "$work/out/$name.part"
  sync
  case $tool in
    haul) t=$( { time "$haul" get -x16 ${proxy:+--all-proxy "$proxy"} -d "$work/out" -o "$name" "$url" >/dev/null 2>&1; } 2>&1 ) ;;
    aria2) t=$( { time aria2c -x16 -s16 -k1M --file-allocation=falloc --allow-overwrite=true ${proxy:+--all-proxy="$proxy"} \
                    --auto-file-renaming=false --summary-interval=0 --console-log-level=error \
                    -d "$work/out" -o "$name" "$url" >/dev/null 2>&1; } 2>&1 ) ;;
  esac
  echo "$t" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' >>"$results"
  cmp -s "$work/out/$name" "$work/www/$name" || { echo "$tool produced a wrong $name" >&2; exit 1; }
}

# quantile <q>: the nearest-rank q-quantile of the numbers on stdin.
quantile() { sort -n | awk -v q="$1" '{ v[NR] = $1 } END { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; print v[i] }'; }

# bench <label> <url> <file name> <runs>
bench() {
  local label=$1 url=$2 name=$3 n=$4
  # One untimed run each first: the page cache and the disk settle after
  # the big files were just written.
  run haul "$url" "$name" /dev/null
  run aria2 "$url" "$name" /dev/null
  : >"$work/haul.txt"
  : >"$work/aria2.txt"
  for i in $(seq "$n"); do
    if [ $((i % 2)) -eq 1 ]; then
      run haul "$url" "$name" "$work/haul.txt"; run aria2 "$url" "$name" "$work/aria2.txt"
    else
      run aria2 "$url" "$name" "$work/aria2.txt"; run haul "$url" "$name" "$work/haul.txt"
    fi
  done
  local h50 h90 hmax a50 a90 amax hc ac
  h50=$(cut -d' ' -f1 "$work/haul.txt" | quantile 0.5)
  h90=$(cut -d' ' -f1 "$work/haul.txt" | quantile 0.9)
  hmax=$(cut -d' ' -f1 "$work/haul.txt" | quantile 1)
  a50=$(cut -d' ' -f1 "$work/aria2.txt" | quantile 0.5)
  a90=$(cut -d' ' -f1 "$work/aria2.txt" | quantile 0.9)
  amax=$(cut -d' ' -f1 "$work/aria2.txt" | quantile 1)
  hc=$(cut -d' ' -f2 "$work/haul.txt" | quantile 0.5)
  ac=$(cut -d' ' -f2 "$work/aria2.txt" | quantile 0.5)
  echo "$label ($n runs each, wall seconds)"
  echo "  haul : p50 $h50  p90 $h90  max $hmax   cpu p50 $hc   (runs: $(cut -d' ' -f1 "$work/haul.txt" | tr '\n' ' '))"
  echo "  aria2: p50 $a50  p90 $a90  max $amax   cpu p50 $ac   (runs: $(cut -d' ' -f1 "$work/aria2.txt" | tr '\n' ' '))"
  awk -v h50="$h50" -v h90="$h90" -v hmax="$hmax" -v a50="$a50" -v hc="$hc" -v ac="$ac" 'BEGIN {
    printf "  haul/aria2: p50 %.3f, haul p90 / aria2 p50 %.3f, haul max / aria2 p50 %.3f, cpu %.3f\n",
      h50 / a50, h90 / a50, hmax / a50, (ac > 0 ? hc / ac : 0) }'
}

if want 1; then
  bench "(1) 100 MiB, 5 MiB/s per connection (nginx), 16 connections (ideal 1.25 s)" \
    "http://127.0.0.1:$throttled/100M.bin" 100M.bin "$runs"
fi
if want 2; then
  bench "(2) 100 MiB, connections alternating 1 and 8 MiB/s (nginx limit_rate per request), 16 connections" \
    "http://127.0.0.1:$mixed/100M.bin" 100M.bin "$runs"
fi
if want 3; then
  bench "(3) 100 MiB, connections alternating 1 and 8 MiB/s for their whole life (benches/origin.rs), 16 connections (fast half alone 1.56 s)" \
    "$origin_url" 100M.bin "$runs"
fi
if want 4; then
  bench "(4) 1 GiB unthrottled to disk, 16 connections" \
    "http://127.0.0.1:$unthrottled/1G.bin" 1G.bin "$big_runs"
fi
proxy=http://127.0.0.1:$proxy_port
if want 5; then
  bench "(5) = (1) through a local HTTP proxy (tinyproxy), 16 connections" \
    "http://127.0.0.1:$throttled/100M.bin" 100M.bin "$runs"
fi
