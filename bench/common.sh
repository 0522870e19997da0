# Sourced by the bench scripts. From the repository root, it gives them
# `need COMMAND PACKAGE` (installs PACKAGE from Debian when COMMAND is
# missing) and `$work`, a fresh directory (under $BENCH_TMP, default /tmp)
# removed on exit after the processes in `pids` and the nginx whose pid
# file is `$work/nginx.pid` are stopped.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need() {
  command -v "$1" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}

# The haul binary under test, built with the `dist` profile (fat LTO, what
# releases ship) unless HAUL_PROFILE says another (e.g. `release`, to compare),
# or HAUL_BIN names one already built (an older build, side by side).
build_haul() {
  if [ -n "${HAUL_BIN:-}" ]; then
    haul=$HAUL_BIN
    return
  fi
  local profile=${HAUL_PROFILE:-dist}
  cargo build --locked --profile "$profile" --quiet --bin haul
  haul="${CARGO_TARGET_DIR:-$PWD/target}/$profile/haul"
}

# start_nginx [WORKERS] <<CONF … CONF: an nginx whose http block holds what
# stdin says (its server blocks), with its pid, logs and temp files in $work.
start_nginx() {
  mkdir -p "$work/logs"
  {
    cat <<CONF
worker_processes ${1:-1};
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/logs;
  proxy_temp_path $work/logs;
  fastcgi_temp_path $work/logs;
  uwsgi_temp_path $work/logs;
  scgi_temp_path $work/logs;
CONF
    cat
    echo "}"
  } >"$work/nginx.conf"
  nginx -p "$work" -c "$work/nginx.conf"
}

work=$(mktemp -d "${BENCH_TMP:-/tmp}/haul-bench.XXXXXX")
chmod 755 "$work" # nginx workers run as nobody
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
