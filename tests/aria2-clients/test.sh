#!/usr/bin/env bash
# aria2 clients that nobody here wrote, against a real `haul daemon
# --aria2-listen`: aria2p (pytest), aria2.js (node:test) and a page in
# headless Chromium on another origin (node:test + playwright-core).
#
# Needs Python 3.11+ with venv (aria2p's minimum; HAUL_PYTHON, default
# python3), Node.js 20+ with npm, Chromium (${CHROMIUM:-/usr/bin/chromium}),
# access to PyPI and npm, and the daemon binary (HAUL_BIN, default
# target/debug/haul under the repository). Everything installed comes from a
# lock: requirements.txt (hashes required; ./lock.sh regenerates it) into
# HAUL_ARIA2_VENV (default <repo>/target/aria2-clients-venv), reused while the
# lock is unchanged, and package-lock.json (npm ci).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${HAUL_ARIA2_VENV:-$repo/target/aria2-clients-venv}"
HAUL_BIN="${HAUL_BIN:-target/debug/haul}"
# Relative to the repository root, whatever the caller's directory.
case "$HAUL_BIN" in /*) ;; *) HAUL_BIN="$repo/$HAUL_BIN" ;; esac
export HAUL_BIN

if [ ! -x "$HAUL_BIN" ]; then
  echo "error: no haul binary at $HAUL_BIN" >&2
  echo "hint: run \`cargo build\` in $repo, or point HAUL_BIN at one" >&2
  exit 1
fi

python="${HAUL_PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: $python is $("$python" -V 2>&1); aria2p needs Python 3.11 or later" >&2
  echo "hint: point HAUL_PYTHON at a newer python3" >&2
  exit 1
fi
# No __pycache__ left in the source tree.
export PYTHONDONTWRITEBYTECODE=1

lock="$here/requirements.txt"
stamp="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.haul-lock" 2>/dev/null)" != "$stamp" ]; then
  echo "==> creating the virtual environment $venv from $lock"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes --no-deps -r "$lock"
  echo "$stamp" >"$venv/.haul-lock"
fi

echo "==> npm ci (aria2, playwright-core)"
npm ci --prefix "$here" --no-audit --no-fund --loglevel=error

cd "$here"
echo "==> aria2p: pytest"
"$venv/bin/python" -m pytest -p no:cacheprovider -q python
echo "==> aria2.js and Chromium: node --test"
node --test --test-concurrency=1 node/
