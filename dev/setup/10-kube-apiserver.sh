#!/usr/bin/env bash
# Builds kube-apiserver from the Go module proxy (wrapper module dev/kube/apiserver) into
# $KG_CACHE/bin/kube-apiserver-<version> (dev/setup/kube-build.sh: idempotent, atomic).
# A cold build downloads ~1 GB of modules and takes 10-20 minutes on 2 cores; a cached run is instant.
# etcd comes from Debian's etcd-server (dev/setup/apt.sh); the launcher is dev/kube/main.ts.
set -euo pipefail
exec bash "$(dirname "$0")/kube-build.sh" kube-apiserver
