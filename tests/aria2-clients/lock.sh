#!/usr/bin/env bash
# Regenerates requirements.txt, the complete lock of the Python side (every
# package test.sh installs, transitive ones included, with exact versions and
# sha256 hashes), from the direct pins in requirements.in, for the Python that
# runs it (aria2p needs 3.11 or later). pip-tools, the resolver, is pinned here
# and installed into a throwaway virtual environment.
#
# Needs python3 and access to PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="$(mktemp -d)"
trap 'rm -rf "$tool"' EXIT
"${HAUL_PYTHON:-python3}" -m venv "$tool"
"$tool/bin/python" -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2
cd "$here"
CUSTOM_COMPILE_COMMAND="tests/aria2-clients/lock.sh" "$tool/bin/pip-compile" --quiet \
  --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
  --output-file requirements.txt requirements.in
echo "wrote $here/requirements.txt"
