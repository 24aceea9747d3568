import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RunError } from '../../core/errors.js';
import type { DriverContext, DriverFigures, LoadDriver } from '../driver.js';
import type { GeneratorSettings } from '../plan.js';
import { nowMs, type Schedule } from '../schedule.js';
import { MB, type LatencyFigures, type LoadgenStatus } from '../summary.js';
import { PerfTestParser, type PerfFinal, type PerfOutput } from './parse.js';

/** Version of kafka-tools in a libs directory (from the jar name), e.g. [4, 1, 1]. */
export function kafkaToolsVersion(libs: string): [number, number, number] | undefined {
  if (!existsSync(libs)) return undefined;
  for (const f of readdirSync(libs)) {
    const m = /^kafka-tools-(\d+)\.(\d+)\.(\d+)[^/]*\.jar$/.exec(f);
    if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  }
  return undefined;
}

/** The ProducerPerformance command line for a tools version (4.2 renamed the options, KIP-1147). */
export function perfTestArgs(
  o: Pick<GeneratorSettings, 'topic' | 'rate' | 'messageSize' | 'bootstrap' | 'acks' | 'lingerMs' | 'batchBytes' | 'warmupS' | 'durationS'> & { timeouts: Pick<GeneratorSettings['timeouts'], 'requestMs'> },
  version: [number, number, number],
): { args: string[]; numRecords: number; warmupRecords: number } {
  const requestMs = o.timeouts.requestMs;
  const modern = version[0] > 4 || (version[0] === 4 && version[1] >= 2);
  const throttled = o.rate > 0;
  const numRecords = throttled ? Math.max(1, Math.round(o.rate * (o.warmupS + o.durationS))) : 2_000_000_000;
  const warmupRecords = modern && throttled && o.warmupS > 0 ? Math.round(o.rate * o.warmupS) : 0;
  const props = [
    `acks=${o.acks}`,
    `linger.ms=${Math.round(o.lingerMs)}`,
    `batch.size=${o.batchBytes}`,
    `request.timeout.ms=${requestMs}`,
    `delivery.timeout.ms=${Math.max(requestMs + Math.round(o.lingerMs), 2 * requestMs)}`,
    `max.block.ms=${requestMs}`,
  ];
  const args = ['--topic', o.topic, '--num-records', String(numRecords), '--record-size', String(o.messageSize), '--throughput', throttled ? String(o.rate) : '-1'];
  if (modern) {
    args.push('--bootstrap-server', o.bootstrap.join(','), '--command-property', ...props, '--reporting-interval', '1000');
    if (warmupRecords > 0) args.push('--warmup-records', String(warmupRecords));
  } else {
    args.push('--producer-props', `bootstrap.servers=${o.bootstrap.join(',')}`, ...props);
  }
  return { args, numRecords, warmupRecords };
}

function procCpuSeconds(pid: number): { userS: number; systemS: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state(0) ... utime(11) stime(12); clock ticks are 100 Hz on Linux.
    return { userS: Number(f[11]) / 100, systemS: Number(f[12]) / 100 };
  } catch {
    return undefined;
  }
}


/** One report line of the tool with the wall-clock span it covers (epoch ms). */
export interface TimedWindow {
  t0: number;
  t1: number;
  records: number;
  avgMs: number;
  maxMs: number;
  steady: boolean;
}

/** What a perf-test run left: the parsed output with the times the driver saw. */
export interface PerfTestRun {
  out: PerfOutput;
  windows: TimedWindow[];
  status: LoadgenStatus;
  javaStart?: number;
  exitAt?: number;
  stoppedAt?: number;
  /** The driver stopped the tool at the end of the run + grace, before it had sent everything. */
  cutAtEnd?: boolean;
  /** Records the tool was asked for, and how many of them are warm-up. */
  numRecords: number;
  warmupRecords: number;
}

