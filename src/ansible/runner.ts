import { appendFileSync, closeSync, createWriteStream, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { AnsibleError, InterruptedError, type HostFailure } from '../core/errors.js';
import { ansibleCfgPath, inventoryPath, logsDir, playbookPath } from './config.js';
import { EventLog, LineSplitter, failureLines, parseEventLine, type HostRecap, type ResultEvent } from './events.js';
import { ProgressReporter } from './progress.js';
import { formatTimings, playbookTimings, type PlaybookTimings } from './timings.js';

export interface RunPlaybookOptions {
  /** The experiment's state folder (holds ansible.cfg, inventory.yaml, logs/). */
  stateDir: string;
  /** A playbook name under ansible/playbooks (`setup`) or a path to a .yml file. */
  playbook: string;
  extraVars?: Record<string, unknown>;
  /** Progress lines (play, task, per-host status); nothing is printed without it. */
  progress?: (line: string) => void;
  verbose?: boolean;
  signal?: AbortSignal;
  /** Whole-run bound; past it the run is interrupted like an abort and fails with ansible.timeout. */
  timeoutMs?: number;
  /** After SIGINT, how long ansible gets to stop before SIGTERM (then SIGKILL 5 s later). */
  graceMs?: number;
  limit?: string;
  /**
   * `none`: any failed or unreachable host is an AnsibleError. `unreachable`: unreachable hosts
   * are tolerated. `all`: host failures never throw (best effort; read `failures`).
   */
  tolerate?: 'none' | 'unreachable' | 'all';
  /** Overrides the ansible-playbook executable (tests; GREENRACE_ANSIBLE_PLAYBOOK also works). */
  executable?: string;
}

export interface PlaybookResult {
  playbook: string;
  exitCode: number;
  elapsedMs: number;
  /** Per-host recap (ok, changed, failed, unreachable, ...). */
  recap: Record<string, HostRecap>;
  /** Failed (not ignored) and unreachable host results. */
  failures: HostFailure[];
  /** Failures a play chose to ignore (ignore_errors), for warnings. */
  ignored: HostFailure[];
  /** Every per-host result, in order. */
  results: ResultEvent[];
  /** Data published with ansible.builtin.set_stats. */
  custom: Record<string, unknown>;
  /** Where the time went, per task and play (also summarised at the end of the log file). */
  timings: PlaybookTimings;
  logFile: string;
  eventsFile: string;
}

/** Process groups of running playbooks, killed if greenrace itself exits abruptly. */
const live = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of live) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function toFailure(r: ResultEvent): HostFailure {
  const lines = failureLines(r, 20);
  return { host: r.host, task: r.task, status: r.status === 'unreachable' ? 'unreachable' : 'failed', message: lines.join('\n') };
}

/** Lines of ansible's own output that explain an error without host results (syntax, missing role). */
export function errorLinesFromOutput(tail: string[], max = 20): string[] {
  const i = tail.findIndex((l) => /^(ERROR!|\[ERROR\]|fatal:)/.test(l));
  const from = i >= 0 ? tail.slice(i) : tail.slice(-max);
  return from.filter((l) => l.trim() !== '').slice(0, max);
}

/** The AnsibleError for a set of failures: one message naming host and task, ≤ 20 detail lines. */
export function failureError(playbook: string, failures: HostFailure[], logFile: string): AnsibleError {
  const first = failures[0]!;
  const hosts = [...new Set(failures.map((f) => f.host))];
  const others = hosts.length > 1 ? ` (and on ${hosts.length - 1} more host${hosts.length > 2 ? 's' : ''}: ${hosts.slice(1).join(', ')})` : '';
  const verb = first.status === 'unreachable' ? 'could not reach' : 'failed on';
  const message = `${playbook}: task "${first.task}" ${verb} ${first.host}${others}`;
  const details: string[] = [];
  for (const f of failures) {
    if (details.length >= 20) break;
    details.push(`${f.host} [${f.task}] ${f.status}:`);
    for (const l of f.message.split('\n')) {
      if (details.length >= 20) break;
      details.push(`  ${l}`);
    }
  }
  return new AnsibleError(first.status === 'unreachable' ? 'ansible.unreachable' : 'ansible.task_failed', message, {
    failures,
    details,
    logFile,
  });
}

