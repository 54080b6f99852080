#!/usr/bin/env bash
# Debian packages the tests and the demo need. Installs only what dpkg does not list as installed,
# so a warm machine pays one dpkg query. bpftrace/runc/busybox-static: the kernel lab; etcd-server:
# the local Kubernetes API; chromium: rendering the HTML report in tests; python3-venv: Pixie's
# Python client; gcc, libc6-dev: the kernel lab's static CPU burner; containerd,
# containernetworking-plugins: the local node's container runtime and pod networking
# (dev/kube/node.ts, with the kubelet of 11-kube-node.sh).
#
# Not root: prints the one command to run with sudo and exits 3 (dev/setup/provision.ts: the tests
# stop there, the demo carries on with recorded kernel data when it can).
# --dry-run: prints what it would install and exits 0 (KG_APT_PACKAGES replaces the list, to check
# this script's detection against packages that are not installed).
set -euo pipefail
packages=(bpftrace runc busybox-static etcd-server chromium python3-venv ca-certificates openssl gcc libc6-dev containerd containernetworking-plugins)
if [ -n "${KG_APT_PACKAGES:-}" ]; then
  read -ra packages <<<"$KG_APT_PACKAGES"
fi
missing=()
for package in "${packages[@]}"; do
  # (Read the whole status first: grep -q closing the pipe early would fail the pipeline under pipefail.)
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "Debian packages installed: ${packages[*]}"
  exit 0
fi
install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
if [ "${1:-}" = "--dry-run" ]; then
  echo "would run: apt-get update -qq && ${install[*]}"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; install them once with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 3
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
"${install[@]}"
echo "Debian packages installed: ${packages[*]}"
