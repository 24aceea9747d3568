/**
 * A Podrace racefile on Kubernetes (seed 003), as Podrace runs it: the `configs` manifests applied
 * (server-side, labelled with the run and `podrace=true` on their pods), their pods waited for;
 * warm-up and benchmark laps exec'd in every pod whose `podrace-role` label is the lap's role (any
 * role name); file collectors copy from each such pod by tar over exec into
 * `<run dir>/<pod>/<file>`; then, whatever happened, `exec` configs' `undo` and every object of the
 * run deleted by its label.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { ConfigError, InterruptedError, RunError } from '../../core/errors.js';
import { shJoin } from '../../core/shell.js';
import type { K8sExecutor } from '../../runtimes/k8s/executor.js';
import { parseManifests, prepare, selector, type KubeObject } from '../../runtimes/k8s/manifests.js';
import { tool } from '../net/tools/registry.js';
import type { CollectedFile, LapResult, RaceOptions, RaceOutcome } from './run.js';
import type { Racefile, RaceLap } from './schema.js';

export const ROLE_LABEL = 'podrace-role';

export interface RacePod {
  pod: string;
  role: string;
  node: string;
  ip: string;
}

export interface K8sRaceOutcome extends RaceOutcome {
  pods: RacePod[];
  deleted: string[];
}

const WORKLOADS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

/** The objects of a racefile's Kubernetes configs (files relative to the racefile), in order. */
export function raceManifests(race: Racefile, racefile: string): Array<{ index: number; source: string; objects: KubeObject[]; readyTimeout: number }> {
  const out: Array<{ index: number; source: string; objects: KubeObject[]; readyTimeout: number }> = [];
  race.configs.forEach((c, index) => {
    if (c.type !== 'kubernetes') return;
    const key = `configs[${index}]`;
    let text: string;
    let source: string;
    if ('file' in c && c.file) {
      const path = resolve(dirname(racefile), c.file);
      source = `${c.file} (${key})`;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        throw new ConfigError('race.config_file', `${racefile}: ${key}: cannot read ${path}`, { file: racefile });
      }
    } else {
      source = `${racefile} ${key}.manifests`;
      text = ((c as { manifests?: unknown[] }).manifests ?? []).map((m) => yaml.dump(m)).join('---\n');
    }
    out.push({ index, source, objects: parseManifests(text, source), readyTimeout: c.ready_timeout });
  });
  return out;
}

/** How many pods the workload objects ask for (DaemonSets: one per node that matches, given). */
export function expectedPods(objects: KubeObject[], daemonSetPods: (name: string) => number): number {
  let n = 0;
  for (const o of objects) {
    const spec = (o.spec ?? {}) as { replicas?: number };
    if (o.kind === 'Pod') n += 1;
    else if (o.kind === 'DaemonSet') n += daemonSetPods(o.metadata.name);
    else if (WORKLOADS.has(o.kind)) n += spec.replicas ?? 1;
  }
  return n;
}

/** Each workload object's pods labelled `podrace=true` (besides the run's labels). */
function markPods(objects: KubeObject[]): KubeObject[] {
  return objects.map((o) => {
    if (!WORKLOADS.has(o.kind)) return o;
    const c = structuredClone(o);
    const meta = c.kind === 'Pod' ? c.metadata : (((c.spec as Record<string, unknown>).template as { metadata?: { labels?: Record<string, string> } }).metadata ??= {});
    meta.labels = { ...(meta.labels ?? {}), podrace: 'true' };
    return c;
  });
}

const cmdString = (c: string | string[]): string => (Array.isArray(c) ? shJoin(c) : c);

class K8sRace {
  pods: RacePod[] = [];
  readonly laps: LapResult[] = [];
  readonly collected: CollectedFile[] = [];
  readonly undo: Array<{ pod: string; command: string; what: string }> = [];
  readonly cleanupLog: string[] = [];

  constructor(
    readonly ex: K8sExecutor,
    readonly race: Racefile,
    readonly opts: RaceOptions & { racefile: string },
  ) {}

  get sig(): { signal?: AbortSignal } {
    return this.opts.signal ? { signal: this.opts.signal } : {};
  }

  check(): void {
    if (this.opts.signal?.aborted) throw new InterruptedError('race interrupted');
  }

  rolePods(role: string, key: string): RacePod[] {
    const list = this.pods.filter((p) => p.role === role);
    if (!list.length) {
      const roles = [...new Set(this.pods.map((p) => p.role))];
      throw new ConfigError('race.empty_role', `${this.opts.file}: ${key}.role: no pod has the label ${ROLE_LABEL}=${role} (pods: ${this.pods.map((p) => `${p.pod}[${p.role}]`).join(' ') || 'none'}${roles.length ? `; roles: ${roles.join(', ')}` : ''})`, { file: this.opts.file });
    }
    return list;
  }

