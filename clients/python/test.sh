#!/usr/bin/env bash
# The Python SDK's checks: mypy --strict (for Python 3.9) over the package and
# its tests, then pytest against a real `haul daemon` and a local file server.
#
# Needs python3 with the venv module, network access to PyPI, and the daemon
# binary (HAUL_BIN, default <repo>/target/debug/haul: `cargo build` makes it).
# The virtual environment is HAUL_PYTHON_VENV (default <repo>/target/python-venv),
# created with HAUL_PYTHON (default python3) from requirements-test.txt, the
# lock that ./lock.sh regenerates, and reused while the lock is unchanged.
# Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${HAUL_PYTHON_VENV:-$repo/target/python-venv}"
export HAUL_BIN="${HAUL_BIN:-$repo/target/debug/haul}"

if [ ! -x "$HAUL_BIN" ]; then
  echo "error: no haul binary at $HAUL_BIN" >&2
  echo "hint: run \`cargo build\` in $repo, or point HAUL_BIN at one" >&2
  exit 1
fi

# The environment is exactly the lock: recreated whenever the lock changed, so
# no package a previous lock brought in lingers, and installed with hashes
# checked, so nothing that is not in the lock can be installed.
lock="$here/requirements-test.txt"
stamp="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.haul-lock" 2>/dev/null)" != "$stamp" ]; then
  echo "==> creating the virtual environment $venv from $lock"
  rm -rf "$venv"
  "${HAUL_PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes --no-deps -r "$lock"
  echo "$stamp" >"$venv/.haul-lock"
fi
echo "==> installing haul-client (editable, built with the locked setuptools)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-deps --no-build-isolation --editable "$here"

cd "$here"
echo "==> mypy --strict --python-version 3.9"
"$venv/bin/python" -m mypy --strict --python-version 3.9 -p haul_client
"$venv/bin/python" -m mypy --strict --python-version 3.9 tests
echo "==> pytest"
"$venv/bin/python" -m pytest "$@"
