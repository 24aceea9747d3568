import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Producer, ProduceAcks } from '@platformatic/kafka';
import { LatencyHistogram } from '../histogram.js';
import { Schedule, nowMs } from '../schedule.js';
import { MB, latencyFromHistogram, summaryHead, type LoadgenStatus, type LoadgenSummary } from '../summary.js';
import { StartTrigger, createLoadgenMetrics, serveMetrics, type LoadgenMetrics } from '../metrics.js';

export type Acks = '0' | '1' | 'all';
export type KeyMode = 'none' | 'random' | 'sequential';

export interface LoadgenOptions {
  bootstrap: string[];
  topic: string;
  /** Target rate of this instance, msg/s; 0 = as fast as the client and brokers go. */
  rate: number;
  /** Payload bytes per message. */
  size: number;
  warmupS: number;
  durationS: number;
  /** Shared start time, epoch ms (default: now + 1 s). */
  startAt?: number;
  /** Instead of startAt: wait this long for `POST /start?at=` on the metrics port. */
  awaitStartMs?: number;
  acks: Acks;
  keys: KeyMode;
  /** Wait up to this long for more due messages before sending a batch (like linger.ms). */
  lingerMs: number;
  /** Upper bound of one produce request's payload bytes (like batch.size; 0 = one message). */
  batchBytes: number;
  /** Produce requests in flight at once. */
  maxInflight: number;
  /** Per-request timeout given to the client. */
  requestTimeoutMs: number;
  /** Give up when no acknowledgement arrived for this long while sends were pending. */
  stallTimeoutMs: number;
  /** Bound on reaching the brokers before the start. */
  connectTimeoutMs: number;
  /** Being ready later than this after the shared start fails the run (its backlog would burst). */
  maxLateMs: number;
  instance: string;
  /** Port for /metrics; undefined = none, 0 = any free port. */
  metricsPort?: number;
  metricsHost?: string;
  clientId?: string;
  signal?: AbortSignal;
  /** One line per second while running, and notable events. */
  log?: (line: string) => void;
  /** Called once the metrics server listens (tests use the port). */
  onListening?: (port: number) => void;
}

const ACKS = { '0': ProduceAcks.NO_RESPONSE, '1': ProduceAcks.LEADER, all: ProduceAcks.ALL } as const;

