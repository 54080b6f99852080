#!/usr/bin/env bash
# Builds kube-apiserver from the Go module proxy (wrapper module dev/kube/apiserver) into
# $KG_CACHE/bin/kube-apiserver-<version>. Idempotent: skips the build when that file exists.
# A cold build downloads ~1 GB of modules and takes 10-20 minutes on 2 cores; a cached run is instant.
# etcd comes from Debian's etcd-server (dev/setup/apt.sh); the launcher is dev/kube/main.ts.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
module_dir="$repo/dev/kube/apiserver"
version="$(tr -d '[:space:]' <"$module_dir/VERSION")"
if [[ ! "$version" =~ ^v1\.([0-9]+)\.[0-9]+$ ]]; then
  echo "10-kube-apiserver: bad version in $module_dir/VERSION: $version" >&2
  exit 1
fi
minor="${BASH_REMATCH[1]}"
cache="${KG_CACHE:-$HOME/.cache/kernel-gossip}"
out="$cache/bin/kube-apiserver-$version"
if [ -x "$out" ]; then
  echo "10-kube-apiserver: $out already built"
  exit 0
fi
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || { echo "10-kube-apiserver: the go toolchain is required" >&2; exit 1; }
mkdir -p "$cache/bin"

# Stamp the version like the upstream build does, so /version and kubectl's skew checks are right.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

tmp="$out.partial.$$"
trap 'rm -f "$tmp"' EXIT
started=$SECONDS
echo "10-kube-apiserver: building kube-apiserver $version (cold builds take 10-20 min)"
(
  cd "$module_dir"
  # One build at a time and at most two threads: the machine is shared.
  export GOFLAGS="-mod=mod -buildvcs=false" GOMAXPROCS=2 CGO_ENABLED=0 GOTOOLCHAIN=local
  nice -n 10 go build -p 2 -trimpath -ldflags "$ldflags" -o "$tmp" k8s.io/kubernetes/cmd/kube-apiserver
)
"$tmp" --version
mv "$tmp" "$out"
trap - EXIT
echo "10-kube-apiserver: built $out in $((SECONDS - started))s"
