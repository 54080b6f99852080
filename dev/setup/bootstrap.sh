#!/usr/bin/env bash
# npm's pre-script of `npm test` and `npm run demo` (package.json): on a clone where `npm ci` has not
# run yet, or has not run since package-lock.json changed, installs the npm packages first (they
# bring Node 22, the `node` devDependency every script runs on); then, given a target, provisions
# its set-up steps on demand (dev/setup/provision.ts: Debian packages, Go builds, venvs).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci: the npm packages of this clone are missing or older than package-lock.json" >&2
  started=$SECONDS
  npm ci --no-audit --no-fund
  echo "[setup] npm ci: done in $((SECONDS - started))s" >&2
fi
[ "$#" -eq 0 ] || exec node_modules/.bin/node dev/setup/provision.ts "$@"
