import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InterruptedError, RunError, ConfigError } from '../../core/errors.js';
import { startBackground, stopBackground, type Background } from '../net/background.js';
import { shJoin, shq } from '../../core/shell.js';
import type { HostExec } from '../net/exec.js';
import { putFile } from '../net/ssh-exec.js';
import type { NetHost, NetResult } from '../net/types.js';
import { parseIperf3 } from '../iperf3/parse.js';
import { parseSockperf } from '../sockperf/parse.js';
import { parseUperf } from '../uperf/parse.js';
import { parseNetperf } from '../netperf/parse.js';
import { parseWrk } from './wrk.js';
import type { RaceCollector, Racefile, RaceLap } from './schema.js';
import { readFileSync } from 'node:fs';

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

const PARSERS: Record<NonNullable<RaceCollector['parse']>, (t: string, where: string) => NetResult> = {
  wrk: parseWrk,
  iperf3: parseIperf3,
  sockperf: parseSockperf,
  uperf: (t, w) => parseUperf(t, w),
  netperf: (t, w) => parseNetperf(t, w),
};

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
    `  kill -TERM -- -$p 2>/dev/null && echo "killed lap $(basename "$f" .pid) (pgid $p)"`,
    `  for _ in $(seq 1 30); do [ -d /proc/$p ] || break; sleep 0.1; done`,
    `  kill -KILL -- -$p 2>/dev/null; rm -f "$f"`,
    `done`,
  ].join('\n');
}

const cmdString = (c: string | string[]): string => (Array.isArray(c) ? shJoin(c) : c);

/**
 * Run a racefile on hosts: deploy the configs (files, processes, commands), the warm-up laps,
 * the benchmark laps, the collectors; then clean up in every case: processes stopped, `undo`
 * commands run, laps still running killed, remote race directories removed. A lap fails when a
 * host's command exits non-zero or outlives its timeout; the error names lap, host and exit code.
 */
