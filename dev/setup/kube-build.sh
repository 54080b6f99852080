#!/usr/bin/env bash
# Builds one Kubernetes component (k8s.io/kubernetes/cmd/<component>) from the Go module proxy through
# the wrapper module dev/kube/apiserver into $KG_CACHE/bin/<component>-<version>. Idempotent: skips
# the build when that file exists. Atomic: the binary is built under a temporary name and renamed
# only once it ran `--version`, so a half-built file is never taken for a built one.
# Not a setup step itself (no number prefix); 10-kube-apiserver.sh and 11-kube-node.sh call it.
#
# Usage: dev/setup/kube-build.sh kube-apiserver|kube-controller-manager|kube-scheduler|kubelet
set -euo pipefail
component="${1:?usage: kube-build.sh <component>}"
case "$component" in
  kube-apiserver | kube-controller-manager | kube-scheduler | kubelet) ;;
  *) echo "kube-build: unknown component: $component" >&2; exit 2 ;;
esac
repo="$(cd "$(dirname "$0")/../.." && pwd)"
module_dir="$repo/dev/kube/apiserver"
version="$(tr -d '[:space:]' <"$module_dir/VERSION")"
if [[ ! "$version" =~ ^v1\.([0-9]+)\.[0-9]+$ ]]; then
  echo "kube-build: bad version in $module_dir/VERSION: $version" >&2
  exit 1
fi
minor="${BASH_REMATCH[1]}"
cache="${KG_CACHE:-$HOME/.cache/kernel-gossip}"
out="$cache/bin/$component-$version"
if [ -x "$out" ]; then
  echo "kube-build: $out already built"
  exit 0
fi
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || { echo "kube-build: the go toolchain is required" >&2; exit 1; }
mkdir -p "$cache/bin"

# Stamp the version like the upstream build does, so /version, kubectl's skew checks and the node's
# kubeletVersion are right (an unstamped kubelet reports v0.0.0-master).
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

tmp="$out.partial.$$"
trap 'rm -f "$tmp"' EXIT
started=$SECONDS
echo "kube-build: building $component $version (the first component takes 10-20 min on a cold Go cache, each next one a few)"
(
  cd "$module_dir"
  # One build at a time and at most two threads: the machine is shared. -mod=readonly: go.mod and
  # go.sum already list every tool's dependencies (gen-go-mod.sh), a build never edits them.
  export GOFLAGS="-mod=readonly -buildvcs=false" GOMAXPROCS=2 CGO_ENABLED=0 GOTOOLCHAIN=local
  nice -n 10 go build -p 2 -trimpath -ldflags "$ldflags" -o "$tmp" "k8s.io/kubernetes/cmd/$component"
)
"$tmp" --version
mv "$tmp" "$out"
trap - EXIT
echo "kube-build: built $out in $((SECONDS - started))s"
