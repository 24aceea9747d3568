/**
 * `race <racefile> --exp <exp>`: a Podrace-style racefile on the experiment's hosts: deploy,
 * warm-up laps, benchmark laps, collectors, cleanup (always). One run record per race.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadExperiment } from '../config/loader.js';
import { InterruptedError, RunError, errorMessage, isGreenraceError } from '../core/errors.js';
import { stateDir } from '../core/paths.js';
import type { HostExec } from '../workloads/net/exec.js';
import { appendRunCsv, runDir, saveRunRecord, type RunRecord } from '../runs/record.js';
import { newRunId } from '../runs/run-id.js';
import { hostsFromState, installTools, type HostSource } from './net.js';
import type { NetHost } from '../workloads/net/types.js';
import { SshExec } from '../workloads/net/ssh-exec.js';
import { loadRacefile, parseParam } from '../workloads/race/load.js';
import { runRace, type RaceOutcome } from '../workloads/race/run.js';
import { applyNetem, removeNetem } from '../workloads/netem/apply.js';

export interface RaceRunOptions extends HostSource {
  racefile: string;
  exp: string;
  /** `name=value` parameters for a templated racefile. */
  params?: string[];
  set?: string[];
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface RaceRunOutcome {
  record: RunRecord;
  dir: string;
  outcome?: RaceOutcome;
}

/** Programs the net-tools.yml playbook can install, and their Debian packages. */
const PROGRAM_PACKAGES: Record<string, string> = { nginx: 'nginx-light', wrk: 'wrk', iperf3: 'iperf3', sockperf: 'sockperf' };

/** The racefile's `requires`: "program on host" for every program missing on a host of its role. */
async function missingPrograms(exec: HostExec, hosts: NetHost[], requires: Partial<Record<string, string[]>>, signal?: AbortSignal): Promise<Array<{ host: NetHost; program: string }>> {
  const out: Array<{ host: NetHost; program: string }> = [];
  await Promise.all(
    hosts.map(async (h) => {
      const progs = [...new Set(h.roles.flatMap((r) => requires[r] ?? []))];
      if (!progs.length) return;
      const r = await exec.exec(h, progs.map((p) => `command -v ${p} >/dev/null || echo ${p}`).join('; '), { timeoutMs: 20_000, signal });
      for (const p of r.stdout.split('\n').map((x) => x.trim()).filter(Boolean)) out.push({ host: h, program: p });
    }),
  );
  return out.sort((a, b) => a.host.name.localeCompare(b.host.name) || a.program.localeCompare(b.program));
}

/**
 * The race's preflight: the racefile's `requires` on each role's hosts. With the experiment's state and
 * net.install_tools `missing` (or `always`), net-tools.yml installs what it knows, then the check runs again.
 */