export async function runRace(exec: HostExec, hosts: NetHost[], race: Racefile, opts: RaceOptions): Promise<RaceOutcome> {
  const roleHosts = (role: string, key: string): NetHost[] => {
    const list = hosts.filter((h) => (h.roles as string[]).includes(role));
    if (list.length === 0) {
      throw new ConfigError('race.empty_role', `${opts.file}: ${key}.role: no host has the role "${role}" in this experiment (hosts: ${hosts.map((h) => `${h.name}[${h.roles.join(',')}]`).join(' ')})`);
    }
    return list;
  };
  // Check every role before touching any host.
  race.configs.forEach((c, i) => roleHosts(c.role, `configs[${i}]`));
  race.warmup.forEach((l, i) => l.type === 'exec' && roleHosts(l.role, `warmup[${i}]`));
  race.benchmark.forEach((l, i) => l.type === 'exec' && roleHosts(l.role, `benchmark[${i}]`));
  race.collectors.forEach((c, i) => roleHosts(c.role, `collectors[${i}]`));

  const say = opts.progress ?? (() => undefined);
  const processes: Background[] = [];
  const undo: Array<{ host: NetHost; command: string; what: string }> = [];
  const touched = new Set<NetHost>();
  const laps: LapResult[] = [];
  const collected: CollectedFile[] = [];
  const cleanupLog: string[] = [];
  let warmupStart: number | undefined;
  let benchStart = 0;
  let benchEnd = 0;
  const check = (): void => {
    if (opts.signal?.aborted) throw new InterruptedError('race interrupted');
  };
  const logDir = (h: NetHost): string => join(opts.runDir, h.name, 'laps');

  try {
    // 1. deploy
    for (const [i, c] of race.configs.entries()) {
      check();
      const targets = roleHosts(c.role, `configs[${i}]`);
      say(`deploy configs[${i}] (${c.type}${c.type === 'process' ? ' ' + c.name : ''}) on ${targets.map((h) => h.name).join(', ')}`);
      await Promise.all(
        targets.map(async (h) => {
          touched.add(h);
          const dir = raceDir(h, opts.runId);
          for (const [name, content] of Object.entries(c.files)) await putFile(exec, h, `${dir}/${name}`, content);
          if (c.type === 'process') {
            const bg = await startBackground(exec, h, `race-${c.name}`, `${envPrefix(h, opts.runId)}\nexec ${cmdString(c.command)}`, {
              dir,
              port: c.port,
              waitSeconds: c.ready_timeout,
              signal: opts.signal,
            });
            processes.push(bg);
          } else {
            if (c.undo) undo.push({ host: h, command: cmdString(c.undo), what: `configs[${i}].undo` });
            const r = await exec.exec(h, `${envPrefix(h, opts.runId)}\ntimeout -k 5 ${c.timeout} sh -c ${shq(cmdString(c.command))}`, {
              timeoutMs: (c.timeout + 15) * 1000,
              signal: opts.signal,
            });
            if (r.code !== 0) {
              throw new RunError('race.config_failed', `${opts.file}: configs[${i}] failed on ${h.name} (exit ${r.code ?? 'timeout'})`, {
                details: (r.stderr || r.stdout).trim().split('\n').slice(-15),
              });
            }
          }
        }),
      );
    }
    // 2. warm-up and benchmark laps
    const runLap = async (phase: 'warmup' | 'benchmark', index: number, lap: RaceLap): Promise<void> => {
      check();
      const name = lap.name ?? `${phase}-${index}`;
      const start = Date.now() / 1000;
      if (lap.type === 'sleep') {
        say(`${phase}[${index}] sleep ${lap.duration}s`);
        await new Promise<void>((res) => {
          const t = setTimeout(res, lap.duration * 1000);
          opts.signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
        });
        check();
        laps.push({ phase, index, name, start, end: Date.now() / 1000, hosts: [] });
        return;
      }
      const targets = roleHosts(lap.role, `${phase}[${index}]`);
      say(`${phase}[${index}] ${name} on ${targets.map((h) => h.name).join(', ')}`);
      const results = await Promise.all(
        targets.map(async (h) => {
          touched.add(h);
          const pidfile = `${raceDir(h, opts.runId)}/lap-${name}.pid`;
          // setsid: the lap is its own process group, so cleanup can kill it (and its children)
          // even when the ssh connection is gone.
          const script = `${envPrefix(h, opts.runId)}\nsetsid timeout -k 5 ${lap.timeout} sh -c ${shq(cmdString(lap.command))} < /dev/null &\necho $! > ${shq(pidfile)}\nwait $!\nrc=$?\nrm -f ${shq(pidfile)}\nexit $rc`;
          const t0 = Date.now();
          const r = await exec.exec(h, script, { timeoutMs: (lap.timeout + 20) * 1000, signal: opts.signal });
          mkdirSync(logDir(h), { recursive: true });
          writeFileSync(join(logDir(h), `${name}.out`), r.stdout);
          writeFileSync(join(logDir(h), `${name}.err`), r.stderr);
          return { host: h, r, seconds: (Date.now() - t0) / 1000 };
        }),
      );
      const lr: LapResult = {
        phase,
        index,
        name,
        role: lap.role,
        start,
        end: Date.now() / 1000,
        hosts: results.map((x) => ({ host: x.host.name, code: x.r.code, seconds: x.seconds, timedOut: x.r.code === 124 || x.r.timedOut })),
      };
      laps.push(lr);
      check();
      const bad = results.filter((x) => x.r.code !== 0);
      if (bad.length) {
        const b = bad[0]!;
        const why = b.r.code === 124 || b.r.timedOut ? `timed out after ${lap.timeout} s` : `exit ${b.r.code}`;
        throw new RunError(
          'race.lap_failed',
          `${opts.file}: ${phase}[${index}] (${name}) failed on ${bad.map((x) => x.host.name).join(', ')}: ${why}`,
          { details: (b.r.stderr || b.r.stdout).trim().split('\n').slice(-15), logFile: join(logDir(b.host), `${name}.err`) },
        );
      }
    };
    if (race.warmup.length) warmupStart = Date.now() / 1000;
    for (const [i, lap] of race.warmup.entries()) await runLap('warmup', i, lap);
    benchStart = Date.now() / 1000;
    for (const [i, lap] of race.benchmark.entries()) await runLap('benchmark', i, lap);
    benchEnd = Date.now() / 1000;
    // 3. collectors
    for (const [i, c] of race.collectors.entries()) {
      check();
      const targets = roleHosts(c.role, `collectors[${i}]`);
      say(`collect ${c.source} from ${targets.map((h) => h.name).join(', ')}`);
      await Promise.all(
        targets.map(async (h) => {
          const src = c.source.startsWith('/') ? c.source : `${raceDir(h, opts.runId)}/${c.source}`;
          const dest = c.destination ?? c.source.split('/').pop()!;
          const local = join(opts.runDir, h.name, dest);
          await exec.fetch(h, src, local, { signal: opts.signal });
          const entry: CollectedFile = { host: h.name, role: c.role, source: src, path: join(h.name, dest) };
          if (c.parse) entry.parsed = PARSERS[c.parse](readFileSync(local, 'utf8'), `${c.parse} report from ${h.name} (collectors[${i}])`);
          collected.push(entry);
        }),
      );
    }
  } finally {
    // 4. clean up, whatever happened: laps still running, processes, undo commands, remote dirs.
    for (const h of touched) {
      const r = await exec
        .exec(h, killLapsScript(raceDir(h, opts.runId)), { timeoutMs: 30_000 })
        .catch(() => undefined);
      if (r?.stdout.trim()) cleanupLog.push(`${h.name}: ${r.stdout.trim()}`);
    }
    for (const p of processes.reverse()) {
      await stopBackground(exec, p).catch((e: Error) => cleanupLog.push(`stop ${p.name} on ${p.host.name}: ${e.message}`));
      cleanupLog.push(`stopped ${p.name} on ${p.host.name}`);
    }
    for (const u of undo.reverse()) {
      const r = await exec.exec(u.host, `${envPrefix(u.host, opts.runId)}\nsh -c ${shq(u.command)}`, { timeoutMs: 120_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }));
      cleanupLog.push(`${u.what} on ${u.host.name}: ${r.code === 0 ? 'ok' : `exit ${r.code}: ${String(r.stderr).trim().slice(0, 200)}`}`);
    }
    if (!race.keep_remote_files) {
      for (const h of touched) await exec.exec(h, `rm -rf ${shq(raceDir(h, opts.runId))}`, { timeoutMs: 30_000 }).catch(() => undefined);
    }
  }
  return { laps, collected, window: { start: benchStart, end: benchEnd, ...(warmupStart !== undefined ? { warmupStart } : {}) }, cleanup: cleanupLog };
}