/**
 * The summary figures of a perf-test run. Closed-loop: the tool measures each record from its
 * actual send, so a tool that falls behind neither shows the wait of the records it sent late nor
 * leaves a backlog: its window stretches instead. Records it neither acknowledged nor reported as
 * failed when it stopped are `unsent` (the tool cannot tell unsent from unacknowledged).
 */
export function perfTestFigures(
  o: Pick<GeneratorSettings, 'rate' | 'messageSize' | 'warmupS'>,
  sched: Schedule,
  r: PerfTestRun,
  version: string,
): Omit<DriverFigures, 'cpu'> {
  const notes: string[] = [];
  const { out, windows } = r;
  const wEnd = Math.min(sched.end, r.stoppedAt ?? Infinity, windows.length ? windows[windows.length - 1]!.t1 : sched.end);
  // Warm-up: 4.2+ marks it; for older tools, windows that began before the measured phase are warm-up.
  const isMeasured = (w: TimedWindow): boolean => (out.warmupRecords !== undefined ? w.steady : w.t0 >= sched.measureStart - 250);
  const measured = windows.filter(isMeasured);
  const warmWins = windows.filter((w) => !isMeasured(w));
  // Warm-up acknowledged: the tool's own split when it printed both final lines, else its windows.
  const warmAcked = out.total && out.steady ? Math.max(0, out.total.records - out.steady.records) : warmWins.reduce((a, w) => a + w.records, 0);
  let acked = measured.reduce((a, w) => a + w.records, 0);
  let winStart = measured.length ? measured[0]!.t0 : sched.measureStart;
  let winEnd = measured.length ? measured[measured.length - 1]!.t1 : Math.max(sched.measureStart, wEnd);
  const steady: PerfFinal | undefined = out.steady;
  if (steady && r.status === 'completed') {
    // 4.2+: the tool's own steady-state line counts every measured record.
    acked = steady.records;
    if (steady.recordsPerSec > 0 && Number.isFinite(steady.recordsPerSec)) winEnd = winStart + (steady.records / steady.recordsPerSec) * 1000;
  } else if (out.total && r.status === 'completed' && r.exitAt !== undefined) {
    // Older tools: the whole-run count minus the warm-up windows, up to the tool's exit.
    acked = Math.max(0, out.total.records - warmAcked);
    winStart = warmWins.length ? warmWins[warmWins.length - 1]!.t1 : (r.javaStart ?? sched.measureStart);
    winEnd = r.exitAt;
    if (warmWins.length || o.warmupS > 0) notes.push("warm-up cut at the tool's report windows (tools before 4.2 have no --warmup-records)");
  } else if (!measured.length) winStart = sched.measureStart;
  const seconds = Math.max(0.001, (winEnd - winStart) / 1000);
  const latFin = out.steady ?? out.total;
  let latencyMs: LatencyFigures;
  if (latFin) {
    latencyMs = { p50: latFin.p50, p95: latFin.p95, p99: latFin.p99, p999: latFin.p999, max: latFin.maxMs, mean: latFin.avgMs, samples: latFin.records, censored: 0 };
    if (latFin === out.total && (o.warmupS > 0 || out.warmupRecords !== undefined))
      notes.push("latency percentiles are the tool's whole-run figures: they include the warm-up (tools before 4.2 have no --warmup-records)");
  } else {
    const n = measured.reduce((a, w) => a + w.records, 0);
    latencyMs = {
      p50: null,
      p95: null,
      p99: null,
      p999: null,
      max: Math.max(0, ...measured.map((w) => w.maxMs)),
      mean: n ? measured.reduce((a, w) => a + w.avgMs * w.records, 0) / n : 0,
      samples: 0,
      censored: 0,
    };
    notes.push('no final line from the tool (stopped before it finished): percentiles unavailable (null); mean and max from its report lines');
  }
  // Records are sent in order: [0, W) warm-up, then the measured ones; those completed (acknowledged
  // or failed) are taken as the first ones. Measured records due by the end (or the stop) that never
  // completed are `unsent` (the tool cannot tell unsent from unacknowledged); the tool's failures
  // are split between the phases by the same order, not by when their lines arrived.
  const throttled = o.rate > 0;
  const W = throttled ? Math.max(r.warmupRecords, Math.round(o.rate * o.warmupS)) : 0;
  const measuredTarget = throttled ? Math.max(0, r.numRecords - W) : 0;
  const stoppedEarly = r.status !== 'completed' && r.stoppedAt !== undefined && r.stoppedAt < sched.end;
  const targetMessages = !throttled ? 0 : stoppedEarly ? Math.min(measuredTarget, Math.round(((Math.max(sched.measureStart, r.stoppedAt!) - sched.measureStart) / 1000) * o.rate)) : measuredTarget;
  const completed = (out.total?.records ?? warmAcked + acked) + out.failed;
  const unsent = throttled ? Math.max(0, Math.min(targetMessages, W + targetMessages - Math.max(completed, W))) : 0;
  const failedMeasured = throttled ? Math.max(0, Math.min(out.failed, targetMessages - Math.min(acked, targetMessages) - unsent)) : out.failed;
  const failedWarmup = out.failed - failedMeasured;
  if (r.cutAtEnd) notes.push('the tool had not finished its records by the end of the run plus its grace; stopped (records not acknowledged count as unsent)');
  else if (throttled && r.exitAt !== undefined && r.status === 'completed' && r.exitAt > sched.end + 1000)
    notes.push(`the tool finished ${((r.exitAt - sched.end) / 1000).toFixed(1)} s after the end of the window: it fell behind its rate (closed loop: the delay is not in its latency)`);
  if (out.failed > 0) notes.push(`${out.failed} records failed (exceptions printed by the tool); they are not in its latency figures`);
  const errors = [...out.failures].map(([message, count]) => ({ message, count }));
  const hint = out.other.filter((l) => /Exception|ERROR|Error:/.test(l)).slice(0, 5);
  for (const message of hint) errors.push({ message, count: 1 });
  return {
    window: { start: winStart, end: winEnd },
    target: { messages: targetMessages, rate: o.rate },
    counts: { sent: acked + failedMeasured, acked, failed: failedMeasured, unsent, unacked: 0, bytesAcked: acked * o.messageSize },
    warmup: { sent: warmAcked + failedWarmup, acked: warmAcked, failed: failedWarmup },
    achieved: { msgPerSec: acked / seconds, mbPerSec: (acked * o.messageSize) / MB / seconds },
    // A closed-loop tool leaves no backlog to show when it falls behind: it sends late. So it is
    // saturated when measured records were never completed, or its own rate over its measured
    // window fell below 95 % of the target (GreenFlow's criterion).
    saturated: unsent > 0 || (throttled && acked / seconds < 0.95 * o.rate),
    // A closed loop has no schedule to tell the pipeline's tail from a backlog: every unsent record counts.
    backlog: { graceMs: 0, overdue: unsent, senderLagMs: null },
    latencyMs,
    latency: { loop: 'closed', from: 'send', source: 'perf-test' },
    errors,
    client: { name: 'kafka ProducerPerformance', version },
    ...(notes.length ? { notes } : {}),
    series: windows.map((w) => ({ t: w.t1, acked: w.records, rate: w.records / Math.max(0.001, (w.t1 - w.t0) / 1000), avgMs: w.avgMs, maxMs: w.maxMs })),
  };
}

