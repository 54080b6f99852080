#!/usr/bin/env bash
# Pixie's official Python API client (`pxapi` from PyPI) in a venv under $KG_CACHE, keyed by version,
# for the conformance tests against the local Vizier (test/integration/vizier) and the decode
# benchmark (test/bench/pixie-decode.ts). Idempotent: a warm cache costs one import check.
#
# Pixie's Go client (px.dev/pxapi) is not installed: the Go module proxy reachable here answers
# 403 for px.dev/pxapi, px.dev/pixie and github.com/pixie-io/pixie (see docs/vizier.md).
set -euo pipefail
KG_CACHE="${KG_CACHE:-$HOME/.cache/kernel-gossip}"
PXAPI_VERSION="0.9.0"
venv="$KG_CACHE/pxapi-venv-$PXAPI_VERSION"

# Debian's interpreter (python3-venv comes from dev/setup/apt.sh); fall back to whatever python3 is.
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3)"

ready="$venv/.kg-ready"
if [ -f "$ready" ] && "$venv/bin/python" -c 'import pxapi, grpc, authlib' 2>/dev/null; then
  echo "pxapi $PXAPI_VERSION ready: $venv/bin/python"
  exit 0
fi

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pxapi==$PXAPI_VERSION"
"$venv/bin/python" -c 'import pxapi, grpc, authlib' || {
  echo "pxapi venv at $venv is broken after install" >&2
  exit 1
}
touch "$ready"
echo "pxapi $PXAPI_VERSION installed: $venv/bin/python"