function clientVersion(): string {
  try {
    // The package's exports hide package.json: find it from the resolved entry point.
    const req = createRequire(import.meta.url);
    let dir = dirname(req.resolve('@platformatic/kafka'));
    for (let i = 0; i < 4 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new LoadgenFailure('loadgen.timeout', `${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

export class LoadgenFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // The client wraps errors (MultipleErrors); the innermost message says what happened.
  const inner = (e as { errors?: unknown[] }).errors;
  if (Array.isArray(inner) && inner.length > 0) return describeError(inner[0]);
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && cause.message !== e.message) return `${e.message}: ${describeError(cause)}`;
  return e.message;
}

/**
 * Run one generator instance: connect, wait for the shared start time, send on the open-loop
 * schedule through warm-up and measurement, drain, and return the summary. Never hangs: the
 * connection, each request, a stall without acks and the final drain are all bounded. A stop
 * (signal) returns a partial summary marked `aborted`; a dead cluster one marked `failed`.
 */
export async function runLoadgen(o: LoadgenOptions): Promise<LoadgenSummary> {
  const log = o.log ?? (() => {});
  let startAt = o.startAt ?? Math.ceil(nowMs() + (o.awaitStartMs ?? 1000));
  let sched = new Schedule({ startAt, rate: o.rate, warmupS: o.warmupS, durationS: o.durationS });
  const trigger = o.awaitStartMs !== undefined ? new StartTrigger() : undefined;
  if (trigger && o.metricsPort === undefined) throw new LoadgenFailure('loadgen.usage', 'waiting for a start trigger needs a metrics port');
  const hist = new LatencyHistogram();
  const metrics: LoadgenMetrics = createLoadgenMetrics({ instance_id: o.instance, topic: o.topic }, () => hist);
  metrics.targetRate.set(o.rate);
  let server: Awaited<ReturnType<typeof serveMetrics>>['server'] | undefined;
  if (o.metricsPort !== undefined) {
    const s = await serveMetrics(metrics.registry, o.metricsPort, o.metricsHost, trigger);
    server = s.server;
    o.onListening?.(s.port);
  }

  const counts = { sent: 0, acked: 0, failed: 0, unsent: 0, bytesAcked: 0 };
  const warm = { sent: 0, acked: 0, failed: 0 };
  const errors = new Map<string, number>();
  const perSecond: number[] = [];
  let status: LoadgenStatus = 'completed';
  let failure: { code: string; message: string } | undefined;
  let stoppedAt: number | undefined;
  let targetMeasured: number | undefined;
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpuUsed: NodeJS.CpuUsage | undefined;

  const producer = new Producer({
    clientId: o.clientId ?? `greenrace-loadgen-${o.instance}`,
    bootstrapBrokers: o.bootstrap,
    acks: ACKS[o.acks],
    timeout: o.requestTimeoutMs,
    connectTimeout: Math.min(o.connectTimeoutMs, o.requestTimeoutMs),
    retries: 3,
    retryDelay: 250,
    maxInflights: Math.max(1, o.maxInflight),
    autocreateTopics: false,
  });

  const summary = (): LoadgenSummary => {
    const end = Math.min(sched.end, stoppedAt ?? sched.end);
    const winEnd = Math.max(sched.measureStart, end);
    const seconds = (winEnd - sched.measureStart) / 1000;
    const targetMessages = sched.unthrottled ? 0 : (targetMeasured ?? Math.max(0, Math.round(seconds * o.rate)));
    return {
      ...summaryHead('native', o, { status, ...(failure ? { failure } : {}), keys: o.keys, startAt, host: hostname() }),
      window: { start: sched.measureStart, end: winEnd },
      target: { messages: targetMessages, rate: o.rate },
      counts: { ...counts },
      warmup: { ...warm },
      achieved: {
        msgPerSec: seconds > 0 ? counts.acked / seconds : 0,
        mbPerSec: seconds > 0 ? counts.bytesAcked / MB / seconds : 0,
      },
      latencyMs: latencyFromHistogram(hist),
      histogram: hist.toJSON(),
      latencySource: 'histogram',
      ...(cpuUsed ? { cpu: { userS: cpuUsed.user / 1e6, systemS: cpuUsed.system / 1e6 } } : {}),
      errors: [...errors].map(([message, count]) => ({ message, count })),
      client: { name: '@platformatic/kafka', version: clientVersion() },
      series: Array.from(perSecond, (acked, t) => ({ t: sched.measureStart + t * 1000, acked: acked ?? 0, rate: acked ?? 0 })),
    };
  };

  let partitions = 1;
  try {
    // 1. Reach the cluster and learn the topic before the start (bounded).
    try {
      const md = await withTimeout(producer.metadata({ topics: [o.topic], autocreateTopics: false }), o.connectTimeoutMs, `connecting to ${o.bootstrap.join(',')}`);
      const t = md.topics.get(o.topic);
      if (!t) throw new LoadgenFailure('loadgen.no_topic', `topic ${o.topic} does not exist on ${o.bootstrap.join(',')}`);
      partitions = t.partitionsCount;
    } catch (e) {
      if (e instanceof LoadgenFailure) throw e;
      throw new LoadgenFailure('loadgen.connect', `cannot reach the brokers ${o.bootstrap.join(',')}: ${describeError(e)}`);
    }
    if (o.signal?.aborted) throw new LoadgenFailure('loadgen.aborted', 'stopped before the start');
    if (trigger) {
      trigger.ready = true;
      log(`connected: topic ${o.topic} has ${partitions} partitions; waiting up to ${o.awaitStartMs} ms for POST /start`);
      let timer: NodeJS.Timeout | undefined;
      const at = await Promise.race([
        trigger.at,
        new Promise<number>((_, reject) => {
          timer = setTimeout(() => reject(new LoadgenFailure('loadgen.no_start', `no start trigger within ${o.awaitStartMs} ms`)), o.awaitStartMs);
        }),
        new Promise<number>((_, reject) => o.signal?.addEventListener('abort', () => reject(new LoadgenFailure('loadgen.aborted', 'stopped before the start')), { once: true })),
      ]).finally(() => clearTimeout(timer));
      startAt = at;
      sched = new Schedule({ startAt, rate: o.rate, warmupS: o.warmupS, durationS: o.durationS });
    }
    log(`connected: topic ${o.topic} has ${partitions} partitions; start at ${new Date(startAt).toISOString()}`);

    // 2. Wait for the shared start time.
    const late = nowMs() - startAt;
    if (late > o.maxLateMs)
      throw new LoadgenFailure('loadgen.late_start', `ready ${Math.round(late)} ms after the shared start time (allowed ${o.maxLateMs} ms): start the generators earlier (a longer lead)`);
    await new Promise<void>((resolve) => {
      const wait = startAt - nowMs();
      if (wait <= 0) return resolve();
      const t = setTimeout(resolve, wait);
      o.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });

    // 3. Send on schedule.
    await sendLoop();
    log(`finished: ${status}`);
  } catch (e) {
    if (status === 'completed') {
      status = o.signal?.aborted ? 'aborted' : 'failed';
      if (status === 'failed') failure = e instanceof LoadgenFailure ? { code: e.code, message: e.message } : { code: 'loadgen.error', message: describeError(e) };
      stoppedAt ??= nowMs();
    }
  } finally {
    await withTimeout(producer.close(), 3000, 'closing the producer').catch(
      () => new Promise<void>((r) => producer.close(true, () => r())),
    );
    metrics.backlog.set(0);
  }
  const result = summary();
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  return result;

  async function sendLoop(): Promise<void> {
    const payload = randomBytes(o.size);
    const perBatch = Math.max(1, o.batchBytes > 0 ? Math.floor(o.batchBytes / Math.max(1, o.size)) : 1);
    const keyPool = o.keys === 'random' ? Array.from({ length: 4096 }, () => randomBytes(8)) : [];
    let sticky = 0;
    let next = 0;
    let inflight = 0;
    let lastProgress = nowMs();
    let lastAck = Math.max(nowMs(), startAt);
    let lastError = '';
    let timer: NodeJS.Timeout | undefined;
    let stallTimer: NodeJS.Timeout | undefined;
    let lastLog = 0;
    let done!: () => void;
    let ended = false;
    const finished = new Promise<void>((r) => (done = r));
    cpu0 = process.cpuUsage();

    const finish = (why: LoadgenStatus, err?: { code: string; message: string }): void => {
      if (ended) return;
      ended = true;
      if (why !== 'completed') {
        status = why;
        if (err) failure = err;
        stoppedAt = nowMs();
      }
      clearTimeout(timer);
      clearInterval(stallTimer);
      // Messages due in the measured phase that never left.
      const endIdx = sched.unthrottled ? next : sched.dueBy(Math.min(stoppedAt ?? sched.end, sched.end) - 1e-9);
      const dueMeasured = Math.max(0, Math.min(endIdx, sched.total) - Math.max(sched.firstMeasured, 0));
      const sentMeasured = Math.max(0, next - sched.firstMeasured);
      if (!sched.unthrottled) {
        counts.unsent = Math.max(0, dueMeasured - Math.min(sentMeasured, dueMeasured));
        targetMeasured = dueMeasured;
      }
      const drainMs = why === 'completed' ? Math.min(60_000, o.requestTimeoutMs * 2 + 1000) : 3000;
      const drainEnd = nowMs() + drainMs;
      const poll = (): void => {
        if (inflight === 0) return done();
        if (nowMs() >= drainEnd) {
          const e = `no acknowledgement within ${drainMs} ms after the end`;
          errors.set(e, (errors.get(e) ?? 0) + inflight);
          return done();
        }
        setTimeout(poll, 20);
      };
      poll();
    };

    const onStop = (): void => finish('aborted');
    o.signal?.addEventListener('abort', onStop, { once: true });
    if (o.signal?.aborted) onStop();

    stallTimer = setInterval(() => {
      const now = nowMs();
      if (inflight > 0 && now - lastProgress > o.stallTimeoutMs) {
        finish('failed', { code: 'loadgen.stalled', message: `no acknowledgement from ${o.bootstrap.join(',')} for ${Math.round((now - lastProgress) / 1000)} s (${inflight} requests pending)` });
      } else if (now > startAt && now - lastAck > o.stallTimeoutMs && lastError) {
        finish('failed', { code: 'loadgen.send_failed', message: `every send failed for ${Math.round((now - lastAck) / 1000)} s; last error: ${lastError}` });
      }
      if (now - lastLog >= 1000 && now >= sched.startAt) {
        lastLog = now;
        const backlog = sched.unthrottled ? 0 : Math.max(0, sched.dueBy(now) - next);
        metrics.backlog.set(backlog);
        log(`${sched.phase(now)} sent=${counts.sent + warm.sent} acked=${counts.acked + warm.acked} failed=${counts.failed + warm.failed} backlog=${backlog} inflight=${inflight}`);
      }
    }, 250);

    const sendBatch = (first: number, n: number, sentAt: number): void => {
      const messages = new Array(n);
      const part = o.keys === 'none' ? sticky++ % partitions : undefined;
      for (let k = 0; k < n; k++) {
        const m: { topic: string; value: Buffer; key?: Buffer; partition?: number } = { topic: o.topic, value: payload };
        if (part !== undefined) m.partition = part;
        else if (o.keys === 'random') m.key = keyPool[(Math.random() * keyPool.length) | 0];
        else m.key = Buffer.from(String(first + k));
        messages[k] = m;
      }
      // Throttled: phase and latency follow the intended times. Unthrottled: the send time.
      const measured = sched.unthrottled
        ? sentAt >= sched.measureStart && sentAt < sched.end
          ? n
          : 0
        : Math.max(0, Math.min(n, first + n - sched.firstMeasured));
      // Counts follow the wall clock (a message sent or acknowledged inside the measurement window
      // counts there, whatever its intended time); latency follows the intended time (`measured`).
      const sentIn = sentAt >= sched.measureStart && sentAt < sched.end;
      if (sentIn) counts.sent += n;
      else if (sentAt < sched.measureStart) warm.sent += n;
      metrics.sent.inc({ phase: sentIn ? 'measure' : 'warmup' }, n);
      inflight++;
      metrics.inflight.set(inflight);
      producer.send({ messages }, (err) => {
        const t = nowMs();
        inflight--;
        metrics.inflight.set(inflight);
        lastProgress = t;
        const phase = t < sched.measureStart ? 'warmup' : t < sched.end ? 'measure' : 'after';
        if (err) {
          const msg = describeError(err);
          lastError = msg;
          errors.set(msg, (errors.get(msg) ?? 0) + n);
          if (phase === 'warmup') warm.failed += n;
          else counts.failed += n;
          metrics.failed.inc({ phase: phase === 'warmup' ? 'warmup' : 'measure' }, n);
        } else {
          lastAck = t;
          if (phase === 'measure') {
            counts.acked += n;
            counts.bytesAcked += n * o.size;
            const sec = Math.floor((t - sched.measureStart) / 1000);
            perSecond[sec] = (perSecond[sec] ?? 0) + n;
          } else if (phase === 'warmup') warm.acked += n;
          metrics.acked.inc({ phase: phase === 'warmup' ? 'warmup' : 'measure' }, n);
          if (phase !== 'warmup') metrics.bytesAcked.inc({ phase: 'measure' }, n * o.size);
          if (measured > 0) {
            if (sched.unthrottled) hist.record((t - sentAt) * 1000, measured);
            else for (let i = n - measured; i < n; i++) hist.record((t - sched.intended(first + i)) * 1000);
          }
        }
        if (!ended) tick();
      });
    };

    const tick = (): void => {
      clearTimeout(timer);
      timer = undefined;
      if (ended) return;
      const now = nowMs();
      const atEnd = now >= sched.end;
      if (sched.unthrottled) {
        if (atEnd) return finish('completed');
        while (inflight < o.maxInflight) {
          sendBatch(next, perBatch, now);
          next += perBatch;
        }
        timer = setTimeout(tick, Math.max(1, sched.end - now));
        return;
      }
      const due = sched.dueBy(now);
      while (next < due && inflight < o.maxInflight) {
        const n = Math.min(due - next, perBatch);
        // Linger: a part-filled batch waits until its oldest message has waited lingerMs.
        if (!atEnd && n < perBatch && now - sched.intended(next) < o.lingerMs && due < sched.total) break;
        sendBatch(next, n, now);
        next += n;
      }
      if (atEnd) return finish('completed');
      if (next < due && inflight >= o.maxInflight) {
        // Blocked on in-flight requests: the next ack calls tick(); the end is still checked.
        timer = setTimeout(tick, Math.max(1, Math.min(sched.end - now, 50)));
        return;
      }
      const wakeAt = next < due ? sched.intended(next) + o.lingerMs : Math.min(sched.intended(next) + (perBatch > 1 ? o.lingerMs : 0), sched.end);
      timer = setTimeout(tick, Math.max(0, Math.min(wakeAt, sched.end) - now));
    };

    tick();
    await finished;
    cpuUsed = process.cpuUsage(cpu0);
    o.signal?.removeEventListener('abort', onStop);
    if (status === 'failed') throw new LoadgenFailure(failure?.code ?? 'loadgen.error', failure?.message ?? 'failed');
  }
}