/**
 * Kafka's ProducerPerformance as a load driver: started at the shared start (the JVM's start-up
 * is part of its warm-up), followed through its report lines, stopped at the end of the run plus a
 * grace at the latest, its failures counted from the exceptions it prints.
 */
export class PerfTestDriver implements LoadDriver {
  readonly name = 'perf-test' as const;
  private version: [number, number, number] | undefined;
  private parser = new PerfTestParser();
  private windows: TimedWindow[] = [];
  private cpu: { userS: number; systemS: number } | undefined;
  private javaStart: number | undefined;
  private exitAt: number | undefined;
  private stoppedAt: number | undefined;
  private cutAtEnd = false;
  private records = { numRecords: 0, warmupRecords: 0 };
  private child: ReturnType<typeof spawn> | undefined;
  private opts: Pick<GeneratorSettings, 'rate' | 'messageSize' | 'warmupS'> = { rate: 0, messageSize: 1, warmupS: 0 };

  keys(): string {
    return 'none';
  }

  async prepare(ctx: DriverContext): Promise<string> {
    const d = ctx.settings.driver;
    this.opts = ctx.settings;
    if (d.name !== 'perf-test') throw new RunError('loadgen.usage', 'the perf-test driver needs perf-test settings');
    this.version = kafkaToolsVersion(d.kafkaLibs);
    if (!this.version) throw new RunError('loadgen.perftest_missing', `no kafka-tools-<version>.jar in ${d.kafkaLibs} (run setup/install-kafka.sh, or give the Kafka libs folder)`);
    if (ctx.settings.keys !== 'none') ctx.log(`ProducerPerformance sends no keys; keys ${ctx.settings.keys} ignored`);
    // The JVM connects by itself once started; ready means the tool is there.
    return `kafka-tools ${this.version.join('.')} in ${d.kafkaLibs}`;
  }

