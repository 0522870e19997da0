#!/usr/bin/env bash
# Through one PostgreSQL (a private throwaway server, or HAUL_TEST_PG): how
# many downloads four nodes add, claim and finish per second, each a state
# change with its gap-free cluster-wide event (tests/it/cluster_sql.rs,
# ignored in the suite). Built with the release profile: what is measured
# is the coordinator's statements, not a debug build's.
#
#   bench/cluster-sql.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --quiet --release --all-features --test it \
  cluster_sql::claims_and_state_events_per_second_through_postgresql -- --ignored --nocapture 2>/dev/null \
  | grep -E '^(nodes|adds|claims|state)'
