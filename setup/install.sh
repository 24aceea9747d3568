#!/usr/bin/env bash
# Installs everything greenrace needs on this machine, from a fresh clone:
#   Debian packages (ansible, openssh-server, prometheus, ...), Kafka jars from Maven Central,
#   npm packages, and the compiled CLI (dist/).
#   setup/install.sh           to run experiments
#   setup/install.sh --tests   plus what the test suite needs (the Kubernetes runtime included:
#                              the k8s tests run a real cluster)
#   setup/install.sh --k8s     plus the Kubernetes runtime (setup/install-k8s.sh: Debian packages,
#                              Kubernetes and CoreDNS built from their Go modules, Scaphandre from
#                              the crate registry for its image, the cluster's images; many minutes
#                              the first time, seconds once cached)
# The flags combine (`setup/install.sh --tests --k8s`).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
tests=0
k8s=0
for a in "$@"; do
  case "$a" in
    --tests) tests=1; k8s=1 ;;
    --k8s) k8s=1 ;;
    *) echo "setup/install.sh: unknown argument '$a' (allowed: --tests, --k8s)" >&2; exit 2 ;;
  esac
done
if [ "$tests" -eq 1 ]; then bash setup/install-system.sh --tests; else bash setup/install-system.sh; fi
if [ -x setup/install-kafka.sh ]; then bash setup/install-kafka.sh; fi
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "npm packages: present"
  npm run --silent build
else
  echo "npm packages: installing"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "$k8s" -eq 1 ]; then bash setup/install-k8s.sh | sed '$d'; fi
if [ "$tests" -eq 1 ]; then
  # Scaphandre has no Debian package: built once from the crate registry into a cache (a no-op then).
  bash setup/install-scaphandre.sh | sed '$d'
  bash setup/check-test-programs.sh
fi
echo "install: done in $(( $(date +%s) - t0 )) s"
