#!/usr/bin/env bash
# Installs the Debian packages greenrace needs on the machine that runs it (the controller),
# which on the local platform is also every host. Idempotent; needs root.
#   setup/install-system.sh            what the tool needs to run experiments
#   setup/install-system.sh --tests    plus what the test suite needs (tmux, linters, and the host
#                                      tools of the local platform's hosts: network tools and PCP,
#                                      installed through the roles' own install steps; chromium for
#                                      the report test)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "setup/install-system.sh: run as root (it installs Debian packages)" >&2
  exit 2
fi
PKGS=(ansible ansible-core openssh-server openssh-client iproute2 iputils-ping procps psmisc curl
      prometheus prometheus-node-exporter prometheus-pushgateway iperf3 sockperf nginx-light wrk netperf
      openjdk-17-jre-headless maven)
# chromium: the report test opens the HTML report headless (driven by puppeteer-core).
if [ "${1:-}" = "--tests" ]; then PKGS+=(tmux ansible-lint yamllint jq chromium); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all ${#PKGS[@]} present"
else
  echo "system packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if [[ " ${missing[*]} " == *" netperf "* ]]; then
    # netperf 2.7 is in Debian's non-free component: enabled for this one package (pinned), the
    # same step the net_tools role runs on hosts.
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    nf="$(bash "$here/ansible/roles/net_tools/files/apt-non-free-only.sh" netperf)"
    echo "system packages: netperf from Debian non-free, pinned so nothing else comes from there ($nf)"
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "system packages: done"
fi
if [ "${1:-}" = "--tests" ]; then
  # The tests call the local hosts' tools directly (without a `setup` before them), so the machine
  # gets them here, through the same role tasks a first `net` run would use.
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  echo "host tools (network tools, PCP): through ansible/playbooks/controller-tools.yml"
  log="$(mktemp /tmp/greenrace-controller-tools.XXXXXX.log)"
  if ! ANSIBLE_CONFIG="$here/ansible/ansible.cfg" ANSIBLE_NOCOLOR=1 \
       ansible-playbook -i localhost, -c local "$here/ansible/playbooks/controller-tools.yml" >"$log" 2>&1; then
    echo "setup/install-system.sh: installing the host tools failed; the last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  grep -E '^localhost' "$log" | sed 's/^/  /' || true
  rm -f "$log"
fi
