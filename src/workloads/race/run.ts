import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InterruptedError, RunError, ConfigError } from '../../core/errors.js';
import { shJoin, shq } from '../../core/shell.js';
import type { WorkHost as NetHost } from '../../core/types.js';
import type { Executor, Started } from '../../runtimes/executor.js';
import { tool } from '../net/tools/registry.js';
import type { NetResult } from '../net/tools/types.js';
import type { Racefile, RaceLap } from './schema.js';

export interface RaceOptions {
  runId: string;
  /** Local run folder: collected files go to `<runDir>/<host>/<destination>`. */
  runDir: string;
  file: string;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface LapHostResult {
  host: string;
  code: number | null;
  seconds: number;
  timedOut: boolean;
}

export interface LapResult {
  phase: 'warmup' | 'benchmark';
  index: number;
  name: string;
  role?: string;
  start: number;
  end: number;
  hosts: LapHostResult[];
}

export interface CollectedFile {
  host: string;
  role: string;
  source: string;
  /** Path relative to the run folder. */
  path: string;
  parsed?: NetResult;
}

export interface RaceOutcome {
  laps: LapResult[];
  collected: CollectedFile[];
  /** Epoch seconds of the benchmark laps. */
  window: { start: number; end: number; warmupStart?: number };
  cleanup: string[];
}

/** A collected report read by its tool's own parser (from the tool registry). */
function parseReport(toolName: string, text: string, where: string): NetResult {
  const parse = tool(toolName).parse;
  if (!parse) throw new RunError('race.no_parser', `${where}: ${toolName} has no report parser`);
  return parse(text, where);
}

export const raceDir = (h: NetHost, runId: string): string => `${h.dataDir.replace(/\/+$/, '')}/race/${runId}`;

function envPrefix(h: NetHost, runId: string): string {
  return [
    `export GR_RACE_DIR=${shq(raceDir(h, runId))} GR_HOST=${shq(h.name)} GR_ADDRESS=${shq(h.address)} GR_RUN_ID=${shq(runId)}`,
    `mkdir -p "$GR_RACE_DIR" && cd "$GR_RACE_DIR"`,
  ].join('\n');
}

/** Kill every lap still running under a race dir (by the process groups in its lap-*.pid files). */
export function killLapsScript(dir: string): string {
  return [
    `for f in ${shq(dir)}/lap-*.pid; do`,
    `  [ -f "$f" ] || continue; p=$(cat "$f")`,
    `  [ "$p" -gt 1 ] 2>/dev/null || { rm -f "$f"; continue; }`,
    `  kill -TERM -$p 2>/dev/null && echo "killed lap $(basename "$f" .pid) (pgid $p)"`,
    `  for _ in $(seq 1 30); do [ -d /proc/$p ] || break; sleep 0.1; done`,
    `  kill -KILL -$p 2>/dev/null; rm -f "$f"`,
    `done`,
  ].join('\n');
}

const cmdString = (c: string | string[]): string => (Array.isArray(c) ? shJoin(c) : c);

/** What a race keeps while it runs: what to stop and undo at cleanup, and what it measured. */
class RaceState {
  readonly processes: Started[] = [];
  readonly undo: Array<{ host: NetHost; command: string; what: string }> = [];
  readonly touched = new Set<NetHost>();
  readonly laps: LapResult[] = [];
  readonly collected: CollectedFile[] = [];
  readonly cleanupLog: string[] = [];
  warmupStart: number | undefined;
  benchStart = 0;
  benchEnd = 0;

  constructor(
    readonly ex: Executor,
    readonly hosts: NetHost[],
    readonly opts: RaceOptions,
  ) {}

  get sig(): { signal?: AbortSignal } {
    return this.opts.signal ? { signal: this.opts.signal } : {};
  }

  say(line: string): void {
    this.opts.progress?.(line);
  }

  check(): void {
    if (this.opts.signal?.aborted) throw new InterruptedError('race interrupted');
  }

  /** The hosts of a role; a role without hosts is a config error naming the racefile key. */
  roleHosts(role: string, key: string): NetHost[] {
    const list = this.hosts.filter((h) => (h.roles as string[]).includes(role));
    if (list.length === 0) {
      throw new ConfigError('race.empty_role', `${this.opts.file}: ${key}.role: no host has the role "${role}" in this experiment (hosts: ${this.hosts.map((h) => `${h.name}[${h.roles.join(',')}]`).join(' ')})`);
    }
    return list;
  }

