#!/usr/bin/env bash
# Checks the Rust crates as a user gets them, not as the workspace has them:
#   1. `cargo package --workspace` packs haul-codegen and haul, and cargo
#      builds each from its package (haul with its default features, the
#      daemon); the packages hold what build.rs reads and none of the
#      tests, SDKs or docs;
#   2. a crate outside the repository depends on
#      `haul = { version, default-features = false, features = ["client"] }`,
#      served from the unpacked packages (a [patch] of the registry, as if they were
#      published) and locked to the workspace's Cargo.lock, builds from an
#      empty target directory (the time is printed), and
#   3. runs against a real daemon, found by `Client::connect_local` through
#      the XDG state directory; before the daemon wrote its token it fails
#      naming where it looked.
#
# Needs cargo, the crate registry or a cargo cache holding the locked crates, python3
# (to compare locks), and the daemon binary (HAUL_BIN, default
# ${CARGO_TARGET_DIR:-target}/debug/haul).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
HAUL_BIN="${HAUL_BIN:-$target/debug/haul}"

fail() { printf 'error: %s\n' "$1" >&2; [ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2; exit 1; }

[ -x "$HAUL_BIN" ] || fail "no haul binary at $HAUL_BIN" "run \`cargo build\` in $repo, or point HAUL_BIN at one"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/haul-rust-pack.XXXXXX")"
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

version_of() { local id; id="$(cd "$repo" && cargo pkgid --locked -p "$1")"; echo "${id##*@}"; }
haul_version="$(version_of haul)"
codegen_version="$(version_of haul-codegen)"

echo "==> cargo package --workspace (each crate then built from its package)"
# cargo verifies haul against haul-codegen's package through a temporary
# registry, whose packages it extracts under CARGO_HOME once per name and
# version and reuses: a changed haul-codegen of the same version would be
# verified as it was when first packaged. Those extractions (in the
# nameless registry's "-<hash>" folders, never the real registry's) go first.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/haul-codegen-"$codegen_version" \
  "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/haul-"$haul_version"
(cd "$repo" && cargo package --workspace --locked --quiet 2>"$tmp/package.log") ||
  { cat "$tmp/package.log" >&2; fail "cargo package failed" "see its output above"; }
haul_crate="$target/package/haul-$haul_version.crate"
# The verification built both crates in target/package (a whole daemon
# build); only the .crate files are used from here on, so that goes now
# rather than sit on a disk the next build needs.
rm -rf "$target/package/haul-$haul_version" "$target/package/haul-codegen-$codegen_version" "$target/package/tmp-registry"
codegen_crate="$target/package/haul-codegen-$codegen_version.crate"

# What build.rs reads must be in; what only the repository uses must not.
contents() { tar tzf "$1" | cut -d/ -f2- | sort; }
contents "$haul_crate" >"$tmp/haul.list"
contents "$codegen_crate" >"$tmp/codegen.list"
for want in build.rs openrpc.json contract/released/0.1.0.json src/lib.rs src/api.rs LICENSE-MIT LICENSE-APACHE README.md Cargo.lock; do
  grep -qx "$want" "$tmp/haul.list" || fail "the haul package has no $want" "see include in Cargo.toml"
done
for want in src/lib.rs src/rust.rs src/model.rs LICENSE-MIT LICENSE-APACHE; do
  grep -qx "$want" "$tmp/codegen.list" || fail "the haul-codegen package has no $want" "see exclude in codegen/Cargo.toml"
done
unwanted="$(grep -E '^(tests|benches|bench|clients|docs|tools|scripts|codegen|target|\.ci)/|node_modules' "$tmp/haul.list" || true)
$(grep -E '^(tests|target)/|^src/main\.rs$' "$tmp/codegen.list" || true)"
[ -z "${unwanted//[[:space:]]/}" ] || fail "the packages hold files users do not need:
$unwanted" "see include in Cargo.toml and exclude in codegen/Cargo.toml"
echo "  haul-$haul_version.crate: $(stat -c %s "$haul_crate") bytes, $(wc -l <"$tmp/haul.list") files;" \
  "haul-codegen-$codegen_version.crate: $(stat -c %s "$codegen_crate") bytes, $(wc -l <"$tmp/codegen.list") files"

mkdir "$tmp/crates"
tar xzf "$haul_crate" -C "$tmp/crates"
tar xzf "$codegen_crate" -C "$tmp/crates"

mkdir -p "$tmp/app/src"
cat >"$tmp/app/Cargo.toml" <<EOF
[package]
name = "haul-sdk-user"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
haul = { version = "$haul_version", default-features = false, features = ["client"] }
serde_json = "1"
tokio = { version = "1", features = ["rt", "macros"] }

# The packages as the registry would serve them, before they are published.
[patch.crates-io]
haul = { path = "../crates/haul-$haul_version" }
haul-codegen = { path = "../crates/haul-codegen-$codegen_version" }
EOF
cat >"$tmp/app/src/main.rs" <<'EOF'
use std::process::ExitCode;

use haul::api::{DownloadAddParams, DownloadState, DownloadStatusParams};
use haul::{Client, ClientError};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), ClientError> {
    let client = Client::connect_local().await?;
    let daemon = client.system_get_version().await?.version;
    let mut add = DownloadAddParams::new("http://127.0.0.1:9/file.bin");
    add.paused = Some(true); // so the daemon never connects to that address
    let gid = client.download_add(&add).await?.gid;
    let status = client.download_status(&DownloadStatusParams::new(gid.clone())).await?;
    if status.state != DownloadState::Paused {
        return Err(ClientError::Protocol(format!("expected a paused download, got {:?}", status.state)));
    }
    println!("{}", serde_json::json!({"apiVersion": haul::api::API_VERSION, "daemon": daemon, "gid": gid, "state": "paused"}));
    Ok(())
}
EOF

