#!/usr/bin/env bash
# Debian packages the tests and the demo need. Installs only what is missing, so a warm machine
# pays nothing. bpftrace/runc/busybox-static: the kernel lab; etcd-server: the local Kubernetes API;
# chromium: rendering the HTML report in tests; python3-venv: Pixie's Python client; gcc, libc6-dev:
# the kernel lab's static CPU burner; containerd, containernetworking-plugins: the local node's
# container runtime and pod networking (dev/kube/node.ts, with the kubelet of 11-kube-node.sh).
set -euo pipefail
packages=(bpftrace runc busybox-static etcd-server chromium python3-venv ca-certificates openssl gcc libc6-dev containerd containernetworking-plugins)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or install them first)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "system packages ready: ${packages[*]}"
