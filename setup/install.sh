#!/usr/bin/env bash
# Installs everything greenrace needs on this machine, from a fresh clone:
#   Debian packages (ansible, openssh-server, prometheus, ...), Kafka jars from Maven Central,
#   npm packages, and the compiled CLI (dist/).
#   setup/install.sh           to run experiments
#   setup/install.sh --tests   plus what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash setup/install-system.sh "$@"
if [ -x setup/install-kafka.sh ]; then bash setup/install-kafka.sh; fi
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "npm packages: present"
  npm run --silent build
else
  echo "npm packages: installing"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "${1:-}" = "--tests" ]; then
  # Scaphandre has no Debian package: built once from the crate registry into a cache (a no-op then).
  bash setup/install-scaphandre.sh | sed '$d'
  bash setup/check-test-programs.sh
fi
echo "install: done in $(( $(date +%s) - t0 )) s"