  async deploy(): Promise<void> {
    const { ex, race } = this;
    const sets = raceManifests(race, this.opts.racefile);
    const all: KubeObject[] = [];
    for (const s of sets) {
      const objs = markPods(prepare(s.objects, ex.namespace, ex.labels(this.opts.runId), s.source));
      this.opts.progress?.(`apply configs[${s.index}]: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
      await ex.apply(objs);
      all.push(...objs);
    }
    const dsPods = new Map<string, number>();
    for (const o of all.filter((x) => x.kind === 'DaemonSet')) {
      // The DaemonSet controller counts the nodes it will run on.
      for (let i = 0; i < 30 && !dsPods.get(o.metadata.name); i++) {
        const ds = await ex.kube.read<{ status?: { desiredNumberScheduled?: number } }>('apps/v1', 'DaemonSet', ex.namespace, o.metadata.name);
        if (ds?.status?.desiredNumberScheduled) dsPods.set(o.metadata.name, ds.status.desiredNumberScheduled);
        else await new Promise((r) => setTimeout(r, 500));
      }
    }
    const count = expectedPods(all, (n) => dsPods.get(n) ?? 1);
    const timeout = Math.max(60, ...sets.map((s) => s.readyTimeout));
    let ready: V1Pod[] = [];
    if (count > 0) ready = await ex.kube.waitReady(ex.namespace, selector({ 'greenrace.io/run': this.opts.runId, podrace: 'true' }), count, { timeoutMs: timeout * 1000, what: `the racefile's pods`, ...this.sig });
    this.pods = ready
      .map((p) => ({ pod: p.metadata!.name!, role: p.metadata?.labels?.[ROLE_LABEL] ?? '', node: p.spec?.nodeName ?? '?', ip: p.status?.podIP ?? '' }))
      .sort((a, b) => a.role.localeCompare(b.role) || a.pod.localeCompare(b.pod));
    // Commands run at deploy time (exec configs), in every pod of their role.
    for (const [i, c] of race.configs.entries()) {
      if (c.type === 'process') throw new ConfigError('race.process_on_k8s', `${this.opts.file}: configs[${i}] is a process config: on runtime k3s give programs as Kubernetes manifests (a Deployment with the podrace-role label)`, { file: this.opts.file });
      if (c.type !== 'exec') continue;
      for (const p of this.rolePods(c.role, `configs[${i}]`)) {
        if (c.undo) this.undo.push({ pod: p.pod, command: cmdString(c.undo), what: `configs[${i}].undo` });
        const r = await ex.exec(p.pod, cmdString(c.command), { timeoutMs: c.timeout * 1000, ...this.sig });
        if (r.code !== 0) throw new RunError('race.config_failed', `${this.opts.file}: configs[${i}] failed in pod ${p.pod} (${r.error ?? `exit ${r.code ?? 'timeout'}`})`, { details: (r.stderr.toString() || r.stdout.toString()).trim().split('\n').slice(-15) });
      }
    }
  }

  /** The racefile's `requires`: each program checked in the pods of its role. */
  async requires(): Promise<void> {
    const missing: string[] = [];
    for (const [role, programs] of Object.entries(this.race.requires)) {
      if (!programs?.length) continue;
      for (const p of this.rolePods(role, `requires.${role}`)) {
        const r = await this.ex.exec(p.pod, programs.map((b) => `command -v ${b} >/dev/null || echo ${b}`).join('; '), { timeoutMs: 30_000, ...this.sig });
        missing.push(...r.stdout.toString().split('\n').filter(Boolean).map((b) => `${b} in pod ${p.pod}`));
      }
    }
    if (missing.length) throw new RunError('race.tool_missing', `${this.opts.file}: the racefile requires ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not in the image`);
  }

  async lap(phase: 'warmup' | 'benchmark', index: number, lap: RaceLap): Promise<void> {
    this.check();
    const name = lap.name ?? `${phase}-${index}`;
    const start = Date.now() / 1000;
    if (lap.type === 'sleep') {
      this.opts.progress?.(`${phase}[${index}] sleep ${lap.duration}s`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, lap.duration * 1000);
        this.opts.signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
      });
      this.check();
      this.laps.push({ phase, index, name, start, end: Date.now() / 1000, hosts: [] });
      return;
    }
    const pods = this.rolePods(lap.role, `${phase}[${index}]`);
    this.opts.progress?.(`${phase}[${index}] ${name} in ${pods.map((p) => p.pod).join(', ')}`);
    const results = await Promise.all(
      pods.map(async (p) => {
        const r = await this.ex.exec(p.pod, cmdString(lap.command), { timeoutMs: lap.timeout * 1000, ...this.sig });
        const dir = join(this.opts.runDir, p.pod, 'laps');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${name}.out`), r.stdout);
        writeFileSync(join(dir, `${name}.err`), r.error ? `${r.stderr.toString()}${r.error}\n` : r.stderr);
        return { p, r };
      }),
    );
    this.laps.push({ phase, index, name, role: lap.role, start, end: Date.now() / 1000, hosts: results.map(({ p, r }) => ({ host: p.pod, code: r.code, seconds: r.durationMs / 1000, timedOut: r.timedOut })) });
    this.check();
    const bad = results.filter((x) => x.r.code !== 0);
    if (!bad.length) return;
    const b = bad[0]!;
    const why = b.r.error ?? (b.r.timedOut ? `timed out after ${lap.timeout} s` : `exit ${b.r.code}`);
    throw new RunError('race.lap_failed', `${this.opts.file}: ${phase}[${index}] (${name}) failed in pod ${bad.map((x) => x.p.pod).join(', ')}: ${why}`, {
      details: (b.r.stderr.toString() || b.r.stdout.toString()).trim().split('\n').slice(-15),
      logFile: join(this.opts.runDir, b.p.pod, 'laps', `${name}.err`),
    });
  }

  async collect(): Promise<void> {
    for (const [i, c] of this.race.collectors.entries()) {
      this.check();
      const pods = this.rolePods(c.role, `collectors[${i}]`);
      this.opts.progress?.(`collect ${c.source} from ${pods.map((p) => p.pod).join(', ')}`);
      await Promise.all(
        pods.map(async (p) => {
          const entries = await this.ex.copyFrom(p.pod, c.source, this.sig);
          const files = entries.filter((e) => e.type === 'file');
          if (!files.length) throw new RunError('race.collect_failed', `${this.opts.file}: collectors[${i}]: ${c.source} in pod ${p.pod} holds no file`);
          const base = c.source.split('/').filter(Boolean).pop()!;
          const dest = c.destination ?? base;
          for (const f of files) {
            // A file lands at <pod>/<destination>; a folder's files under it.
            const rel = files.length === 1 && (f.name === base || !f.name.includes('/')) ? dest : join(dest, f.name.split('/').slice(1).join('/'));
            const local = join(this.opts.runDir, p.pod, rel);
            mkdirSync(dirname(local), { recursive: true });
            writeFileSync(local, f.data);
            const entry: CollectedFile = { host: p.pod, role: c.role, source: c.source, path: join(p.pod, rel) };
            if (c.parse) {
              const parse = tool(c.parse).parse!;
              entry.parsed = parse(f.data.toString('utf8'), `${c.parse} report from pod ${p.pod} (collectors[${i}])`);
            }
            this.collected.push(entry);
          }
        }),
      );
    }
  }

  async cleanup(): Promise<string[]> {
    for (const u of this.undo.reverse()) {
      const r = await this.ex.exec(u.pod, u.command, { timeoutMs: 120_000 }).catch((e: Error) => ({ code: -1, error: e.message, stderr: Buffer.alloc(0) }));
      this.cleanupLog.push(`${u.what} in pod ${u.pod}: ${r.code === 0 ? 'ok' : `${'error' in r && r.error ? r.error : `exit ${r.code}`}`}`);
    }
    const deleted = await this.ex.cleanup(this.opts.runId).catch((e: Error) => [`cleanup failed: ${e.message}`]);
    this.cleanupLog.push(`deleted ${deleted.length} objects of run ${this.opts.runId}`);
    return deleted;
  }
}

/** Run a racefile on the cluster; configs deleted whatever happens. */
export async function runRaceK8s(ex: K8sExecutor, race: Racefile, opts: RaceOptions & { racefile: string }): Promise<K8sRaceOutcome> {
  const st = new K8sRace(ex, race, opts);
  // Manifests read and checked before anything is applied.
  raceManifests(race, opts.racefile).forEach((s) => prepare(s.objects, ex.namespace, ex.labels(opts.runId), s.source));
  let warmupStart: number | undefined;
  let benchStart = 0;
  let benchEnd = 0;
  let failure: unknown;
  try {
    await st.deploy();
    await st.requires();
    if (race.warmup.length) warmupStart = Date.now() / 1000;
    for (const [i, lap] of race.warmup.entries()) await st.lap('warmup', i, lap);
    benchStart = Date.now() / 1000;
    for (const [i, lap] of race.benchmark.entries()) await st.lap('benchmark', i, lap);
    benchEnd = Date.now() / 1000;
    await st.collect();
  } catch (e) {
    failure = e;
  }
  const deleted = await st.cleanup();
  if (failure) throw failure;
  const window = { start: benchStart, end: benchEnd, ...(warmupStart !== undefined ? { warmupStart } : {}) };
  return { laps: st.laps, collected: st.collected, window, cleanup: st.cleanupLog, pods: st.pods, deleted };
}
