import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../../core/errors.js';
import type { WorkHost } from '../../core/types.js';
import type { RunRecord } from '../../runs/record.js';
import type { RunContext, RunHandle, ToolNeed } from '../contract.js';
import type { NetConfig } from '../net/schema.js';
import type { NetResult } from '../net/tools/types.js';
import { loadRacefile, parseParam, type LoadedRacefile } from './load.js';
import { runRace, type RaceOutcome } from './run.js';
import { hostOfNode, K8sExecutor } from '../../runtimes/k8s/executor.js';
import { runRaceK8s, type K8sRaceOutcome } from './k8s.js';


export interface RaceArgs {
  racefile: string;
  /** `name=value` parameters for a templated racefile. */
  params?: string[];
}

export interface RaceRunOutcome {
  record: RunRecord;
  dir: string;
  outcome?: RaceOutcome;
}

/** The racefile's `requires`, per role. */
export function raceNeeds(race: LoadedRacefile['race']): ToolNeed[] {
  return Object.entries(race.requires).map(([role, programs]) => ({ on: role, programs: programs ?? [] }));
}

/** The missing programs as the racefile's error, naming file, programs and hosts. */
function requiresError(file: string, canInstall: boolean) {
  return (missing: Array<{ program: string; host: string }>): RunError =>
    new RunError('race.tool_missing', `${file}: the racefile requires ${missing.map((m) => `${m.program} on ${m.host}`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed`, {
      hint: canInstall ? 'install it on the hosts (net-tools.yml installs the programs of the tool registry)' : 'install it on the hosts, or run the race on an experiment brought up by `setup` so net-tools.yml can install it',
    });
}

/**
 * A Podrace-style racefile on the experiment's hosts: deploy, warm-up laps, benchmark laps,
 * collectors, cleanup (always). One run record per race.
 */
export async function race(ctx: RunContext<NetConfig, RaceArgs>): Promise<RaceRunOutcome> {
  const params = Object.fromEntries((ctx.args.params ?? []).map(parseParam));
  const byRole: Record<string, Array<{ name: string; address: string }>> = { control: [], broker: [], worker: [] };
  for (const h of ctx.hosts) for (const r of h.roles) byRole[r]!.push({ name: h.name, address: h.address });
  const id = ctx.newRunId();
  const k8s = ctx.executor instanceof K8sExecutor ? ctx.executor : undefined;
  const loaded = loadRacefile(ctx.args.racefile, { params, hosts: byRole, run: { id }, k8s: k8s ? { namespace: k8s.namespace, images: k8s.images } : null });
  const run = ctx.startRun({ racefile: loaded.file, name: loaded.name, params }, { label: 'race', id });
  const rec = run.record;
  writeFileSync(join(run.dir, 'racefile.yaml'), loaded.rendered);
  rec.hosts = ctx.hosts.map((h) => ({ name: h.name, address: h.address, roles: h.roles }));
  rec.files = ['racefile.yaml'];
  let outcome: RaceOutcome;
  try {
    if (k8s) {
      const out: K8sRaceOutcome = await ctx.withNetem(run, () =>
        runRaceK8s(k8s, loaded.race, { runId: id, runDir: run.dir, file: ctx.args.racefile, racefile: loaded.file, ...(ctx.signal ? { signal: ctx.signal } : {}), progress: (l) => ctx.progress(l) }),
      );
      for (const p of out.pods) ctx.place(run, hostOfNode(ctx.hosts, { spec: { nodeName: p.node, containers: [] } }), `podrace-role ${p.role} (pod ${p.pod}, ${p.ip})`);
      outcome = out;
      rec.results = { k8s: { namespace: k8s.namespace, pods: out.pods, deleted: out.deleted } };
    } else {
      outcome = await hostRace(ctx, loaded, id, run);
    }
    await ctx.closeWindow(run, outcome.window);
    rec.results = {
      ...(rec.results ?? {}),
      laps: outcome.laps,
      collected: outcome.collected.map((c) => ({ host: c.host, role: c.role, source: c.source, path: c.path })),
      parsed: Object.fromEntries(outcome.collected.filter((c) => c.parsed).map((c) => [c.path, c.parsed])),
      cleanup: outcome.cleanup,
    };
    rec.files = ['racefile.yaml', ...outcome.collected.map((c) => c.path)];
  } catch (e) {
    ctx.finishRun(run, e);
    throw e;
  }
  ctx.finishRun(run);
  return { record: rec, dir: run.dir, outcome };
}

/** The race on the experiment's hosts: requires checked (and installed), placement, netem around it. */
async function hostRace(ctx: RunContext<NetConfig, RaceArgs>, loaded: LoadedRacefile, id: string, run: RunHandle): Promise<RaceOutcome> {
  const onRole = (role: string): WorkHost[] => ctx.hosts.filter((h) => (h.roles as string[]).includes(role));
  await ctx.preflight(raceNeeds(loaded.race), onRole, run, { missing: requiresError(ctx.args.racefile, ctx.executor.canInstall), hosts: ctx.hosts });
  for (const h of ctx.hosts) ctx.place(run, h, `racefile roles ${h.roles.join(',')}`);
  return ctx.withNetem(run, () =>
    runRace(ctx.executor, ctx.hosts, loaded.race, { runId: id, runDir: run.dir, file: ctx.args.racefile, ...(ctx.signal ? { signal: ctx.signal } : {}), progress: (l) => ctx.progress(l) }),
  );
}

/** The runs.csv line of a race. */
export function raceCsvRow(r: RunRecord): Record<string, unknown> {
  const res = (r.results ?? {}) as { collected?: unknown[]; parsed?: Record<string, NetResult> };
  const parsed = Object.values(res.parsed ?? {});
  const sum = parsed.length ? parsed.reduce((a, c) => a + (c.throughputOpsPerSecond ?? 0), 0) : null;
  return {
    run_id: r.id,
    workload: 'race',
    racefile: (r.parameters as { name?: string }).name,
    started_at: r.startedAt,
    benchmark_seconds: r.window ? r.window.end - r.window.start : null,
    collected_files: res.collected?.length ?? 0,
    ops_per_s_total: sum,
    p99_us_max: parsed.length ? Math.max(...parsed.map((c) => c.latencyMicroseconds?.p99 ?? 0)) : null,
  };
}
