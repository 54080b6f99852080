#!/usr/bin/env bash
# Time to first insight (issue 16): the README's first command on a fresh clone of this checkout's
# HEAD, every line prefixed with the seconds since the command started, into a log; then the
# second command (npm test) likewise. Caches are fresh folders under the work folder, so nothing
# shared is disturbed:
#   KG_CACHE (always fresh), and with --cold-go also GOCACHE and GOMODCACHE (a machine that never
#   built Go; without it the machine's Go caches are used, as a re-run of CI on this machine does).
# Options: --cold-go; --replay (the demo with --kernel replay: no root, no lab lock needed);
# --with-tests (then run npm test too; run under `flock /tmp/kg-lab.lock` on shared machines).
#
#   bash test/bench/first-run.sh [--cold-go] [--replay] [--with-tests] [WORKDIR]
#
# Read the log for: the first finding line, "setup <step>: ready in", "Done in", and "rc=".
set -uo pipefail
cold_go=false replay=false tests=false
while [ "$#" -gt 0 ]; do
  case "$1" in
    --cold-go) cold_go=true ;;
    --replay) replay=true ;;
    --with-tests) tests=true ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$(mktemp -d /tmp/kg-first-run.XXXXXX)}"
mkdir -p "$work"
git clone -q "$repo" "$work/clone"
export KG_CACHE="$work/kg-cache"
if $cold_go; then
  export GOCACHE="$work/go-build" GOMODCACHE="$work/go-mod"
fi
demo_args=()
$replay && demo_args=(-- --kernel replay)
stamp() { while IFS= read -r line; do printf '%5ds| %s\n' "$SECONDS" "$line"; done; }
cd "$work/clone"
echo "first run of $(git rev-parse --short HEAD) in $work (KG_CACHE=$KG_CACHE, cold Go: $cold_go); log: $work/first-run.log"
SECONDS=0
{ npm ci && npm run demo "${demo_args[@]}"; echo "rc=$? demo"; } 2>&1 | stamp >"$work/first-run.log"
if $tests; then
  SECONDS=0
  { npm test; echo "rc=$? test"; } 2>&1 | stamp >"$work/first-test.log"
fi
grep -h "rc=" "$work"/first-*.log
