#!/usr/bin/env bash
# The rest of a one-node cluster (dev/kube/node.ts): kube-controller-manager, kube-scheduler and the
# kubelet, built from the same wrapper module and release as kube-apiserver into
# $KG_CACHE/bin/<component>-<version> (dev/setup/kube-build.sh: idempotent, atomic; a few minutes
# each once 10-kube-apiserver.sh has warmed the Go cache). containerd and the CNI plugins come from
# Debian (dev/setup/apt.sh).
set -euo pipefail
here="$(dirname "$0")"
for component in kube-controller-manager kube-scheduler kubelet; do
  bash "$here/kube-build.sh" "$component"
done
for tool in containerd ctr; do
  command -v "$tool" >/dev/null || { echo "11-kube-node: $tool is missing (bash dev/setup/apt.sh)" >&2; exit 1; }
done
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] \
  || { echo "11-kube-node: the CNI plugins are missing from /usr/lib/cni (bash dev/setup/apt.sh)" >&2; exit 1; }
echo "11-kube-node: kubelet, kube-controller-manager, kube-scheduler, containerd and CNI plugins ready"
