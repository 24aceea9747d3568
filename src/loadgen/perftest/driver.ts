import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LatencyHistogram } from '../histogram.js';
import { StartTrigger, createLoadgenMetrics, serveMetrics } from '../metrics.js';
import { Schedule, nowMs } from '../schedule.js';
import { MB, summaryHead, type LoadgenStatus, type LoadgenSummary } from '../summary.js';
import type { LoadgenOptions } from '../native/generator.js';
import { PerfTestParser, type PerfFinal } from './parse.js';

export interface PerfTestOptions extends LoadgenOptions {
  /** Directory with kafka-tools-<version>.jar and its dependencies. */
  kafkaLibs: string;
  java: string;
  /** Keep the tool's raw stdout/stderr here. */
  rawLog?: string;
  heap?: string;
}

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
  o: Pick<PerfTestOptions, 'topic' | 'rate' | 'size' | 'bootstrap' | 'acks' | 'lingerMs' | 'batchBytes' | 'requestTimeoutMs' | 'warmupS' | 'durationS'>,
  version: [number, number, number],
): { args: string[]; numRecords: number; warmupRecords: number } {
  const modern = version[0] > 4 || (version[0] === 4 && version[1] >= 2);
  const throttled = o.rate > 0;
  const numRecords = throttled ? Math.max(1, Math.round(o.rate * (o.warmupS + o.durationS))) : 2_000_000_000;
  const warmupRecords = modern && throttled && o.warmupS > 0 ? Math.round(o.rate * o.warmupS) : 0;
  const props = [
    `acks=${o.acks}`,
    `linger.ms=${Math.round(o.lingerMs)}`,
    `batch.size=${o.batchBytes}`,
    `request.timeout.ms=${o.requestTimeoutMs}`,
    `delivery.timeout.ms=${Math.max(o.requestTimeoutMs + Math.round(o.lingerMs), 2 * o.requestTimeoutMs)}`,
    `max.block.ms=${o.requestTimeoutMs}`,
  ];
  const args = ['--topic', o.topic, '--num-records', String(numRecords), '--record-size', String(o.size), '--throughput', throttled ? String(o.rate) : '-1'];
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

/**
 * Run Kafka's ProducerPerformance as a generator instance: start it at the shared start time,
 * follow its window lines (progress, metrics), stop it at the end of the run at the latest, and
 * turn its output into the same summary shape as the native generator.
 */
export async function runPerfTest(o: PerfTestOptions): Promise<LoadgenSummary> {
  const log = o.log ?? (() => {});
  let startAt = o.startAt ?? Math.ceil(nowMs() + (o.awaitStartMs ?? 1000));
  const trigger = o.awaitStartMs !== undefined && o.metricsPort !== undefined ? new StartTrigger() : undefined;
  let sched = new Schedule({ startAt, rate: o.rate, warmupS: o.warmupS, durationS: o.durationS });
  const version = kafkaToolsVersion(o.kafkaLibs);
  const hist = new LatencyHistogram();
  const metrics = createLoadgenMetrics({ instance_id: o.instance, topic: o.topic }, () => hist);
  metrics.targetRate.set(o.rate);
  let server: Awaited<ReturnType<typeof serveMetrics>>['server'] | undefined;
  if (o.metricsPort !== undefined) {
    const s = await serveMetrics(metrics.registry, o.metricsPort, o.metricsHost, trigger);
    server = s.server;
    o.onListening?.(s.port);
  }
  const notes: string[] = [];
  let status: LoadgenStatus = 'completed';
  let failure: { code: string; message: string } | undefined;
  const parser = new PerfTestParser();
  const windows: Array<{ t0: number; t1: number; records: number; avgMs: number; maxMs: number; steady: boolean }> = [];
  let cpu: { userS: number; systemS: number } | undefined;
  let stoppedAt: number | undefined;
  let javaStart: number | undefined;
  let exitAt: number | undefined;

  const finishSummary = (): LoadgenSummary => {
    const wEnd = Math.min(sched.end, stoppedAt ?? Infinity, windows.length ? windows[windows.length - 1]!.t1 : sched.end);
    // Warm-up: 4.2+ marks it; for older tools, windows that began before the measured phase are warm-up.
    const isMeasured = (w: (typeof windows)[number]): boolean => (parser.out.warmupRecords !== undefined ? w.steady : w.t0 >= sched.measureStart - 250);
    const measured = windows.filter(isMeasured);
    const warmWins = windows.filter((w) => !isMeasured(w));
    let acked = measured.reduce((a, w) => a + w.records, 0);
    let winStart = measured.length ? measured[0]!.t0 : sched.measureStart;
    let winEnd = measured.length ? measured[measured.length - 1]!.t1 : Math.max(sched.measureStart, wEnd);
    const steady: PerfFinal | undefined = parser.out.steady;
    if (steady && status === 'completed') {
      // 4.2+: the tool's own steady-state line counts every measured record.
      acked = steady.records;
      winStart = measured.length ? measured[0]!.t0 : sched.measureStart;
      if (steady.recordsPerSec > 0 && Number.isFinite(steady.recordsPerSec)) winEnd = winStart + (steady.records / steady.recordsPerSec) * 1000;
    } else if (parser.out.total && status === 'completed' && exitAt !== undefined) {
      // Older tools: the whole-run count minus the warm-up windows, up to the tool's exit.
      acked = Math.max(0, parser.out.total.records - warmWins.reduce((a, w) => a + w.records, 0));
      winStart = warmWins.length ? warmWins[warmWins.length - 1]!.t1 : (javaStart ?? sched.measureStart);
      winEnd = exitAt;
      if (warmWins.length || o.warmupS > 0) notes.push('warm-up cut at the tool\'s 5 s report windows (tools before 4.2 have no --warmup-records)');
    } else if (!measured.length) winStart = sched.measureStart;
    const seconds = Math.max(0.001, (winEnd - winStart) / 1000);
    const latFin = parser.out.steady ?? parser.out.total;
    let latencyMs;
    if (latFin) {
      latencyMs = { p50: latFin.p50, p95: latFin.p95, p99: latFin.p99, p999: latFin.p999, max: latFin.maxMs, mean: latFin.avgMs, samples: latFin.records };
      if (latFin === parser.out.total && (o.warmupS > 0 || parser.out.warmupRecords !== undefined))
        notes.push('latency percentiles are the tool\'s whole-run figures: they include the warm-up (tools before 4.2 have no --warmup-records)');
    } else {
      const n = measured.reduce((a, w) => a + w.records, 0);
      latencyMs = {
        p50: 0,
        p95: 0,
        p99: 0,
        p999: 0,
        max: Math.max(0, ...measured.map((w) => w.maxMs)),
        mean: n ? measured.reduce((a, w) => a + w.avgMs * w.records, 0) / n : 0,
        samples: 0,
      };
      notes.push('no final line from the tool (stopped before it finished): percentiles unavailable; mean and max from its window lines');
    }
    const targetMessages = sched.unthrottled ? 0 : Math.round(((Math.max(sched.measureStart, wEnd) - sched.measureStart) / 1000) * o.rate);
    return {
      ...summaryHead('perf-test', o, { status, ...(failure ? { failure } : {}), keys: 'none', startAt, host: hostname() }),
      window: { start: winStart, end: winEnd },
      target: { messages: targetMessages, rate: o.rate },
      counts: { sent: acked, acked, failed: 0, unsent: Math.max(0, targetMessages - acked), bytesAcked: acked * o.size },
      warmup: { sent: warmWins.reduce((a, w) => a + w.records, 0), acked: warmWins.reduce((a, w) => a + w.records, 0), failed: 0 },
      achieved: { msgPerSec: acked / seconds, mbPerSec: (acked * o.size) / MB / seconds },
      latencyMs,
      latencySource: 'perf-test',
      ...(cpu ? { cpu } : {}),
      errors: parser.out.other.filter((l) => /Exception|ERROR|Error:/.test(l)).slice(0, 5).map((message) => ({ message, count: 1 })),
      client: { name: 'kafka ProducerPerformance', version: version ? version.join('.') : 'unknown' },
      ...(notes.length ? { notes } : {}),
      series: windows.map((w) => ({ t: w.t1, acked: w.records, rate: w.records / Math.max(0.001, (w.t1 - w.t0) / 1000), avgMs: w.avgMs, maxMs: w.maxMs })),
    };
  };

  try {
    if (!version) throw Object.assign(new Error(`no kafka-tools-<version>.jar in ${o.kafkaLibs}`), { code: 'loadgen.perftest_missing' });
    if (o.keys !== 'none') notes.push(`ProducerPerformance sends no keys; --keys ${o.keys} ignored`);
    const { args } = perfTestArgs(o, version);
    if (trigger) {
      // The JVM connects by itself; ready means the tool is installed and the driver listens.
      trigger.ready = true;
      let timer: NodeJS.Timeout | undefined;
      const at = await Promise.race([
        trigger.at,
        new Promise<number>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`no start trigger within ${o.awaitStartMs} ms`), { code: 'loadgen.no_start' })), o.awaitStartMs);
        }),
        new Promise<number>((_, reject) => o.signal?.addEventListener('abort', () => reject(Object.assign(new Error('stopped before the start'), { code: 'loadgen.aborted' })), { once: true })),
      ]).finally(() => clearTimeout(timer));
      startAt = at;
      sched = new Schedule({ startAt, rate: o.rate, warmupS: o.warmupS, durationS: o.durationS });
    }
    // Wait for the shared start (the JVM takes ~1 s to start; it is part of the tool's warm-up).
    await new Promise<void>((resolve) => {
      const wait = startAt - nowMs();
      if (wait <= 0 || o.signal?.aborted) return resolve();
      const t = setTimeout(resolve, wait);
      o.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    if (o.signal?.aborted) {
      status = 'aborted';
      stoppedAt = nowMs();
      return finishSummary();
    }
    const javaArgs = [`-Xmx${o.heap ?? '512m'}`, '-XX:+UseG1GC', '-cp', join(o.kafkaLibs, '*'), 'org.apache.kafka.tools.ProducerPerformance', ...args];
    log(`${o.java} ${javaArgs.join(' ')}`);
    javaStart = nowMs();
    const child = spawn(o.java, javaArgs, { env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const raw = o.rawLog ? createWriteStream(o.rawLog) : undefined;
    let last = javaStart;
    let lastWindowAt = last;
    const onLine = (line: string): void => {
      raw?.write(line + '\n');
      const r = parser.line(line);
      if (r.kind === 'window') {
        const t = nowMs();
        windows.push({ t0: last, t1: t, records: r.w.records, avgMs: r.w.avgMs, maxMs: r.w.maxMs, steady: r.w.steady });
        const phase = parser.out.warmupRecords !== undefined ? (r.w.steady ? 'measure' : 'warmup') : last >= sched.measureStart - 250 ? 'measure' : 'warmup';
        metrics.acked.inc({ phase }, r.w.records);
        metrics.sent.inc({ phase }, r.w.records);
        metrics.bytesAcked.inc({ phase }, r.w.records * o.size);
        last = t;
        lastWindowAt = t;
        log(`${phase} ${r.w.records} records, ${r.w.recordsPerSec} rec/s, avg ${r.w.avgMs} ms, max ${r.w.maxMs} ms`);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (l) => {
      raw?.write(l + '\n');
      parser.out.other.push(l);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
    let killedFor: 'end' | 'stop' | 'stall' | undefined;
    const kill = (why: 'end' | 'stop' | 'stall'): void => {
      if (killedFor || child.exitCode !== null) return;
      killedFor = why;
      stoppedAt = nowMs();
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 3000).unref();
    };
    const onAbort = (): void => kill('stop');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    // The tool stops by itself after --num-records; bound it anyway (throttle shortfall, dead broker).
    const graceMs = Math.min(60_000, 2 * o.requestTimeoutMs + 5000);
    const endTimer = setTimeout(() => kill('end'), Math.max(0, sched.end + (sched.unthrottled ? 0 : graceMs) - nowMs()));
    const watch = setInterval(() => {
      cpu = procCpuSeconds(child.pid ?? -1) ?? cpu;
      // No window line for this long: the tool is stuck (e.g. no broker: it retries forever).
      // Before its first line the JVM may still be starting (slow on a busy host): a longer grace.
      const limit = windows.length ? Math.max(o.stallTimeoutMs, 7000) : Math.max(o.stallTimeoutMs, 60_000);
      if (nowMs() - lastWindowAt > limit && nowMs() < sched.end + graceMs) kill('stall');
    }, 500);
    const code = await Promise.race([exited, spawnError.then((e) => Promise.reject(e))]);
    exitAt = nowMs();
    clearTimeout(endTimer);
    clearInterval(watch);
    o.signal?.removeEventListener('abort', onAbort);
    raw?.end();
    if (killedFor === 'stop') status = 'aborted';
    else if (killedFor === 'stall') {
      status = 'failed';
      const hint = parser.out.other.find((l) => /could not be established|Exception|ERROR/.test(l));
      failure = { code: 'loadgen.stalled', message: `ProducerPerformance made no progress for ${Math.round(Math.max(o.stallTimeoutMs, 7000) / 1000)} s${hint ? `: ${hint}` : ''}` };
    } else if (killedFor === 'end' && !sched.unthrottled) {
      notes.push(`the tool had not sent all records ${Math.round(graceMs / 1000)} s after the end of the run; stopped`);
    } else if (!killedFor && code !== 0) {
      status = 'failed';
      failure = { code: 'loadgen.perftest_exit', message: `ProducerPerformance exited with ${code}: ${parser.out.other.slice(-3).join(' | ')}` };
    }
  } catch (e) {
    status = o.signal?.aborted ? 'aborted' : 'failed';
    if (status === 'aborted') stoppedAt = nowMs();
    else failure = { code: (e as { code?: string }).code ?? 'loadgen.perftest', message: (e as Error).message };
  } finally {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
  }
  return finishSummary();
}