# Locked: the workspace's lock, less what this crate does not use, plus the
# crate itself. Cargo keeps every locked version it can; the check below
# fails if it had to pick any other.
cp "$repo/Cargo.lock" "$tmp/app/Cargo.lock"
(cd "$tmp/app" && cargo metadata --format-version 1 --quiet >/dev/null)
python3 - "$repo/Cargo.lock" "$tmp/app/Cargo.lock" <<'EOF'
import re, sys

def packages(path):
    text = open(path, encoding="utf-8").read()
    return set(re.findall(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', text))

workspace, app = packages(sys.argv[1]), packages(sys.argv[2])
new = sorted(f"{n} {v}" for n, v in app - workspace if n != "haul-sdk-user")
if new:
    sys.exit("error: the SDK user's lock has versions the workspace's lacks: " + ", ".join(new)
             + "\nhint: run `cargo update` in the workspace so its Cargo.lock covers them")
EOF

echo "==> cargo build of a client-only crate against the packages, from an empty target directory"
start=$(date +%s.%N)
(cd "$tmp/app" && CARGO_TARGET_DIR="$tmp/target" cargo build --locked --quiet)
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "  built in ${elapsed} s"
# The client feature's promise: no server-side crate in the build.
server_only="$(cd "$tmp/app" && cargo tree --locked -e normal --prefix none |
  grep -E '^(reqwest|rusqlite|libsqlite3-sys|jsonrpsee-server|clap|indicatif|tracing-subscriber|pulldown-cmark|dirs) ' || true)"
[ -z "$server_only" ] || fail "the client feature pulls in server-side crates: $server_only"
# Nor a docs emitter in its build script (haul-codegen's docs feature).
(cd "$tmp/app" && cargo tree --locked -e normal,build --prefix none | grep -q '^pulldown-cmark ') &&
  fail "the client build compiles the docs emitter (pulldown-cmark)" "see the docs feature in codegen/Cargo.toml"
app="$tmp/target/debug/haul-sdk-user"

echo "==> Client::connect_local without a daemon token"
clean_env=(env -u HAUL_URL -u HAUL_RPC_SECRET -u HAUL_STATE_DIR HOME="$tmp/home" XDG_STATE_HOME="$tmp/xdg")
if "${clean_env[@]}" "$app" >"$tmp/app.out" 2>"$tmp/app.err"; then
  fail "the program ran without a token"
fi
grep -qF "error: no daemon token: HAUL_RPC_SECRET is not set and there is no $tmp/xdg/haul/rpc-secret" "$tmp/app.err" ||
  { cat "$tmp/app.err" >&2; fail "the error does not name where it looked"; }

echo "==> Client::connect_local against a daemon ($HAUL_BIN) through \$XDG_STATE_HOME/haul/rpc-secret"
# Port 0: the daemon takes a free port and says which on its first line.
"${clean_env[@]}" HAUL_LOG=warn "$HAUL_BIN" daemon --listen 127.0.0.1:0 \
  --dir "$tmp/downloads" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
daemon=$!
addr=""
for _ in $(seq 200); do
  addr="$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$tmp/daemon.out" | head -n1)"
  [ -n "$addr" ] && break
  kill -0 "$daemon" 2>/dev/null || { cat "$tmp/daemon.err" >&2; fail "the daemon exited before listening" "see its stderr above"; }
  sleep 0.1
done
[ -n "$addr" ] || fail "the daemon did not say where it listens within 20 s" "see $tmp/daemon.err"
[ -f "$tmp/xdg/haul/rpc-secret" ] || fail "the daemon wrote no token to \$XDG_STATE_HOME/haul"
out="$("${clean_env[@]}" HAUL_URL="$addr" "$app")"
echo "  $out"
contract="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["info"]["version"])' "$repo/openrpc.json")"
case "$out" in
  *"\"apiVersion\":\"$contract\""*"\"state\":\"paused\""*) ;;
  *) fail "unexpected output: $out" ;;
esac

echo "ok: a client-only crate builds from haul-$haul_version.crate in ${elapsed} s and talks to the daemon"
