#!/usr/bin/env bash
# Regenerates requirements-test.txt, the complete lock of the Python test
# environment (every package test.sh installs, transitive ones included, with
# exact versions and sha256 hashes), from the direct pins in
# requirements-test.in. One universal resolution covers every Python from 3.9
# up, with environment markers where a package's version differs.
#
# Needs python3 and access to PyPI. uv, the resolver, is itself pinned here and
# installed into a throwaway virtual environment.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="$(mktemp -d)"
trap 'rm -rf "$tool"' EXIT
"${HAUL_PYTHON:-python3}" -m venv "$tool"
"$tool/bin/python" -m pip install --quiet --disable-pip-version-check uv==0.13.9
cd "$here"
"$tool/bin/uv" pip compile --quiet --universal --python-version 3.9 --generate-hashes \
  --custom-compile-command "clients/python/lock.sh" \
  --output-file requirements-test.txt requirements-test.in
echo "wrote $here/requirements-test.txt"
