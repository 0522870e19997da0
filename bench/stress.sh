#!/usr/bin/env bash
# The concurrency stress test (tests/it/stress.rs) for longer, with random seeds:
# runs until it fails or the time is up, and prints the seed of any failure
# (rerun that one with HAUL_STRESS_SEED=<seed> cargo test --test it stress::).
#
#   bench/stress.sh [total-seconds] [seconds-per-run]   (defaults 600 and 30)
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-600}"
per_run="${2:-30}"
cargo test --locked --all-features --test it --no-run --quiet
end=$((SECONDS + total))
runs=0
while [ "$SECONDS" -lt "$end" ]; do
  seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
  runs=$((runs + 1))
  if ! HAUL_STRESS_SEED="$seed" HAUL_STRESS_SECS="$per_run" \
      cargo test --locked --all-features --test it stress:: -- --nocapture >/tmp/haul-stress.log 2>&1; then
    echo "FAILED with HAUL_STRESS_SEED=$seed (run $runs); log: /tmp/haul-stress.log" >&2
    grep -E "panicked|assertion" -A3 /tmp/haul-stress.log >&2 || true
    exit 1
  fi
  echo "run $runs: seed $seed ok ($(grep -o '[0-9]* commands, [0-9]* downloads' /tmp/haul-stress.log))"
done
echo "$runs runs, no failure"