  logDir(h: NetHost): string {
    return join(this.opts.runDir, h.name, 'laps');
  }
}

/** Kubernetes manifests in a racefile run on hosts: said before anything is touched. */
function kubernetesOnHosts(file: string, i: number): ConfigError {
  return new ConfigError('race.kubernetes_on_hosts', `${file}: configs[${i}] is a Kubernetes manifest: it needs an experiment with runtime: k3s (this one runs on hosts)`, { file });
}

/** 1. deploy: files, processes (started in the background, ready on their port) and commands (with their `undo`). */
async function deploy(st: RaceState, race: Racefile): Promise<void> {
  const { ex, opts } = st;
  for (const [i, c] of race.configs.entries()) {
    st.check();
    if (c.type === 'kubernetes') throw kubernetesOnHosts(opts.file, i);
    const targets = st.roleHosts(c.role, `configs[${i}]`);
    st.say(`deploy configs[${i}] (${c.type}${c.type === 'process' ? ' ' + c.name : ''}) on ${targets.map((h) => h.name).join(', ')}`);
    await Promise.all(
      targets.map(async (h) => {
        st.touched.add(h);
        const dir = raceDir(h, opts.runId);
        for (const [name, content] of Object.entries(c.files)) await ex.put(h, `${dir}/${name}`, content);
        if (c.type === 'process') {
          const command = `${envPrefix(h, opts.runId)}\nexec ${cmdString(c.command)}`;
          st.processes.push(await ex.start({ host: h, name: `race-${c.name}`, command, dir, ...(c.port ? { port: c.port } : {}), waitSeconds: c.ready_timeout, ...st.sig }));
          return;
        }
        if (c.undo) st.undo.push({ host: h, command: cmdString(c.undo), what: `configs[${i}].undo` });
        const r = await ex.run(h, `${envPrefix(h, opts.runId)}\ntimeout -k 5 ${c.timeout} sh -c ${shq(cmdString(c.command))}`, { timeoutMs: (c.timeout + 15) * 1000, ...st.sig });
        if (r.code !== 0) {
          throw new RunError('race.config_failed', `${opts.file}: configs[${i}] failed on ${h.name} (exit ${r.code ?? 'timeout'})`, { details: (r.stderr || r.stdout).trim().split('\n').slice(-15) });
        }
      }),
    );
  }
}

/** A sleep lap: lets the system settle; Ctrl-C ends it. */
async function sleepLap(st: RaceState, phase: 'warmup' | 'benchmark', index: number, name: string, seconds: number): Promise<void> {
  const start = Date.now() / 1000;
  st.say(`${phase}[${index}] sleep ${seconds}s`);
  await new Promise<void>((res) => {
    const t = setTimeout(res, seconds * 1000);
    st.opts.signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
  });
  st.check();
  st.laps.push({ phase, index, name, start, end: Date.now() / 1000, hosts: [] });
}

/** 2. one lap on every host of its role (its own process group, so cleanup can kill it); fails naming lap, host and exit. */
async function runLap(st: RaceState, phase: 'warmup' | 'benchmark', index: number, lap: RaceLap): Promise<void> {
  st.check();
  const name = lap.name ?? `${phase}-${index}`;
  if (lap.type === 'sleep') return sleepLap(st, phase, index, name, lap.duration);
  const { ex, opts } = st;
  const start = Date.now() / 1000;
  const targets = st.roleHosts(lap.role, `${phase}[${index}]`);
  st.say(`${phase}[${index}] ${name} on ${targets.map((h) => h.name).join(', ')}`);
  const results = await Promise.all(
    targets.map(async (h) => {
      st.touched.add(h);
      const pidfile = `${raceDir(h, opts.runId)}/lap-${name}.pid`;
      const script = `${envPrefix(h, opts.runId)}\nsetsid timeout -k 5 ${lap.timeout} sh -c ${shq(cmdString(lap.command))} < /dev/null &\necho $! > ${shq(pidfile)}\nwait $!\nrc=$?\nrm -f ${shq(pidfile)}\nexit $rc`;
      const t0 = Date.now();
      const r = await ex.run(h, script, { timeoutMs: (lap.timeout + 20) * 1000, ...st.sig });
      mkdirSync(st.logDir(h), { recursive: true });
      writeFileSync(join(st.logDir(h), `${name}.out`), r.stdout);
      writeFileSync(join(st.logDir(h), `${name}.err`), r.stderr);
      return { host: h, r, seconds: (Date.now() - t0) / 1000 };
    }),
  );
  const hostResults = results.map((x) => ({ host: x.host.name, code: x.r.code, seconds: x.seconds, timedOut: x.r.code === 124 || x.r.timedOut }));
  st.laps.push({ phase, index, name, role: lap.role, start, end: Date.now() / 1000, hosts: hostResults });
  st.check();
  const bad = results.filter((x) => x.r.code !== 0);
  if (!bad.length) return;
  const b = bad[0]!;
  const why = b.r.code === 124 || b.r.timedOut ? `timed out after ${lap.timeout} s` : `exit ${b.r.code}`;
  throw new RunError('race.lap_failed', `${opts.file}: ${phase}[${index}] (${name}) failed on ${bad.map((x) => x.host.name).join(', ')}: ${why}`, {
    details: (b.r.stderr || b.r.stdout).trim().split('\n').slice(-15),
    logFile: join(st.logDir(b.host), `${name}.err`),
  });
}

/** 3. collectors: each file copied to `<run dir>/<host>/<destination>`, parsed by its tool when asked. */
async function collect(st: RaceState, race: Racefile): Promise<void> {
  const { ex, opts } = st;
  for (const [i, c] of race.collectors.entries()) {
    st.check();
    const targets = st.roleHosts(c.role, `collectors[${i}]`);
    st.say(`collect ${c.source} from ${targets.map((h) => h.name).join(', ')}`);
    await Promise.all(
      targets.map(async (h) => {
        const src = c.source.startsWith('/') ? c.source : `${raceDir(h, opts.runId)}/${c.source}`;
        const dest = c.destination ?? c.source.split('/').pop()!;
        const local = join(opts.runDir, h.name, dest);
        await ex.fetch(h, src, local, st.sig);
        const entry: CollectedFile = { host: h.name, role: c.role, source: src, path: join(h.name, dest) };
        if (c.parse) entry.parsed = parseReport(c.parse, readFileSync(local, 'utf8'), `${c.parse} report from ${h.name} (collectors[${i}])`);
        st.collected.push(entry);
      }),
    );
  }
}

/** 4. cleanup, whatever happened: laps still running, processes, undo commands, remote folders. */
async function cleanup(st: RaceState, race: Racefile): Promise<void> {
  const { ex, opts, cleanupLog } = st;
  for (const h of st.touched) {
    const r = await ex.run(h, killLapsScript(raceDir(h, opts.runId)), { timeoutMs: 30_000 }).catch(() => undefined);
    if (r?.stdout.trim()) cleanupLog.push(`${h.name}: ${r.stdout.trim()}`);
  }
  for (const p of st.processes.reverse()) {
    await ex.stop(p).catch((e: Error) => cleanupLog.push(`stop ${p.name} on ${p.host.name}: ${e.message}`));
    cleanupLog.push(`stopped ${p.name} on ${p.host.name}`);
  }
  for (const u of st.undo.reverse()) {
    const r = await ex.run(u.host, `${envPrefix(u.host, opts.runId)}\nsh -c ${shq(u.command)}`, { timeoutMs: 120_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }));
    cleanupLog.push(`${u.what} on ${u.host.name}: ${r.code === 0 ? 'ok' : `exit ${r.code}: ${String(r.stderr).trim().slice(0, 200)}`}`);
  }
  if (!race.keep_remote_files) {
    for (const h of st.touched) await ex.run(h, `rm -rf ${shq(raceDir(h, opts.runId))}`, { timeoutMs: 30_000 }).catch(() => undefined);
  }
}

