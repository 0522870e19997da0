#!/usr/bin/env bash
# haul get vs aria2c on a loopback nginx, alternating runs, medians and ratios.
#
#   bench/get-vs-aria2.sh [repetitions]      (default 3; needs root for apt-get)
#
# (1) 100 MiB from a vhost capped at 5 MiB/s per connection (nginx
#     `limit_rate 5m`), 16 connections each: ideal 100 / (16 × 5) = 1.25 s.
# (2) 1 GiB unthrottled to disk, 16 connections each: wall time and CPU time.
# Both tools preallocate with fallocate (aria2: --file-allocation=falloc), so
# neither pays for writing zeros first.
set -euo pipefail

reps=${1:-3}
BENCH_TMP=/var/tmp # 1 GiB of test files: /tmp may be in memory
source "$(dirname "$0")/common.sh"
repo=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
need nginx nginx
need aria2c aria2
cargo build --locked --release --quiet --bin haul
haul=$CARGO_TARGET_DIR/release/haul

mkdir -p "$work/www" "$work/out" "$work/logs"
echo "creating random files in $work/www…"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$work/www/100M.bin"
head -c $((1024 * 1024 * 1024)) /dev/urandom >"$work/www/1G.bin"
chmod 644 "$work"/www/*

throttled=39181
unthrottled=39182
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  client_body_temp_path $work/logs;
  proxy_temp_path $work/logs;
  fastcgi_temp_path $work/logs;
  uwsgi_temp_path $work/logs;
  scgi_temp_path $work/logs;
  server { listen 127.0.0.1:$throttled; root $work/www; limit_rate 5m; }
  server { listen 127.0.0.1:$unthrottled; root $work/www; }
}
CONF
nginx -p "$work" -c "$work/nginx.conf"

TIMEFORMAT='%R %U %S'
# run <tool> <url> <output name> <results file>: appends "wall cpu"
run() {
  local tool=$1 url=$2 name=$3 results=$4 t
  rm -f "$work/out/$name" "$work/out/$name.aria2" "$work/out/$name.part"
  sync
  case $tool in
    haul) t=$( { time "$haul" get -x16 -d "$work/out" -o "$name" "$url" >/dev/null 2>&1; } 2>&1 ) ;;
    aria2) t=$( { time aria2c -x16 -s16 -k1M --file-allocation=falloc --allow-overwrite=true \
                    --auto-file-renaming=false --summary-interval=0 --console-log-level=error \
                    -d "$work/out" -o "$name" "$url" >/dev/null 2>&1; } 2>&1 ) ;;
  esac
  echo "$t" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' >>"$results"
  cmp -s "$work/out/$name" "$work/www/$name" || { echo "$tool produced a wrong $name" >&2; exit 1; }
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bench() {
  local label=$1 url=$2 name=$3
  # One untimed run each first: the page cache and the disk settle after
  # the big files were just written.
  run haul "$url" "$name" /dev/null
  run aria2 "$url" "$name" /dev/null
  : >"$work/haul.txt"
  : >"$work/aria2.txt"
  for i in $(seq "$reps"); do
    if [ $((i % 2)) -eq 1 ]; then
      run haul "$url" "$name" "$work/haul.txt"; run aria2 "$url" "$name" "$work/aria2.txt"
    else
      run aria2 "$url" "$name" "$work/aria2.txt"; run haul "$url" "$name" "$work/haul.txt"
    fi
  done
  local hw aw hc ac
  hw=$(cut -d' ' -f1 "$work/haul.txt" | median)
  aw=$(cut -d' ' -f1 "$work/aria2.txt" | median)
  hc=$(cut -d' ' -f2 "$work/haul.txt" | median)
  ac=$(cut -d' ' -f2 "$work/aria2.txt" | median)
  echo "$label ($reps runs each, medians)"
  echo "  haul : wall $hw s, cpu $hc s   (runs: $(cut -d' ' -f1 "$work/haul.txt" | tr '\n' ' '))"
  echo "  aria2: wall $aw s, cpu $ac s   (runs: $(cut -d' ' -f1 "$work/aria2.txt" | tr '\n' ' '))"
  awk -v hw="$hw" -v aw="$aw" -v hc="$hc" -v ac="$ac" \
    'BEGIN { printf "  haul/aria2: wall %.3f, cpu %.3f\n", hw / aw, (ac > 0 ? hc / ac : 0) }'
}

bench "(1) 100 MiB, 5 MiB/s per connection, 16 connections (ideal 1.25 s)" \
  "http://127.0.0.1:$throttled/100M.bin" 100M.bin
bench "(2) 1 GiB unthrottled to disk, 16 connections" \
  "http://127.0.0.1:$unthrottled/1G.bin" 1G.bin