async function racePreflight(
  exec: HostExec,
  hosts: NetHost[],
  requires: Partial<Record<string, string[]>>,
  o: { exp: string; file: string; stateDir?: string; mode: 'missing' | 'always' | 'never'; progress?: (l: string) => void; signal?: AbortSignal },
): Promise<Record<string, unknown> | undefined> {
  const all = [...new Set(Object.values(requires).flatMap((x) => x ?? []))];
  let missing = await missingPrograms(exec, hosts, requires, o.signal);
  const wanted = o.mode === 'always' ? all : o.mode === 'missing' ? missing.map((m) => m.program) : [];
  const packages = [...new Set(wanted.map((p) => PROGRAM_PACKAGES[p]).filter((x): x is string => Boolean(x)))];
  let installed: Record<string, unknown> | undefined;
  if (o.stateDir && packages.length && (o.mode === 'always' || missing.length)) {
    const targets = o.mode === 'always' ? hosts : [...new Set(missing.map((m) => m.host))];
    const r = await installTools({ exp: o.exp, stateDir: o.stateDir, hosts: targets, needs: { packages, uperf: false, pcp: false }, ...(o.progress ? { progress: o.progress } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    installed = { playbook: 'net-tools', hosts: targets.map((h) => h.name), packages, changed: Object.values(r.recap).reduce((a, x) => a + (x.changed ?? 0), 0), log: r.logFile };
    missing = await missingPrograms(exec, hosts, requires, o.signal);
  }
  if (missing.length) {
    throw new RunError('race.tool_missing', `${o.file}: the racefile requires ${missing.map((m) => `${m.program} on ${m.host.name}`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed`, {
      hint: o.stateDir ? 'install it on the hosts (net-tools.yml knows nginx, wrk, iperf3, sockperf)' : 'install it on the hosts, or run the race on an experiment brought up by `setup` so net-tools.yml can install it',
    });
  }
  return installed;
}

export async function race(o: RaceRunOptions): Promise<RaceRunOutcome> {
  const { experiment } = loadExperiment(o.exp, { set: o.set });
  const hosts: NetHost[] = o.hosts ?? hostsFromState(experiment.name).hosts;
  const params = Object.fromEntries((o.params ?? []).map(parseParam));
  const id = newRunId();
  const byRole: Record<string, Array<{ name: string; address: string }>> = { control: [], broker: [], worker: [] };
  for (const h of hosts) for (const r of h.roles) byRole[r]!.push({ name: h.name, address: h.address });
  const loaded = loadRacefile(o.racefile, { params, hosts: byRole, run: { id } });
  const dir = runDir(experiment.name, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'racefile.yaml'), loaded.rendered);
  const rec: RunRecord = {
    schema: 'greenrace.run/1',
    id,
    experiment: experiment.name,
    workload: 'race',
    status: 'running',
    startedAt: new Date().toISOString(),
    parameters: { racefile: loaded.file, name: loaded.name, params },
    hosts: hosts.map((h) => ({ name: h.name, address: h.address, roles: h.roles })),
    files: ['racefile.yaml'],
  };
  saveRunRecord(rec);
  const exec = o.exec ?? new SshExec();
  let outcome: RaceOutcome | undefined;
  let err: unknown;
  const netem = experiment.net.netem_apply === 'run' ? experiment.net.netem : [];
  try {
    const installed = await racePreflight(exec, hosts, loaded.race.requires, {
      exp: experiment.name,
      file: o.racefile,
      mode: experiment.net.install_tools,
      ...(o.hosts ? (o.stateDir ? { stateDir: o.stateDir } : {}) : { stateDir: stateDir(experiment.name) }),
      ...(o.progress ? { progress: o.progress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (installed) rec.parameters.toolsInstalled = installed;
    if (netem.length) rec.parameters.netem = (await applyNetem(exec, hosts, netem, o.signal)).rules;
    try {
      outcome = await runRace(exec, hosts, loaded.race, { runId: id, runDir: dir, file: o.racefile, signal: o.signal, progress: o.progress });
    } finally {
      if (netem.length) await removeNetem(exec, hosts);
    }
    rec.window = outcome.window;
    rec.results = {
      laps: outcome.laps,
      collected: outcome.collected.map((c) => ({ host: c.host, role: c.role, source: c.source, path: c.path })),
      parsed: Object.fromEntries(outcome.collected.filter((c) => c.parsed).map((c) => [c.path, c.parsed])),
      cleanup: outcome.cleanup,
    };
    rec.files = ['racefile.yaml', ...outcome.collected.map((c) => c.path)];
  } catch (x) {
    err = x;
  } finally {
    rec.endedAt = new Date().toISOString();
    if (err === undefined) rec.status = 'completed';
    else {
      rec.status = err instanceof InterruptedError || o.signal?.aborted ? 'aborted' : 'failed';
      rec.error = { code: isGreenraceError(err) ? err.code : 'internal', message: errorMessage(err) };
    }
    saveRunRecord(rec);
    if (!o.exec) await exec.close();
  }
  if (err) throw err;
  const parsed = outcome!.collected.filter((c) => c.parsed);
  const sum = (f: (c: (typeof parsed)[number]) => number | null | undefined): number | null =>
    parsed.length ? parsed.reduce((a, c) => a + (f(c) ?? 0), 0) : null;
  appendRunCsv(experiment.name, 'race', {
    run_id: id,
    workload: 'race',
    racefile: loaded.name,
    started_at: rec.startedAt,
    benchmark_seconds: outcome!.window.end - outcome!.window.start,
    collected_files: outcome!.collected.length,
    ops_per_s_total: sum((c) => c.parsed!.throughputOpsPerSecond),
    p99_us_max: parsed.length ? Math.max(...parsed.map((c) => c.parsed!.latencyMicroseconds?.p99 ?? 0)) : null,
  });
  return { record: rec, dir, outcome: outcome! };
}