/**
 * Run one playbook against an experiment's inventory, with its ansible.cfg, streaming progress.
 * Throws AnsibleError (failed/unreachable hosts, or ansible's own errors) and InterruptedError
 * (the signal fired). The full output goes to `<state>/logs/<time>-<playbook>.log`.
 */
export async function runPlaybook(opts: RunPlaybookOptions): Promise<PlaybookResult> {
  const started = Date.now();
  const pbPath = opts.playbook.endsWith('.yml') || opts.playbook.includes('/') ? opts.playbook : playbookPath(opts.playbook);
  const pbName = basename(pbPath).replace(/\.ya?ml$/, '');
  const cfg = ansibleCfgPath(opts.stateDir);
  const inv = inventoryPath(opts.stateDir);
  for (const [what, p] of [
    ['playbook', pbPath],
    ['ansible.cfg', cfg],
    ['inventory', inv],
  ] as const) {
    if (!existsSync(p)) throw new AnsibleError('ansible.missing_file', `cannot run ${pbName}: the ${what} ${p} does not exist`);
  }
  const logs = logsDir(opts.stateDir);
  mkdirSync(logs, { recursive: true });
  const base = join(logs, `${stamp()}-${pbName}`);
  const logFile = `${base}.log`;
  const eventsFile = `${base}.events.jsonl`;
  const varsFile = `${base}.vars.json`;
  writeFileSync(varsFile, JSON.stringify(opts.extraVars ?? {}, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(eventsFile, '');

  const args = ['-i', inv, pbPath, '-e', `@${varsFile}`];
  if (opts.limit) args.push('--limit', opts.limit);
  const exe = opts.executable ?? process.env.GREENRACE_ANSIBLE_PLAYBOOK ?? 'ansible-playbook';

  const log = createWriteStream(logFile);
  log.write(`# ${exe} ${args.join(' ')}\n# ANSIBLE_CONFIG=${cfg}\n`);
  const tail: string[] = [];
  const keepTail = (chunk: string): void => {
    for (const l of chunk.split('\n')) tail.push(l);
    if (tail.length > 400) tail.splice(0, tail.length - 400);
  };

  const events = new EventLog();
  const reporter = opts.progress ? new ProgressReporter(opts.progress, opts.verbose) : undefined;
  const splitter = new LineSplitter();
  let offset = 0;
  const drain = (): void => {
    let fd: number;
    try {
      if (statSync(eventsFile).size <= offset) return;
      fd = openSync(eventsFile, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        for (const line of splitter.push(buf.subarray(0, n).toString('utf8'))) {
          const e = parseEventLine(line);
          if (!e) continue;
          events.add(e);
          reporter?.handle(e);
        }
      }
    } finally {
      closeSync(fd);
    }
  };

  const child = execa(exe, args, {
    env: {
      ANSIBLE_CONFIG: cfg,
      GREENRACE_EVENTS_FILE: eventsFile,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      PYTHONUNBUFFERED: '1',
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    detached: true,
    buffer: false,
    cleanup: true,
  });
  const pgid = child.pid;
  if (pgid !== undefined) {
    live.add(pgid);
    installExitHook();
  }
  child.stdout?.on('data', (d: Buffer) => {
    const s = d.toString('utf8');
    log.write(s);
    keepTail(s);
  });
  child.stderr?.on('data', (d: Buffer) => {
    const s = d.toString('utf8');
    log.write(s);
    keepTail(s);
  });

  let stopReason: 'abort' | 'timeout' | undefined;
  const timers: NodeJS.Timeout[] = [];
  const signalGroup = (sig: NodeJS.Signals): void => {
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, sig);
    } catch {
      /* gone */
    }
  };
  const stop = (why: 'abort' | 'timeout'): void => {
    if (stopReason) return;
    stopReason = why;
    signalGroup('SIGINT');
    const grace = opts.graceMs ?? 10_000;
    timers.push(setTimeout(() => signalGroup('SIGTERM'), grace));
    timers.push(setTimeout(() => signalGroup('SIGKILL'), grace + 5_000));
  };
  const onAbort = (): void => stop('abort');
  if (opts.signal?.aborted) stop('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.timeoutMs) timers.push(setTimeout(() => stop('timeout'), opts.timeoutMs));
  const poll = setInterval(drain, 150);

  let exitCode: number;
  let spawnError: Error | undefined;
  try {
    const res = await child;
    exitCode = res.exitCode ?? (res.signal ? 130 : 1);
    if (res.failed && res.exitCode === undefined && !res.signal) spawnError = res as unknown as Error;
  } finally {
    clearInterval(poll);
    for (const t of timers) clearTimeout(t);
    opts.signal?.removeEventListener('abort', onAbort);
    if (pgid !== undefined) live.delete(pgid);
    await new Promise<void>((r) => log.end(r));
  }
  drain();
  for (const line of splitter.flush()) {
    const e = parseEventLine(line);
    if (e) {
      events.add(e);
      reporter?.handle(e);
    }
  }
  reporter?.finish();
  const timings = playbookTimings(events.events);
  try {
    const lines = formatTimings(pbName, timings, 15);
    const before = events.events[0] ? Math.max(0, events.events[0].ts * 1000 - started) / 1000 : undefined;
    if (before !== undefined) lines.push(`  before the first play (ansible-playbook start, inventory, playbook parsing): ${before.toFixed(1)} s`);
    appendFileSync(logFile, `\n# ${lines.join('\n# ')}\n`);
  } catch {
    /* the log is a convenience; the run's result does not depend on it */
  }

  const result: PlaybookResult = {
    playbook: pbName,
    exitCode,
    elapsedMs: Date.now() - started,
    recap: events.recap ?? {},
    failures: events.failures().map(toFailure),
    ignored: events.results.filter((r) => r.status === 'failed' && r.ignored).map(toFailure),
    results: events.results,
    custom: events.custom,
    timings,
    logFile,
    eventsFile,
  };

  if (spawnError) {
    const code = (spawnError as { code?: string }).code;
    throw new AnsibleError(
      'ansible.not_installed',
      code === 'ENOENT' ? `${exe} was not found on PATH` : `could not start ${exe}: ${spawnError.message}`,
      { hint: 'install Ansible: apt-get install ansible-core (see setup/install.sh)', cause: spawnError },
    );
  }
  if (stopReason === 'abort') {
    throw new InterruptedError(`${pbName} interrupted`, { logFile });
  }
  if (stopReason === 'timeout') {
    throw new AnsibleError('ansible.timeout', `${pbName} did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s; it was stopped`, {
      failures: result.failures,
      logFile,
      details: errorLinesFromOutput(tail),
    });
  }
  const tolerate = opts.tolerate ?? 'none';
  const blocking = result.failures.filter((f) => tolerate === 'none' || (tolerate === 'unreachable' && f.status === 'failed'));
  if (blocking.length && tolerate !== 'all') throw failureError(pbName, blocking, logFile);
  if (exitCode !== 0 && result.failures.length === 0) {
    // No host failed, yet ansible failed: a syntax error, a missing role, a bad option.
    const lines = errorLinesFromOutput(tail);
    const head = lines[0]?.replace(/^ERROR!\s*/, '') ?? `ansible-playbook exited with ${exitCode}`;
    throw new AnsibleError('ansible.error', `${pbName}: ${head}`, { details: lines.slice(1), logFile });
  }
  return result;
}
