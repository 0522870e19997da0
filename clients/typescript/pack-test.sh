#!/usr/bin/env bash
# Checks the npm package as a user gets it, not as the repository has it:
#   1. package.json's version is the API document's (openrpc.json info.version);
#   2. `npm pack` (whose prepack script builds) makes a tarball of exactly
#      package.json, README.md, LICENSE-MIT, LICENSE-APACHE and, for every
#      src/*.ts, dist/*.js and dist/*.d.ts: no sources, tests or maps;
#   3. a fresh ESM project installs the tarball, type-checks a program using
#      the typed client with `tsc --strict --noEmit` (declarations included:
#      no skipLibCheck) and runs it against a real daemon, which it finds by
#      itself (`connectLocal`: the token file in $XDG_STATE_HOME/haul);
#   4. `npm publish --dry-run` of the tarball reports no warning or error.
#
# Needs Node.js >= 20 with npm, `npm ci` done here (for tsc), the daemon binary
# (HAUL_BIN, default <repo>/target/debug/haul) and the npm registry or an npm
# cache holding the locked typescript, @types/node and ws.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
HAUL_BIN="${HAUL_BIN:-$repo/target/debug/haul}"

fail() { printf 'error: %s\n' "$1" >&2; [ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2; exit 1; }

[ -x "$HAUL_BIN" ] || fail "no haul binary at $HAUL_BIN" "run \`cargo build\` in $repo, or point HAUL_BIN at one"
[ -x "$here/node_modules/.bin/tsc" ] || fail "no TypeScript compiler in $here/node_modules" "run \`npm ci --prefix clients/typescript\`"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/haul-ts-pack.XXXXXX")"
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The generator does not own package.json, so nothing else keeps its version
# in step with the contract it speaks.
contract="$(node -p 'require(process.argv[1]).info.version' "$repo/openrpc.json")"
version="$(node -p 'require(process.argv[1]).version' "$here/package.json")"
[ "$version" = "$contract" ] ||
  fail "package.json says version $version but openrpc.json's info.version is $contract" \
    "set \"version\" in clients/typescript/package.json to $contract"

echo "==> npm pack (prepack: clean build)"
(cd "$here" && npm pack --json --pack-destination "$tmp" --loglevel=error >"$tmp/pack.json")
tarball="$tmp/$(node -p 'require(process.argv[1])[0].filename' "$tmp/pack.json")"

# What the tarball must hold, derived from src/ so that a new module is expected
# without editing this script.
{
  printf '%s\n' package.json README.md LICENSE-MIT LICENSE-APACHE
  for f in "$here"/src/*.ts; do
    m="$(basename "$f" .ts)"
    printf 'dist/%s.js\ndist/%s.d.ts\n' "$m" "$m"
  done
} | sort >"$tmp/expected"
tar -tzf "$tarball" | sed 's|^package/||' | sort >"$tmp/actual"
echo "tarball contents:"
sed 's/^/  /' "$tmp/actual"
if ! diff -u "$tmp/expected" "$tmp/actual" >"$tmp/contents.diff"; then
  cat "$tmp/contents.diff" >&2
  fail "the tarball holds other files than expected (+ unexpected, - missing)" \
    "fix \"files\" in clients/typescript/package.json or the build"
fi

# A fresh project, installing only what a user would (the tarball) plus the
# compiler and Node types at the versions our lock pins; ws, the package's own
# dependency, is held to the locked version with an override rather than added
# as a direct dependency, so a missing entry in "dependencies" still fails.
echo "==> installing the tarball into a fresh project"
locked() { node -p 'require(process.argv[1]).packages["node_modules/" + process.argv[2]].version' "$here/package-lock.json" "$1"; }
project="$tmp/project"
mkdir "$project"
cd "$project"
npm init -y --loglevel=error >/dev/null
npm pkg set type=module "overrides.ws=$(locked ws)"
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$tarball" "typescript@$(locked typescript)" "@types/node@$(locked @types/node)"

cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "types": ["node"],
    "outDir": "out"
  },
  "files": ["main.ts"]
}
EOF
cat >main.ts <<'EOF'
import { API_VERSION, connectLocal, type Client, type AddResult, type DownloadStatus, type VersionInfo } from "haul-client";

const client = await connectLocal();
const version: VersionInfo = await client.systemGetVersion();
// Paused, so the daemon never connects to this address.
const added: AddResult = await client.downloadAdd({ url: "http://127.0.0.1:9/file.bin", paused: true });
const status: DownloadStatus = await client.downloadStatus({ gid: added.gid });
if (status.state !== "paused") throw new Error(`expected a paused download, got ${status.state}`);
console.log(JSON.stringify({ apiVersion: API_VERSION, daemon: version.version, gid: added.gid, state: status.state }));
await client.close();

// Proves the declarations are real types, not `any`: tsc fails when the
// expected error below does not happen.
export function typesAreChecked(c: Client): void {
  // @ts-expect-error: url is a string
  void c.downloadAdd({ url: 42 });
}
EOF
echo "==> tsc --strict --noEmit"
npx --no-install tsc --strict --noEmit -p .
npx --no-install tsc --strict -p .

echo "==> running it against a daemon ($HAUL_BIN)"
# The daemon writes its token into its default state directory, here
# $XDG_STATE_HOME/haul, where connectLocal finds it.
local_env=(env -u HAUL_RPC_SECRET -u HAUL_STATE_DIR XDG_STATE_HOME="$tmp/xdg")
# Port 0: the daemon takes a free port and says which on its first line.
"${local_env[@]}" HAUL_LOG=warn "$HAUL_BIN" daemon --listen 127.0.0.1:0 \
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
out="$("${local_env[@]}" HAUL_URL="$addr" node out/main.js)"
echo "  $out"
api="$(node -p 'JSON.parse(process.argv[1]).apiVersion' "$out")"
[ "$api" = "$contract" ] ||
  fail "the package's API_VERSION is $api, not openrpc.json's $contract" "regenerate with \`cargo run -p haul-codegen\`"

# npm warns (and auto-corrects) about package.json problems only at publish
# time, so any warning here is a problem in what we would publish, except that
# this machine is not logged in to the registry (a dry run needs no login).
echo "==> npm publish --dry-run"
if ! npm publish --dry-run "$tarball" >"$tmp/publish.out" 2>"$tmp/publish.err"; then
  cat "$tmp/publish.out" "$tmp/publish.err" >&2
  fail "npm publish --dry-run failed" "see npm's output above"
fi
if grep -Ei 'npm (warn|err)' "$tmp/publish.err" | grep -v 'requires you to be logged in' >&2; then
  fail "npm publish --dry-run reported problems" "fix clients/typescript/package.json (\`npm pkg fix\` shows what npm would change)"
fi

size="$(node -p 'const p = require(process.argv[1])[0]; `${p.size} bytes packed, ${p.unpackedSize} unpacked, ${p.entryCount} files`' "$tmp/pack.json")"
echo "ok: $(basename "$tarball"): $size"
