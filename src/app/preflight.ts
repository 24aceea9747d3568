/**
 * The tools preflight of a run: the programs each need names on the hosts it is placed on, checked
 * in one round trip per host; with `net.install_tools: missing` what is missing is installed
 * through the executor (packages from the tool registry) and checked again, with `always` installed
 * first. Still missing: one error naming program and host.
 */
import { RunError } from '../core/errors.js';
import type { WorkHost } from '../core/types.js';
import type { Executor, ToolNeeds } from '../runtimes/executor.js';
import type { PreflightOptions, RunHandle, ToolNeed } from '../workloads/contract.js';
import { missingPrograms } from '../workloads/net/tools/driver.js';
import { installOf, toolOfProgram } from '../workloads/net/tools/registry.js';
import { missingPcp } from '../workloads/pcp/logger.js';

export interface PreflightRun extends PreflightOptions {
  mode: 'missing' | 'always' | 'never';
  uperfSource?: string;
  run?: RunHandle;
  signal?: AbortSignal;
  progress: (l: string) => void;
}

type Missing = Array<{ program: string; host: string; h: WorkHost }>;

async function findMissing(ex: Executor, wanted: Map<WorkHost, Set<string>>, signal?: AbortSignal): Promise<Missing> {
  const out: Missing = [];
  await Promise.all([...wanted].map(async ([h, progs]) => out.push(...(await missingPrograms(ex, h, [...progs], signal)).map((program) => ({ program, host: h.name, h })))));
  return out.sort((a, b) => a.host.localeCompare(b.host) || a.program.localeCompare(b.program));
}

/** What the executor installs for these programs (those the registry knows how to). */
export function toolNeedsOf(programs: Iterable<string>, pcp: boolean, uperfSource?: string): ToolNeeds {
  const packages = new Map<string, string>();
  let uperf = false;
  for (const p of programs) {
    const how = installOf(p);
    if (how && 'packages' in how) how.packages.forEach((x) => packages.set(x, p));
    else if (how && 'installer' in how && how.installer === 'uperf') uperf = true;
  }
  const out: ToolNeeds = { packages: [...packages.keys()], ...(uperf ? { uperf } : {}), ...(pcp ? { pcp } : {}), ...(uperf && uperfSource ? { uperfSource } : {}) };
  if (packages.size) out.programs = Object.fromEntries(packages);
  return out;
}

const installable = (n: ToolNeeds): boolean => n.packages.length > 0 || Boolean(n.uperf) || Boolean(n.pcp);

function defaultError(missing: Array<{ program: string; host: string }>): Error {
  const tools = [...new Set(missing.map((m) => toolOfProgram(m.program)?.name ?? m.program))];
  const hint = tools.map((t) => toolOfProgram(t)?.installHint ?? `install ${t} on the hosts`).join('; ');
  return new RunError('net.tool_missing', `${tools.join(', ')} ${tools.length > 1 ? 'are' : 'is'} not installed: missing ${missing.map((m) => `${m.program} on ${m.host}`).join(', ')}`, { hint });
}

export async function preflight(ex: Executor, needs: ToolNeed[], place: (on: string) => WorkHost[], o: PreflightRun): Promise<void> {
  const wanted = new Map<WorkHost, Set<string>>();
  for (const n of needs) for (const h of place(n.on)) wanted.set(h, new Set([...(wanted.get(h) ?? []), ...n.programs]));
  const all = o.hosts ?? [...wanted.keys()];
  const pcpHosts = o.pcp ? [...new Set(needs.flatMap((n) => place(n.on)))] : [];
  const install = async (hosts: WorkHost[], programs: Iterable<string>, pcp: boolean): Promise<void> => {
    const tn = toolNeedsOf(programs, pcp, o.uperfSource);
    if (!ex.canInstall || !installable(tn) || o.mode === 'never') return;
    const r = await ex.installTools(hosts, tn, { progress: o.progress, ...(o.signal ? { signal: o.signal } : {}) });
    if (o.run) o.run.record.parameters.toolsInstalled = { playbook: r.via, hosts: r.hosts, packages: tn.packages, changed: r.changed, ...(r.log ? { log: r.log } : {}) };
  };
  if (o.mode === 'always') await install(all, [...wanted.values()].flatMap((s) => [...s]), Boolean(o.pcp));
  let missing = await findMissing(ex, wanted, o.signal);
  let pcpMissing = pcpHosts.length ? await missingPcp(ex, pcpHosts, o.signal) : [];
  if ((missing.length || pcpMissing.length) && o.mode === 'missing' && ex.canInstall) {
    if (missing.length) o.progress((o.missing ?? defaultError)(missing).message);
    const hosts = [...new Set([...missing.map((m) => m.h), ...(pcpMissing.length ? pcpHosts : [])])];
    await install(hosts, missing.map((m) => m.program), pcpMissing.length > 0);
    missing = await findMissing(ex, wanted, o.signal);
    pcpMissing = pcpHosts.length ? await missingPcp(ex, pcpHosts, o.signal) : [];
  }
  if (missing.length) throw (o.missing ?? defaultError)(missing);
  if (pcpMissing.length) {
    throw new RunError('net.tool_missing', `PCP is not installed: missing ${pcpMissing.join(', ')}`, {
      hint: ex.canInstall
        ? 'set up the experiment (net-tools.yml installs pcp with net.pcp: true), or run ansible/playbooks/net-tools.yml -e gr_net_pcp=true'
        : `on Kubernetes (runtime k3s) programs come with the cluster's tools image: rebuild it with setup/install.sh --k8s (setup/k8s/images.py puts pcp in it), then set the experiment up again`,
    });
  }
}