/**
 * Run a racefile on hosts: deploy the configs (files, processes, commands), the warm-up laps,
 * the benchmark laps, the collectors; then clean up in every case: processes stopped, `undo`
 * commands run, laps still running killed, remote race directories removed. A lap fails when a
 * host's command exits non-zero or outlives its timeout; the error names lap, host and exit code.
 */
export async function runRace(ex: Executor, hosts: NetHost[], race: Racefile, opts: RaceOptions): Promise<RaceOutcome> {
  const st = new RaceState(ex, hosts, opts);
  // Check every role before touching any host.
  race.configs.forEach((c, i) => {
    if (c.type === 'kubernetes') throw kubernetesOnHosts(opts.file, i);
    st.roleHosts(c.role, `configs[${i}]`);
  });
  race.warmup.forEach((l, i) => l.type === 'exec' && st.roleHosts(l.role, `warmup[${i}]`));
  race.benchmark.forEach((l, i) => l.type === 'exec' && st.roleHosts(l.role, `benchmark[${i}]`));
  race.collectors.forEach((c, i) => st.roleHosts(c.role, `collectors[${i}]`));
  try {
    await deploy(st, race);
    if (race.warmup.length) st.warmupStart = Date.now() / 1000;
    for (const [i, lap] of race.warmup.entries()) await runLap(st, 'warmup', i, lap);
    st.benchStart = Date.now() / 1000;
    for (const [i, lap] of race.benchmark.entries()) await runLap(st, 'benchmark', i, lap);
    st.benchEnd = Date.now() / 1000;
    await collect(st, race);
  } finally {
    await cleanup(st, race);
  }
  const window = { start: st.benchStart, end: st.benchEnd, ...(st.warmupStart !== undefined ? { warmupStart: st.warmupStart } : {}) };
  return { laps: st.laps, collected: st.collected, window, cleanup: st.cleanupLog };
}
