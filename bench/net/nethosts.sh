#!/bin/bash
# Namespace hosts with sshd for the network tests and benches (recipe: research/local-cluster.md §2).
#   nethosts.sh up N [PREFIX] [NET] [STATE]     create hosts PREFIX1..PREFIXN at NET.11..
#   nethosts.sh down [PREFIX] [STATE]           tear them down
# Defaults: PREFIX=net, NET=10.83.0, STATE=/tmp/greenrace-net. Bridge: ${PREFIX}br0 at NET.1.
set -euo pipefail
cmd=${1:?up|down}; shift
if [ "$cmd" = up ]; then N=${1:?N}; shift; fi
P=${1:-net}; NET=${2:-10.83.0}; ST=${3:-/tmp/greenrace-$P}
if [ "$cmd" = down ]; then P=${1:-net}; ST=${2:-/tmp/greenrace-$P}; fi
BR=${P}br0
if [ "$cmd" = up ]; then
  mkdir -p "$ST/ssh" "$ST/hosts" "$ST/cp"; install -d -m 0755 /run/sshd
  [ -f "$ST/ssh/id" ] || ssh-keygen -q -t ed25519 -N '' -C "$P-client" -f "$ST/ssh/id"
  [ -f "$ST/ssh/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -C "$P-host" -f "$ST/ssh/hostkey"
  cp "$ST/ssh/id.pub" "$ST/ssh/authorized_keys"
  ips=$(for i in $(seq 1 "$N"); do printf '%s,' "$NET.$((10+i))"; done)
  echo "${ips%,} $(cut -d' ' -f1,2 "$ST/ssh/hostkey.pub")" > "$ST/ssh/known_hosts"
  ip link show "$BR" >/dev/null 2>&1 || { ip link add "$BR" type bridge; ip addr add "$NET.1/24" dev "$BR"; ip link set "$BR" up; }
  for i in $(seq 1 "$N"); do
    ns=$P$i; ip=$NET.$((10+i)); d=$ST/hosts/$ns; mkdir -p "$d" "/etc/netns/$ns"
    ip netns add "$ns"
    ip link add "$ns-h" type veth peer name eth0 netns "$ns"
    ip link set "$ns-h" master "$BR" up
    ip -n "$ns" addr add "$ip/24" dev eth0; ip -n "$ns" link set eth0 up; ip -n "$ns" link set lo up
    ip -n "$ns" route add default via "$NET.254" dev eth0
    echo "nameserver 127.0.0.1" > "/etc/netns/$ns/resolv.conf"
    { echo "127.0.0.1 localhost"; for j in $(seq 1 "$N"); do echo "$NET.$((10+j)) $P$j"; done; } > "/etc/netns/$ns/hosts"
    cat > "$d/sshd_config" <<EOC
ListenAddress $ip
PidFile $d/sshd.pid
HostKey $ST/ssh/hostkey
PermitRootLogin prohibit-password
AuthorizedKeysFile $ST/ssh/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
Subsystem sftp /usr/lib/openssh/sftp-server
MaxStartups 100:30:200
MaxSessions 50
EOC
    ip netns exec "$ns" unshare --uts sh -c "hostname $ns && exec /usr/sbin/sshd -f $d/sshd_config -E $d/sshd.log"
  done
  for i in $(seq 1 "$N"); do for _ in $(seq 1 50); do
    ssh -i "$ST/ssh/id" -o UserKnownHostsFile="$ST/ssh/known_hosts" -o BatchMode=yes -o ConnectTimeout=2 \
      "root@$NET.$((10+i))" true 2>/dev/null && break; sleep 0.1; done; done
  echo "$ST"
else
  for s in "$ST"/cp/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x 2>/dev/null || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$P[0-9]+$" || true); do
    pids=$(ip netns pids "$ns" || true)
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 1 30); do [ -z "$(ip netns pids "$ns")" ] && break; sleep 0.1; done
    pids=$(ip netns pids "$ns" || true); [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
    ip link del "$ns-h" 2>/dev/null || true
    ip netns del "$ns"
    rm -rf "/etc/netns/$ns"
  done
  for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^$P[0-9]+-h$" || true); do ip link del "$l" || true; done
  ip link del "$BR" 2>/dev/null || true
  rmdir /etc/netns 2>/dev/null || true
  rm -rf "$ST"
fi
