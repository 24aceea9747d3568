#!/usr/bin/env bash
# Installs what the Kubernetes runtime needs on this machine (the controller; on the local platform
# every host is this machine), from the registries only (Debian, the Go module proxy, npm):
#   1. Debian packages: etcd-server, containerd, runc, containernetworking-plugins, iptables,
#      conntrack, debootstrap, docker-registry;
#   2. Kubernetes (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
#      kubectl) built from the Go module k8s.io/kubernetes, CoreDNS from its Go module, and the pause
#      program (setup/k8s/build-binaries.sh);
#   3. the cluster's images, built without a container engine and published into a registry storage
#      folder that the control host's registry serves (setup/k8s/images.py); the scaphandre image
#      takes the binary setup/install-scaphandre.sh builds (run first, cached).
# Everything lands in a cache outside the repository, keyed by version and content: a second run
# takes seconds. The first build takes many minutes on 2 cores; each step prints how long it took.
#   setup/install-k8s.sh [--version v1.34.N] [--coredns vX.Y.Z] [--only-binaries] [--force]
# Environment: GREENRACE_K8S_CACHE (default /var/cache/greenrace/k8s), GREENRACE_BUILD_NICE (10),
# GREENRACE_DEBIAN_MIRROR (default: the Debian mirror apt is configured with).
# Called by `setup/install.sh --k8s`. The last line printed is the cache folder.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=setup/k8s/versions.sh
. "$here/k8s/versions.sh"
version="$GR_K8S_VERSION"
coredns="$GR_COREDNS_VERSION"
force=()
images=1
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="${2:-}"; shift 2 ;;
    --version=*) version="${1#--version=}"; shift ;;
    --coredns) coredns="${2:-}"; shift 2 ;;
    --coredns=*) coredns="${1#--coredns=}"; shift ;;
    --only-binaries) images=0; shift ;;
    --force) force=(--force); shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup/install-k8s.sh: unknown argument '$1' (allowed: --version v1.34.N, --coredns vX.Y.Z, --only-binaries, --force)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "setup/install-k8s.sh: run as root (Debian packages, debootstrap, overlay mounts)" >&2
  exit 2
fi
cache="${GREENRACE_K8S_CACHE:-/var/cache/greenrace/k8s}"
t0=$(date +%s)

PKGS=(etcd-server etcd-client containerd runc containernetworking-plugins iptables conntrack debootstrap docker-registry)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "kubernetes packages: all ${#PKGS[@]} present (containerd $(dpkg-query -W -f='${Version}' containerd), etcd $(dpkg-query -W -f='${Version}' etcd-server))"
else
  echo "kubernetes packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
  echo "kubernetes packages: done"
fi

bash "$here/k8s/build-binaries.sh" --version "$version" --coredns "$coredns" "${force[@]}" | sed '$d'
bin="$cache/$version/bin"
if [ "$images" -eq 1 ]; then
  for need in "$repo/setup/kafka/libs/.stamp|setup/install-kafka.sh" "$repo/dist/entrypoint.js|npm run build"; do
    if [ ! -e "${need%%|*}" ]; then
      echo "setup/install-k8s.sh: ${need%%|*} is missing: run ${need#*|} first (setup/install.sh --k8s does both)" >&2
      exit 2
    fi
  done
  # The scaphandre image carries the binary setup/install-scaphandre.sh builds (cached: a no-op then).
  bash "$here/install-scaphandre.sh" | sed '$d'
  echo "images: checking (build when their content changed)"
  nice -n "${GREENRACE_BUILD_NICE:-10}" /usr/bin/python3 "$here/k8s/images.py" build --cache "$cache" --repo "$repo" --bin "$bin" \
    --version "$version" --coredns "$coredns" "${force[@]}"
fi
echo "kubernetes: ready in $(( $(date +%s) - t0 )) s ($cache/install.json)"
echo "$cache"
