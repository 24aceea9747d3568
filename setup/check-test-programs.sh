#!/usr/bin/env bash
# Checks that every external program and file the test suite calls is on this machine, and names
# what is missing (with the install step that should have provided it). Run by
# `setup/install.sh --tests` as its last step, so `npm test` never starts on a machine where a test
# would fail for a missing tool. When a test starts calling a new program, add it here and to the
# install step that provides it.
#   setup/check-test-programs.sh          exit 0 when all are present, 1 with the list otherwise
set -uo pipefail
cd "$(dirname "$0")/.."

# program-or-path | what provides it
checks=(
  "ip|iproute2 (install-system.sh)"
  "tc|iproute2 (install-system.sh)"
  "nsenter|util-linux"
  "ssh|openssh-client (install-system.sh)"
  "ssh-keygen|openssh-client (install-system.sh)"
  "/usr/sbin/sshd|openssh-server (install-system.sh)"
  "pgrep|procps (install-system.sh)"
  "ps|procps (install-system.sh)"
  "curl|curl (install-system.sh)"
  "python3|python3"
  "/usr/bin/python3|python3"
  "ansible-playbook|ansible-core (install-system.sh)"
  "ansible-lint|ansible-lint (install-system.sh --tests)"
  "yamllint|yamllint (install-system.sh --tests)"
  "tmux|tmux (install-system.sh --tests)"
  "jq|jq (install-system.sh --tests)"
  "chromium|chromium (install-system.sh --tests; the report test drives it headless)"
  "prometheus|prometheus (install-system.sh)"
  "promtool|prometheus (install-system.sh)"
  "prometheus-node-exporter|prometheus-node-exporter (install-system.sh)"
  "prometheus-pushgateway|prometheus-pushgateway (install-system.sh)"
  "java|openjdk-17-jre-headless (install-system.sh)"
  "mvn|maven (install-system.sh)"
  "setup/kafka/libs/.stamp|Kafka jars (install-kafka.sh)"
  "iperf3|iperf3 (install-system.sh; net_tools role)"
  "sockperf|sockperf (install-system.sh; net_tools role)"
  "wrk|wrk (install-system.sh; net_tools role)"
  "/usr/sbin/nginx|nginx-light (install-system.sh; net_tools role)"
  "netperf|netperf (install-system.sh, from Debian non-free; net_tools role)"
  "netserver|netperf (install-system.sh, from Debian non-free; net_tools role)"
  "${GREENRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/greenrace}/scaphandre-1.0.0/bin/scaphandre|Scaphandre 1.0.0 built from the crate registry (install-scaphandre.sh, run by install.sh --tests)"
  "/usr/lib/pcp/bin/pmcd|pcp (install-system.sh --tests, through the pcp role)"
  "pmlogger|pcp (install-system.sh --tests, through the pcp role)"
  "pmdumplog|pcp (install-system.sh --tests, through the pcp role)"
  "pminfo|pcp (install-system.sh --tests, through the pcp role)"
  "pmrep|pcp (install-system.sh --tests, through the pcp role)"
  "/var/lib/pcp/pmns/root|the PMNS built by the pcp role (install-system.sh --tests)"
  "/run/pcp|the pcp role (install-system.sh --tests)"
  "etcd|etcd-server (install-k8s.sh)"
  "containerd|containerd (install-k8s.sh)"
  "ctr|containerd (install-k8s.sh)"
  "runc|runc (install-k8s.sh)"
  "/usr/lib/cni/bridge|containernetworking-plugins (install-k8s.sh)"
  "/usr/lib/cni/host-local|containernetworking-plugins (install-k8s.sh)"
  "/usr/lib/cni/portmap|containernetworking-plugins (install-k8s.sh)"
  "iptables|iptables (install-k8s.sh)"
  "docker-registry|docker-registry (install-k8s.sh)"
  "debootstrap|debootstrap (install-k8s.sh)"
  "${GREENRACE_K8S_CACHE:-/var/cache/greenrace/k8s}/install.json|the Kubernetes binaries and images (install-k8s.sh)"
  "node_modules/.bin/vitest|npm ci (install.sh)"
  "dist/entrypoint.js|npm run build (install.sh)"
)
missing=()
for c in "${checks[@]}"; do
  what="${c%%|*}"; from="${c#*|}"
  case "$what" in
    /*|*/*) [ -e "$what" ] || missing+=("$what  <- $from") ;;
    *) command -v "$what" >/dev/null 2>&1 || missing+=("$what  <- $from") ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup/check-test-programs.sh: ${#missing[@]} of ${#checks[@]} programs or files the tests need are missing:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "test programs: all ${#checks[@]} present"
