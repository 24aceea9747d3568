#!/usr/bin/env bash
# Installs the Debian packages greenrace needs on the machine that runs it (the controller),
# which on the local platform is also every host. Idempotent; needs root.
#   setup/install-system.sh            what the tool needs to run experiments
#   setup/install-system.sh --tests    plus what the test suite needs (tmux, linters)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "setup/install-system.sh: run as root (it installs Debian packages)" >&2
  exit 2
fi
PKGS=(ansible ansible-core openssh-server openssh-client iproute2 iputils-ping procps psmisc curl
      prometheus prometheus-node-exporter prometheus-pushgateway iperf3 sockperf nginx-light wrk
      openjdk-17-jre-headless maven)
if [ "${1:-}" = "--tests" ]; then PKGS+=(tmux ansible-lint yamllint jq); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all ${#PKGS[@]} present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
