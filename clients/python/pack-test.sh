#!/usr/bin/env bash
# Checks the Python package as a user gets it, not as the repository has it:
#   1. `python -m build` makes an sdist and, from that sdist, a wheel (so the
#      sdist is complete), both holding haul_client/py.typed and the licences;
#   2. `twine check` accepts both (the metadata and README PyPI would render);
#   3. a fresh virtual environment installs the wheel and its dependencies
#      (httpx and websockets, from the lock, hashes required), `mypy --strict`
#      type-checks a program using the client against the installed package
#      (which needs py.typed) and the program runs against a real daemon,
#      which it finds by itself (`Client.local()`: the token file in
#      $XDG_STATE_HOME/haul).
#
# Needs the test environment that ./test.sh makes from the lock (HAUL_PYTHON_VENV,
# default <repo>/target/python-venv: build, twine and setuptools come from
# it), python3 with venv, PyPI or a pip cache for the locked runtime packages,
# and the daemon binary (HAUL_BIN, default <repo>/target/debug/haul).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${HAUL_PYTHON_VENV:-$repo/target/python-venv}"
HAUL_BIN="${HAUL_BIN:-$repo/target/debug/haul}"
lock="$here/requirements-test.txt"

fail() { printf 'error: %s\n' "$1" >&2; [ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2; exit 1; }

[ -x "$HAUL_BIN" ] || fail "no haul binary at $HAUL_BIN" "run \`cargo build\` in $repo, or point HAUL_BIN at one"
[ "$(cat "$venv/.haul-lock" 2>/dev/null)" = "$(sha256sum "$lock" | cut -d' ' -f1)" ] ||
  fail "no test environment made from the current lock at $venv" "run clients/python/test.sh first"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/haul-py-pack.XXXXXX")"
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Without build isolation, so that the backend is the locked setuptools rather
# than whatever PyPI serves today. The sources are copied first, so the build
# leaves no egg-info or build/ behind in the repository.
echo "==> python -m build (sdist, then the wheel from the sdist)"
mkdir "$tmp/src"
cp -r "$here/pyproject.toml" "$here/README.md" "$here"/LICENSE-* "$here/haul_client" "$tmp/src/"
"$venv/bin/python" -m build --no-isolation --outdir "$tmp/dist" "$tmp/src" >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log" >&2; fail "python -m build failed" "see its output above"; }
wheel="$(echo "$tmp"/dist/*.whl)"
sdist="$(echo "$tmp"/dist/*.tar.gz)"
[ -f "$wheel" ] && [ -f "$sdist" ] || fail "the build made no wheel or no sdist" "see $tmp/build.log"

# Both archives must carry the PEP 561 marker (else type checkers treat the
# installed package as untyped) and both licence texts.
"$venv/bin/python" - "$wheel" "$sdist" <<'EOF'
import sys, tarfile, zipfile

wheel, sdist = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    in_wheel = z.namelist()
with tarfile.open(sdist) as t:
    # An sdist's members are under <name>-<version>/.
    in_sdist = [m.split("/", 1)[1] for m in t.getnames() if "/" in m]
for label, names, wanted in (
    ("wheel", in_wheel, ["haul_client/py.typed", "LICENSE-MIT", "LICENSE-APACHE"]),
    ("sdist", in_sdist, ["haul_client/py.typed", "LICENSE-MIT", "LICENSE-APACHE"]),
):
    for want in wanted:
        if not any(n == want or n.endswith("/" + want) for n in names):
            sys.exit(f"error: the {label} has no {want}\nhint: see [tool.setuptools.package-data] and license-files in clients/python/pyproject.toml")
    print(f"{label} contents: {len(names)} files, including " + ", ".join(wanted))
EOF

echo "==> twine check"
"$venv/bin/python" -m twine check --strict "$wheel" "$sdist"

# The runtime dependencies, with their hashes: the lock's entries reachable
# from httpx, websockets and mypy along its "# via" annotations.
python_filter_lock() {
  "$venv/bin/python" - "$lock" httpx websockets mypy <<'EOF'
import re, sys

entries = []  # (name, text, parents)
for block in re.split(r"\n(?=\S)", open(sys.argv[1], encoding="utf-8").read()):
    if block.startswith("#") or not block.strip():
        continue
    name = re.match(r"[A-Za-z0-9._-]+", block).group(0).lower()
    via = re.findall(r"#\s+(?:via\s+)?([A-Za-z0-9._-]+)\s*$", block, re.M)
    text = "\n".join(l for l in block.splitlines() if not l.lstrip().startswith("#"))
    entries.append((name, text, {v.lower() for v in via if v != "via"}))
kept = set(sys.argv[2:])
while True:
    more = {n for n, _, parents in entries if n not in kept and parents & kept}
    if not more:
        break
    kept |= more
print("\n".join(t for n, t, _ in entries if n in kept))
EOF
}
echo "==> installing the wheel into a fresh virtual environment"
python_filter_lock >"$tmp/runtime-lock.txt"
"${HAUL_PYTHON:-python3}" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$tmp/runtime-lock.txt"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$wheel"
# The wheel's declared dependencies are met by what the lock installed.
"$tmp/venv/bin/python" -m pip check

mkdir "$tmp/project"
cat >"$tmp/project/main.py" <<'EOF'
import json

from haul_client import AddResult, Client, DownloadState, DownloadStatus, VersionInfo, __version__


def main() -> None:
    with Client.local() as haul:
        version: VersionInfo = haul.system_get_version()
        # Paused, so the daemon never connects to this address.
        added: AddResult = haul.download_add(url="http://127.0.0.1:9/file.bin", paused=True)
        status: DownloadStatus = haul.download_status(gid=added.gid)
        if status.state != DownloadState.PAUSED:
            raise SystemExit(f"expected a paused download, got {status.state}")
        print(json.dumps({"apiVersion": __version__, "daemon": version.version, "gid": added.gid, "state": "paused"}))


def types_are_checked(haul: Client) -> None:
    # Proves the package is typed, not Any: --strict fails on an unneeded ignore.
    haul.download_add(url=42)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
EOF
echo "==> mypy --strict"
(cd "$tmp/project" && "$tmp/venv/bin/python" -m mypy --strict --python-version 3.9 main.py)

echo "==> running it against a daemon ($HAUL_BIN)"
# The daemon writes its token into its default state directory, here
# $XDG_STATE_HOME/haul, where Client.local() finds it.
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
out="$(cd "$tmp/project" && "${local_env[@]}" HAUL_URL="$addr" "$tmp/venv/bin/python" main.py)"
echo "  $out"
contract="$("$venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["info"]["version"])' "$repo/openrpc.json")"
[ "$(basename "$wheel" | cut -d- -f2)" = "$contract" ] ||
  fail "the wheel's version is not openrpc.json's $contract" "regenerate with \`cargo run -p haul-codegen\`"

echo "ok: $(basename "$wheel"): $(stat -c %s "$wheel") bytes; $(basename "$sdist"): $(stat -c %s "$sdist") bytes"
