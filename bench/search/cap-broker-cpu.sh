#!/usr/bin/env bash
# bench/search/cap-broker-cpu.sh <cores> [pattern]
# Puts the running broker JVM(s) (processes matching [pattern], default kafka.Kafka) in a CPU
# cgroup limited to <cores> cores (e.g. 0.5), so the broker's capacity is set by CPU, not by a
# shared disk's writeback: a capacity sharp enough to judge a search's 5 % against. A bench harness
# step, not part of greenrace: run it as root after `entrypoint setup`, before the bench; the
# cgroup goes away with the broker (killjob) or with `cap-broker-cpu.sh off`.
# cgroup v1 (cpu controller at /sys/fs/cgroup/cpu) and v2 (cpu.max) are both handled.
set -euo pipefail
cores="${1:?usage: cap-broker-cpu.sh <cores>|off [pattern]}"
pattern="${2:-kafka.Kafka}"
name=greenrace-bench
if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cgroup.procs ]; then v=1; dir=/sys/fs/cgroup/cpu/$name; root=/sys/fs/cgroup/cpu
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then v=2; dir=/sys/fs/cgroup/$name; root=/sys/fs/cgroup
else echo "cap-broker-cpu.sh: no cgroup cpu controller found under /sys/fs/cgroup" >&2; exit 1; fi
if [ "$cores" = off ]; then
  [ -d "$dir" ] || { echo "no $dir"; exit 0; }
  while read -r p; do echo "$p" > "$root/cgroup.procs" 2>/dev/null || true; done < "$dir/cgroup.procs"
  rmdir "$dir"; echo "removed $dir"; exit 0
fi
period=100000
quota=$(awk -v c="$cores" 'BEGIN { q = int(c * 100000); if (c + 0 <= 0 || q < 1000) exit 1; print q }') \
  || { echo "cap-broker-cpu.sh: <cores> must be a positive number such as 0.5 (got $cores)" >&2; exit 2; }
pids=""
for p in $(pgrep -f -- "$pattern" || true); do   # not this script or its subshells (their command line holds the pattern)
  case "$(cat "/proc/$p/comm" 2>/dev/null)" in ''|bash|sh|pgrep) ;; *) pids="$pids $p" ;; esac
done
[ -n "$pids" ] || { echo "cap-broker-cpu.sh: no process matches '$pattern' (is the experiment set up?)" >&2; exit 1; }
mkdir -p "$dir"
if [ "$v" = 1 ]; then echo "$period" > "$dir/cpu.cfs_period_us"; echo "$quota" > "$dir/cpu.cfs_quota_us"
else grep -qw cpu "$root/cgroup.subtree_control" || echo +cpu > "$root/cgroup.subtree_control"; echo "$quota $period" > "$dir/cpu.max"; fi
for p in $pids; do echo "$p" > "$dir/cgroup.procs"; done
echo "capped to $cores cores ($quota/$period us, cgroup v$v $dir): pids$pids"