  async run(ctx: DriverContext, sched: Schedule): Promise<void> {
    const s = ctx.settings;
    const d = s.driver;
    if (d.name !== 'perf-test' || !this.version) throw new RunError('loadgen.usage', 'the perf-test driver was not prepared');
    const { args, numRecords, warmupRecords } = perfTestArgs(s, this.version);
    this.records = { numRecords, warmupRecords };
    const javaArgs = [`-Xmx${d.heap}`, '-XX:+UseG1GC', '-cp', join(d.kafkaLibs, '*'), 'org.apache.kafka.tools.ProducerPerformance', ...args];
    ctx.log(`${d.java} ${javaArgs.join(' ')}`);
    this.javaStart = nowMs();
    const child = (this.child = spawn(d.java, javaArgs, { env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] }));
    const raw = s.rawLog ? createWriteStream(s.rawLog) : undefined;
    let last = this.javaStart;
    let lastWindowAt = last;
    const parser = this.parser;
    const onLine = (line: string): void => {
      raw?.write(line + '\n');
      const r = parser.line(line);
      const t = nowMs();
      // Live metric only (by arrival time); the summary splits failures by record order.
      if (r.kind === 'failure') ctx.metrics.failed.inc({ phase: t < sched.measureStart ? 'warmup' : 'measure' }, 1);
      if (r.kind !== 'window') return;
      this.windows.push({ t0: last, t1: t, records: r.w.records, avgMs: r.w.avgMs, maxMs: r.w.maxMs, steady: r.w.steady });
      const phase = parser.out.warmupRecords !== undefined ? (r.w.steady ? 'measure' : 'warmup') : last >= sched.measureStart - 250 ? 'measure' : 'warmup';
      ctx.metrics.acked.inc({ phase }, r.w.records);
      ctx.metrics.sent.inc({ phase }, r.w.records);
      ctx.metrics.bytesAcked.inc({ phase }, r.w.records * s.messageSize);
      last = t;
      lastWindowAt = t;
      ctx.log(`${phase} ${r.w.records} records, ${r.w.recordsPerSec} rec/s, avg ${r.w.avgMs} ms, max ${r.w.maxMs} ms (closed-loop)`);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const spawnError = new Promise<never>((_, reject) =>
      child.on('error', (e) => reject(new RunError('loadgen.perftest_spawn', `cannot start ${d.java}: ${e.message}`))),
    );
    let killedFor: 'end' | 'stop' | 'stall' | undefined;
    const kill = (why: 'end' | 'stop' | 'stall'): void => {
      if (killedFor || child.exitCode !== null) return;
      killedFor = why;
      this.stoppedAt = nowMs();
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 3000).unref();
    };
    const onAbort = (): void => kill('stop');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // The tool stops by itself after --num-records; bound it anyway (throttle shortfall, dead broker).
    const graceMs = Math.min(60_000, 2 * s.timeouts.requestMs + 5000);
    const endTimer = setTimeout(() => kill('end'), Math.max(0, sched.end + (sched.unthrottled ? 0 : graceMs) - nowMs()));
    const watch = setInterval(() => {
      this.cpu = procCpuSeconds(child.pid ?? -1) ?? this.cpu;
      // No report line for this long: the tool is stuck (e.g. no broker: it retries forever). Before
      // its first line the JVM may still be starting (slow on a busy host): a longer grace.
      const limit = this.windows.length ? Math.max(s.timeouts.stallMs, 7000) : Math.max(s.timeouts.stallMs, 60_000);
      if (nowMs() - lastWindowAt > limit && nowMs() < sched.end + graceMs) kill('stall');
    }, 500);
    let code: number | null;
    try {
      code = await Promise.race([exited, spawnError]);
    } finally {
      this.exitAt = nowMs();
      clearTimeout(endTimer);
      clearInterval(watch);
      ctx.signal.removeEventListener('abort', onAbort);
      raw?.end();
    }
    if (killedFor === 'stall') {
      const hint = parser.out.other.find((l) => /could not be established|Exception|ERROR/.test(l));
      throw new RunError('loadgen.stalled', `ProducerPerformance made no progress for ${Math.round(Math.max(s.timeouts.stallMs, 7000) / 1000)} s${hint ? `: ${hint}` : ''}`);
    }
    if (killedFor === 'end' && !sched.unthrottled) this.cutAtEnd = true;
    if (!killedFor && code !== 0)
      throw new RunError('loadgen.perftest_exit', `ProducerPerformance exited with ${code}: ${parser.out.other.slice(-3).join(' | ')}`);
  }

  figures(sched: Schedule | undefined, end: { status: LoadgenStatus; stoppedAt?: number }): DriverFigures {
    const version = this.version ? this.version.join('.') : 'unknown';
    const s = sched;
    const base = s
      ? perfTestFigures(this.opts, s, {
          out: this.parser.out,
          windows: this.windows,
          status: end.status,
          ...(this.javaStart !== undefined ? { javaStart: this.javaStart } : {}),
          ...(this.exitAt !== undefined ? { exitAt: this.exitAt } : {}),
          ...((this.stoppedAt ?? end.stoppedAt) !== undefined ? { stoppedAt: (this.stoppedAt ?? end.stoppedAt)! } : {}),
          cutAtEnd: this.cutAtEnd,
          ...this.records,
        }, version)
      : notStarted(version, end.stoppedAt ?? 0);
    return { ...base, ...(this.cpu ? { cpu: this.cpu } : {}) };
  }

  async close(): Promise<void> {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

function notStarted(version: string, at: number): Omit<DriverFigures, 'cpu'> {
  return {
    window: { start: at, end: at },
    target: { messages: 0, rate: 0 },
    counts: { sent: 0, acked: 0, failed: 0, unsent: 0, unacked: 0, bytesAcked: 0 },
    warmup: { sent: 0, acked: 0, failed: 0 },
    achieved: { msgPerSec: 0, mbPerSec: 0 },
    saturated: false,
    backlog: { graceMs: 0, overdue: 0, senderLagMs: null },
    latencyMs: { p50: null, p95: null, p99: null, p999: null, max: 0, mean: 0, samples: 0, censored: 0 },
    latency: { loop: 'closed', from: 'send', source: 'perf-test' },
    errors: [],
    client: { name: 'kafka ProducerPerformance', version },
    notes: ['the tool never started'],
  };
}
