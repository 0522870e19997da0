#!/usr/bin/env bash
# The network scenarios of haul's tests (proxies of every kind, TLS trust,
# client certificates, Basic, .netrc and Digest logins, cookies, redirects,
# servers that push back, mirrors, IPv6) run through aria2c and `haul get`
# side by side on the same local servers and proxies, printing which of them
# each tool handles. Not a test of aria2: its answers are only reported
# (tests/it/aria2_networks.rs, ignored in the suite); haul must handle all.
#
#   bench/networks-vs-aria2.sh
#
# Needs what the suite's network tests need: aria2, nginx with its stream
# module, Apache with mod_auth_digest, tinyproxy, microsocks.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --quiet --all-features --test it aria2_networks -- --ignored --nocapture 2>/dev/null \
  | grep -E '^scenario| (yes|no) +(yes|no)$'
