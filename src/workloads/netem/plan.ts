import type { WorkHost as NetHost } from '../../core/types.js';

export interface NetemConstraint {
  between: [string, string];
  /** Seconds (one way, each direction). */
  delay?: number;
  jitter?: number;
  rate?: string;
  /** Percent. */
  loss?: number;
}

/** What one host shapes toward one peer. */
export interface PeerRule {
  peer: string;
  peerAddress: string;
  delayMs?: number;
  jitterMs?: number;
  rate?: string;
  loss?: number;
}

/** The root handle greenrace owns (so removal never touches someone else's qdisc). */
export const NETEM_HANDLE = '4e7';

/**
 * Rules per host: for a constraint between roles A and B, every host of A shapes its traffic to
 * every other host of B, and every host of B to every other host of A (delay is one way, in
 * each direction). When two constraints cover the same pair, the later one wins.
 */
export function planNetem(hosts: NetHost[], constraints: NetemConstraint[]): Map<string, PeerRule[]> {
  const rules = new Map<string, Map<string, PeerRule>>();
  const inRole = (r: string): NetHost[] => hosts.filter((h) => (h.roles as string[]).includes(r));
  const add = (from: NetHost, to: NetHost, c: NetemConstraint): void => {
    if (from.name === to.name) return;
    const m = rules.get(from.name) ?? new Map<string, PeerRule>();
    const rule: PeerRule = { peer: to.name, peerAddress: to.address };
    if (c.delay !== undefined) rule.delayMs = round3(c.delay * 1000);
    if (c.jitter !== undefined) rule.jitterMs = round3(c.jitter * 1000);
    if (c.rate !== undefined) rule.rate = c.rate;
    if (c.loss !== undefined) rule.loss = c.loss;
    m.set(to.name, rule);
    rules.set(from.name, m);
  };
  for (const c of constraints) {
    const [a, b] = c.between;
    for (const x of inRole(a)) for (const y of inRole(b)) {
      add(x, y, c);
      add(y, x, c);
    }
  }
  return new Map([...rules].map(([h, m]) => [h, [...m.values()]]));
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** The shell script that installs a host's rules: htb root per device, a class + netem per peer, u32 filters. */
export function applyScript(rules: PeerRule[]): string {
  const H = NETEM_HANDLE;
  const lines = [
    'set -e',
    `dev_of() { ip -o route get "$1" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'; }`,
    'devs=""',
    'setup_dev() {',
    '  case " $devs " in *" $1 "*) return;; esac',
    `  tc qdisc del dev "$1" root 2>/dev/null || true`,
    `  tc qdisc add dev "$1" root handle ${H}: htb default 1 r2q 100000`,
    `  tc class add dev "$1" parent ${H}: classid ${H}:1 htb rate 100gbit`,
    '  devs="$devs $1"',
    '}',
  ];
  rules.forEach((r, i) => {
    const cls = (i + 0x10).toString(16);
    const netem: string[] = [];
    if (r.delayMs !== undefined || r.jitterMs !== undefined) netem.push('delay', `${r.delayMs ?? 0}ms`, ...(r.jitterMs ? [`${r.jitterMs}ms`] : []));
    if (r.loss !== undefined) netem.push('loss', `${r.loss}%`);
    lines.push(
      `d=$(dev_of ${r.peerAddress}); [ -n "$d" ] || { echo "no route to ${r.peer} (${r.peerAddress})" >&2; exit 3; }`,
      'setup_dev "$d"',
      `tc class add dev "$d" parent ${H}: classid ${H}:${cls} htb rate ${r.rate ?? '100gbit'}`,
      ...(netem.length
        ? [`tc qdisc add dev "$d" parent ${H}:${cls} handle ${cls}: netem ${netem.join(' ')} 2>/tmp/.gr-netem-err.$$ || { e=$(cat /tmp/.gr-netem-err.$$); rm -f /tmp/.gr-netem-err.$$; echo "netem: $e" >&2; exit 4; }`, `rm -f /tmp/.gr-netem-err.$$`]
        : []),
      `tc filter add dev "$d" parent ${H}: protocol ip prio 1 u32 match ip dst ${r.peerAddress}/32 flowid ${H}:${cls}`,
    );
  });
  lines.push('echo "applied ${devs# }"');
  return lines.join('\n');
}

/** Removes greenrace's root qdisc (handle 4e7:) from every device of the host; prints what it removed. */
export function removeScript(): string {
  return [
    `for d in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do`,
    `  if tc qdisc show dev "$d" 2>/dev/null | grep -q "qdisc htb ${NETEM_HANDLE}: root"; then tc qdisc del dev "$d" root && echo "removed $d"; fi`,
    'done',
    'true',
  ].join('\n');
}
