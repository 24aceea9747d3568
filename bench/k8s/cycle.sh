#!/usr/bin/env bash
# One measured cycle of the Kubernetes cluster from upstream parts on namespace hosts, as the figures
# in bench/k8s/README.md were taken: hosts up (`entrypoint setup`, no services), cluster deploy
# (ansible/playbooks/kubernetes.yml), RSS of the cluster's programs a minute later, a second deploy
# (nothing to change), destroy, killjob. Each step prints its wall time and the load average.
#   bench/k8s/cycle.sh [workers]          (default 3 workers + 1 control; needs root and setup/install.sh --k8s)
# Run it alone on the machine: the figures are CPU-bound on 2 cores.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
workers="${1:-3}"
exp="k8s-bench"
home="$(mktemp -d /tmp/gr-k8s-bench.XXXXXX)"
mkdir -p "$home/experiments"
printf 'description: k8s bench\nplatform: {kind: local}\nroles: {control: 1, broker: 0, worker: %s}\nservices: []\n' "$workers" >"$home/experiments/$exp.yaml"
state="$home/.greenrace/$exp"
export GREENRACE_HOME="$home"
cleanup() {
  [ -d "$state/k8s" ] && ANSIBLE_CONFIG="$state/ansible.cfg" ansible-playbook "$repo/ansible/playbooks/kubernetes.yml" -e gr_k8s_action=destroy >/dev/null 2>&1 || true
  [ -d "$state" ] && node "$repo/dist/entrypoint.js" killjob "$exp" >/dev/null 2>&1 || true
  rm -rf "$home"
}
trap cleanup EXIT
step() {
  local name="$1"; shift
  local t0 rc
  t0=$(date +%s.%N)
  "$@" >"$home/$name.log" 2>&1 && rc=0 || rc=$?
  printf '%-14s rc=%d  %6.1f s  load %s\n' "$name" "$rc" "$(echo "$(date +%s.%N) - $t0" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  if [ "$rc" -ne 0 ]; then tail -n 30 "$home/$name.log"; exit 1; fi
}
play() { ANSIBLE_CONFIG="$state/ansible.cfg" ansible-playbook "$repo/ansible/playbooks/kubernetes.yml" "$@"; }
step setup node "$repo/dist/entrypoint.js" setup "$exp"
step deploy play -e gr_k8s_action=deploy
sleep 60
echo "RSS of the cluster's programs, a minute after deploy (CoreDNS running, no workload):"
python3 "$repo/bench/k8s/rss.py" "$state/" /run/greenrace-k8s/ /var/lib/greenrace/k8s/
step deploy-again play -e gr_k8s_action=deploy
grep -E '^\S+ +: ok=' "$home/deploy-again.log" | sed 's/^/  /'
step destroy play -e gr_k8s_action=destroy
step killjob node "$repo/dist/entrypoint.js" killjob "$exp"
