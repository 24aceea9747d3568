/** Parts of the run context that wrap a run: host facts, network emulation, PCP recording. */
import { errorMessage } from '../core/errors.js';
import type { WorkHost } from '../core/types.js';
import type { Executor } from '../runtimes/executor.js';
import type { RunHandle } from '../workloads/contract.js';
import type { NetConfig } from '../workloads/net/schema.js';
import { applyNetem, removeNetem } from '../workloads/netem/apply.js';
import { collectPcp, startPcp, stopPcp, type PcpRecording } from '../workloads/pcp/logger.js';
import type { PcpSummary } from '../workloads/pcp/summary.js';

const FACTS = `echo "hostname=$(hostname)"; echo "kernel=$(uname -r)"; echo "arch=$(uname -m)"; echo "cpus=$(nproc)"; awk '/MemTotal/{print "memory_kb="$2}' /proc/meminfo; sed -n 's/^model name[[:space:]]*: /cpu_model=/p' /proc/cpuinfo | head -1`;

/** Facts about hosts for the run record: from setup's gathered metadata, else a quick probe. */
export function hostFacts(ex: Executor, metadata: Record<string, unknown>, hosts: WorkHost[], signal?: AbortSignal): Promise<Array<Record<string, unknown>>> {
  return Promise.all(
    hosts.map(async (h) => {
      const known = metadata[h.name];
      if (known && typeof known === 'object') return { ...(known as Record<string, unknown>), name: h.name, roles: h.roles };
      const r = await ex.run(h, FACTS, { timeoutMs: 20_000, ...(signal ? { signal } : {}) }).catch(() => undefined);
      const facts: Record<string, unknown> = { name: h.name, address: h.address, roles: h.roles };
      for (const l of (r?.stdout ?? '').split('\n')) {
        const i = l.indexOf('=');
        if (i > 0) facts[l.slice(0, i)] = /^\d+$/.test(l.slice(i + 1)) ? Number(l.slice(i + 1)) : l.slice(i + 1);
      }
      return facts;
    }),
  );
}

/** Emulation for the run (net.netem with netem_apply: run): applied before, removed after, always. */
export async function withNetem<T>(ex: Executor, hosts: WorkHost[], n: Pick<NetConfig, 'netem' | 'netem_apply'>, run: RunHandle, signal: AbortSignal | undefined, f: () => Promise<T>): Promise<T> {
  if (!n.netem.length || n.netem_apply !== 'run') return f();
  const applied = await applyNetem(ex, hosts, n.netem, signal);
  run.record.parameters.netem = applied.rules;
  try {
    return await f();
  } finally {
    await removeNetem(ex, hosts);
  }
}

const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });

/** PCP around `f` on `hosts` (net.pcp): started before, stopped after, archives collected and summarised into the run. */
export async function withPcp<T>(
  ex: Executor,
  n: Pick<NetConfig, 'pcp' | 'pcp_interval'>,
  run: RunHandle,
  hosts: WorkHost[],
  maxSeconds: number,
  o: { signal?: AbortSignal; progress: (l: string) => void },
  f: () => Promise<T>,
): Promise<T> {
  if (!n.pcp) return f();
  const recs: PcpRecording[] = [];
  try {
    for (const h of hosts) recs.push(await startPcp(ex, h, run.id, { interval: n.pcp_interval, maxSeconds, ...(o.signal ? { signal: o.signal } : {}) }));
  } catch (e) {
    await Promise.all(recs.map((r) => stopPcp(ex, r)));
    throw e;
  }
  o.progress(`PCP: pmlogger on ${hosts.map((h) => h.name).join(', ')} every ${n.pcp_interval} s`);
  let out: T;
  try {
    out = await f();
    // One more sample after the run's end (pmlogger samples every interval from its start): the
    // recording then covers the whole window, and the last interval's bytes are counted.
    await pause(n.pcp_interval * 1000 + 250, o.signal);
  } finally {
    await Promise.all(recs.map((r) => stopPcp(ex, r)));
  }
  const summaries: Record<string, PcpSummary> = {};
  const errors: Record<string, string> = {};
  const rec = run.record;
  for (const r of recs) {
    try {
      const c = await collectPcp(ex, r, run.dir, o.signal);
      summaries[c.host] = c.summary;
      rec.files = [...(rec.files ?? []), ...c.files];
    } catch (e) {
      errors[r.host.name] = errorMessage(e);
    }
  }
  rec.results = { ...(rec.results ?? {}), pcp: summaries, ...(Object.keys(errors).length ? { pcpErrors: errors } : {}) };
  return out;
}
