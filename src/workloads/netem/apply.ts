import { RunError } from '../../core/errors.js';
import type { WorkHost as NetHost } from '../../core/types.js';
import type { Executor } from '../../runtimes/executor.js';
import { applyScript, planNetem, removeScript, type NetemConstraint, type PeerRule } from './plan.js';

export interface NetemApplied {
  rules: Record<string, PeerRule[]>;
}

/**
 * Apply the constraints on every host concerned (replacing greenrace's earlier rules there).
 * All or nothing: when a host fails (no netem in its kernel, no route), every host is cleaned
 * and the error names the host.
 */
export async function applyNetem(ex: Executor, hosts: NetHost[], constraints: NetemConstraint[], signal?: AbortSignal): Promise<NetemApplied> {
  const plan = planNetem(hosts, constraints);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const results = await Promise.all(
    [...plan].map(async ([name, rules]) => ({ name, r: await ex.run(byName.get(name)!, applyScript(rules), { timeoutMs: 60_000, ...(signal ? { signal } : {}) }) })),
  );
  const bad = results.filter((x) => x.r.code !== 0);
  if (bad.length) {
    await removeNetem(ex, hosts).catch(() => undefined);
    const b = bad[0]!;
    const msg = b.r.stderr.trim();
    if (/netem: .*(unknown|not supported|No such file)/i.test(msg)) {
      throw new RunError('net.netem_unsupported', `network emulation: the kernel of ${bad.map((x) => x.name).join(', ')} has no netem qdisc (CONFIG_NET_SCH_NETEM), so delay/loss cannot be emulated there`, {
        details: [msg],
        hint: 'rate limits (htb) still work; use hosts whose kernel has sch_netem for delay and loss',
      });
    }
    throw new RunError('net.netem_failed', `network emulation failed on ${bad.map((x) => x.name).join(', ')}`, { details: msg.split('\n').slice(-10) });
  }
  return { rules: Object.fromEntries(plan) };
}

/** Remove greenrace's shaping from every host (idempotent; the function killjob calls). Returns "host: dev" lines. */
export async function removeNetem(ex: Executor, hosts: NetHost[]): Promise<string[]> {
  const out = await Promise.all(
    hosts.map(async (h) => {
      const r = await ex.run(h, removeScript(), { timeoutMs: 30_000 }).catch(() => undefined);
      return (r?.stdout ?? '').split('\n').filter(Boolean).map((l) => `${h.name}: ${l}`);
    }),
  );
  return out.flat();
}
