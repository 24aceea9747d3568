/**
 * The native generator (@platformatic/kafka): an open-loop schedule from the shared start (message
 * i is due at start + i/rate, whatever happened to the earlier ones). Requests are shaped like the
 * Java producer's: one batch of at most `batchBytes` per partition (consecutive partitions when
 * messages have no key, like the sticky partitioner), at most one batch per partition and
 * MAX_REQUEST_BYTES per send, a part-filled send waiting at most `lingerMs`; `connections` clients
 * each keep one connection per broker with at most `maxInflight` requests in flight on it. Latency
 * is taken from the intended send time; what is left when the run ends is censored (see
 * account.ts). Never hangs: each request, a stall without acks and the final drain are bounded.
 * Unkeyed messages (the default) skip the Producer's per-message work: their record batches are
 * encoded once per batch size and only stamped per send (batch.ts), and go as Produce requests on
 * the client's connections to the partition leaders (produce.ts); keyed messages go through the
 * Producer (its partitioner).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Producer, ProduceAcks, type ClusterMetadata, type ClusterTopicMetadata } from '@platformatic/kafka';
import { RunError } from '../../core/errors.js';
import type { LatencyHistogram } from '../histogram.js';
import type { DriverContext, DriverFigures, LoadDriver } from '../driver.js';
import type { GeneratorSettings } from '../plan.js';
import type { Schedule } from '../schedule.js';
import { nowMs } from '../schedule.js';
import { BACKLOG_GRACE_MS, MB, latencyFromHistogram, type LoadgenStatus } from '../summary.js';
import { SendAccount } from './account.js';
import { RecordBatchEncoder, type EncodedBatch } from './batch.js';
import { BatchSender } from './produce.js';

const ACKS = { '0': ProduceAcks.NO_RESPONSE, '1': ProduceAcks.LEADER, all: ProduceAcks.ALL } as const;

/** Payload bytes of one send at most (the Java producer's max.request.size default). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Messages per partition batch and per send: a batch holds `batchBytes` of payload (at least one
 * message); a send holds one batch per partition, within MAX_REQUEST_BYTES (at least one batch).
 */
export function sendShape(messageSize: number, batchBytes: number, partitions: number): { perBatch: number; perSend: number } {
  const perBatch = Math.max(1, batchBytes > 0 ? Math.floor(batchBytes / messageSize) : 1);
  const perSend = Math.max(perBatch, Math.min(perBatch * Math.max(1, partitions), Math.floor(MAX_REQUEST_BYTES / messageSize)));
  return { perBatch, perSend };
}

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

/** The innermost message of a client error (it wraps them: MultipleErrors, causes). */
/** Errors that mean the topic is not there yet (being created), not that the brokers are unreachable. */
const TOPIC_NOT_YET = /Unknown topic|UNKNOWN_TOPIC|LEADER_NOT_AVAILABLE|leader not available/i;

/** Every partition of the topic listed with a leader: sends can go. */
export function topicUsable(t: Pick<ClusterTopicMetadata, 'partitions' | 'partitionsCount'>): boolean {
  if (t.partitionsCount < 1) return false;
  for (let i = 0; i < t.partitionsCount; i++) if (!((t.partitions[i]?.leader ?? -1) >= 0)) return false;
  return true;
}

export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = (e as { errors?: unknown[] }).errors;
  if (Array.isArray(inner) && inner.length > 0) return describeError(inner[0]);
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && cause.message !== e.message) return `${e.message}: ${describeError(cause)}`;
  return e.message;
}

/** The settings the producers are made from: equal keys, same connections. */
export function connectionKey(s: GeneratorSettings): string {
  const d = s.driver.name === 'native' ? s.driver : undefined;
  return JSON.stringify([s.instance, s.bootstrap, s.acks, s.timeouts.requestMs, s.timeouts.connectMs, d?.connections, d?.maxInflight, d?.clientId ?? null]);
}

export class NativeDriver implements LoadDriver {
  readonly name = 'native' as const;
  private producers: Producer[] = [];
  /** Unkeyed messages: pre-encoded batches on the client's connections, one sender per connection. */
  private senders: BatchSender[] = [];
  private partitions = 1;
  private account: SendAccount | undefined;
  private cpuUsed: NodeJS.CpuUsage | undefined;
  private stoppedAt: number | undefined;
  private hist: LatencyHistogram | undefined;
  /** What the producers were made for (connectionKey): a kept-up generator reuses them for a run with the same. */
  private madeFor: string | undefined;
  private fresh = false;

  reusableFor(next: GeneratorSettings): boolean {
    return this.producers.length > 0 && this.madeFor === connectionKey(next);
  }

  async prepare(ctx: DriverContext): Promise<string> {
    const s = ctx.settings;
    const d = s.driver.name === 'native' ? s.driver : { maxInflight: 1, connections: 1, clientId: undefined };
    const clientId = d.clientId ?? `greenrace-loadgen-${s.instance}`;
    // A new run: nothing of a previous one (a kept-up generator) is kept but the connections.
    this.account = undefined;
    this.cpuUsed = undefined;
    this.stoppedAt = undefined;
    this.hist = undefined;
    const key = connectionKey(s);
    if (this.producers.length && this.madeFor !== key) await this.close();
    this.madeFor = key;
    // Kept connections: their cached metadata may be of a topic deleted since (same name): ask afresh.
    this.fresh = this.producers.length > 0;
    // One client per connection to each broker: the client keeps one connection per broker.
    if (!this.producers.length) this.producers = Array.from(
      { length: d.connections },
      (_, i) =>
        new Producer({
          clientId: d.connections > 1 ? `${clientId}-${i}` : clientId,
          bootstrapBrokers: s.bootstrap,
          acks: ACKS[s.acks],
          timeout: s.timeouts.requestMs,
          connectTimeout: Math.min(s.timeouts.connectMs, s.timeouts.requestMs),
          retries: 3,
          retryDelay: 250,
          maxInflights: Math.max(1, d.maxInflight),
          autocreateTopics: false,
        }),
    );
    // The controller may create the topic while the generators start: wait for it (and a leader for
    // each partition) within the connect timeout the runner bounds prepare() with.
    const md = await this.waitForTopic(ctx);
    const t = md.topics.get(s.topic)!;
    this.partitions = t.partitionsCount;
    // The senders are made for this run's topic and keys: a kept-up generator's earlier ones go.
    const old = this.senders;
    this.senders = [];
    await Promise.all(old.map((x) => x.close().catch(() => undefined)));
    if (s.keys === 'none') {
      const meta = (force: boolean): Promise<ClusterMetadata> => this.producers[0]!.metadata({ topics: [s.topic], autocreateTopics: false, forceUpdate: force });
      this.senders = Array.from(
        { length: d.connections },
        (_, i) =>
          new BatchSender({
            clientId: d.connections > 1 ? `${clientId}-${i}` : clientId,
            topic: s.topic,
            acks: ACKS[s.acks],
            requestTimeoutMs: s.timeouts.requestMs,
            connectTimeoutMs: Math.min(s.timeouts.connectMs, s.timeouts.requestMs),
            maxInflight: Math.max(1, d.maxInflight),
            retries: 3,
            retryDelayMs: 250,
            metadata: meta,
          }),
      );
      try {
        await Promise.all(this.senders.map((x) => x.connect(md)));
      } catch (e) {
        throw new RunError('loadgen.connect', `cannot reach the leaders of ${s.topic} on ${s.bootstrap.join(',')}: ${describeError(e)}`);
      }
    }
    const { perBatch, perSend } = sendShape(s.messageSize, s.batchBytes, this.partitions);
    return `connected: topic ${s.topic} has ${this.partitions} partitions; up to ${perBatch} messages a batch, ${perSend} a send, ${d.maxInflight} in flight on each of ${d.connections} connection(s) per broker`;
  }

  private async waitForTopic(ctx: DriverContext): Promise<ClusterMetadata> {
    const s = ctx.settings;
    const since = nowMs();
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const mds = await Promise.all(this.producers.map((p) => p.metadata({ topics: [s.topic], autocreateTopics: false, forceUpdate: attempt > 0 || this.fresh })));
        const t = mds[0]!.topics.get(s.topic);
        if (t && topicUsable(t)) return mds[0]!;
        why = t ? 'some partition has no leader yet' : 'not listed';
      } catch (e) {
        const text = describeError(e);
        if (!TOPIC_NOT_YET.test(text)) throw new RunError('loadgen.connect', `cannot reach the brokers ${s.bootstrap.join(',')}: ${text}`);
        why = text;
      }
      if (ctx.signal.aborted) throw new RunError('loadgen.no_topic', `topic ${s.topic} is not usable on ${s.bootstrap.join(',')} (${why})`);
      if (attempt === 0) ctx.log(`topic ${s.topic}: ${why}; waiting for it`);
      await new Promise((r) => setTimeout(r, 200));
      if (nowMs() - since > s.timeouts.connectMs) throw new RunError('loadgen.no_topic', `topic ${s.topic} is not usable on ${s.bootstrap.join(',')} after ${Math.round(s.timeouts.connectMs / 1000)} s (${why})`);
    }
  }

  run(ctx: DriverContext, sched: Schedule): Promise<void> {
    const s = ctx.settings;
    const producers = this.producers;
    this.hist = ctx.histogram;
    const acc = (this.account = new SendAccount(sched, s.messageSize, ctx.histogram, ctx.metrics));
    const d = s.driver.name === 'native' ? s.driver : { maxInflight: 1, connections: 1 };
    // Sends in flight at once: each send is one request per broker it touches, on the least busy client.
    const maxInflight = d.maxInflight * producers.length;
    const busy = producers.map(() => 0);
    const payload = randomBytes(s.messageSize);
    const { perBatch, perSend } = sendShape(s.messageSize, s.batchBytes, this.partitions);
    // Unkeyed messages of one partition are all alike: one object each, reused (the client copies what it reads).
    const unkeyed = Array.from({ length: this.partitions }, (_, p) => ({ topic: s.topic, value: payload, partition: p }));
    const senders = this.senders;
    const encoder = senders.length > 0 ? new RecordBatchEncoder(payload) : undefined;
    const keyPool = s.keys === 'random' ? Array.from({ length: 4096 }, () => randomBytes(8)) : [];
    const startAt = sched.startAt;
    let sticky = 0;
    let lastProgress = nowMs();
    let lastAck = Math.max(nowMs(), startAt);
    let lastError = '';
    let timer: NodeJS.Timeout | undefined;
    let lastLog = 0;
    let ended = false;
    let failure: RunError | undefined;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const cpu0 = process.cpuUsage();

    const finish = (why: LoadgenStatus, err?: RunError): void => {
      if (ended) return;
      ended = true;
      if (why !== 'completed') this.stoppedAt = nowMs();
      failure = err;
      clearTimeout(timer);
      clearInterval(stallTimer);
      acc.closeSending(this.stoppedAt ?? sched.end);
      const drainMs = why === 'completed' ? Math.min(60_000, s.timeouts.requestMs * 2 + 1000) : 3000;
      const drainEnd = nowMs() + drainMs;
      const poll = (): void => {
        if (acc.inflight === 0 || nowMs() >= drainEnd) {
          acc.censor(nowMs());
          return done();
        }
        setTimeout(poll, 20);
      };
      poll();
    };

    const onStop = (): void => finish('aborted');
    ctx.signal.addEventListener('abort', onStop, { once: true });

    const stallTimer = setInterval(() => {
      const now = nowMs();
      if (acc.inflight > 0 && now - lastProgress > s.timeouts.stallMs) {
        finish('failed', new RunError('loadgen.stalled', `no acknowledgement from ${s.bootstrap.join(',')} for ${Math.round((now - lastProgress) / 1000)} s (${acc.inflight} requests pending)`));
      } else if (now > startAt && now - lastAck > s.timeouts.stallMs && lastError) {
        finish('failed', new RunError('loadgen.send_failed', `every send failed for ${Math.round((now - lastAck) / 1000)} s; last error: ${lastError}`));
      }
      if (now - lastLog >= 1000 && now >= sched.startAt) {
        lastLog = now;
        const backlog = sched.unthrottled ? 0 : Math.max(0, sched.dueBy(now) - acc.next);
        ctx.metrics.backlog.set(backlog);
        const c = acc.counts;
        const w = acc.warm;
        ctx.log(`${sched.phase(now)} sent=${c.sent + w.sent} acked=${c.acked + w.acked} failed=${c.failed + w.failed} backlog=${backlog} inflight=${acc.inflight}`);
      }
    }, 250);

    const onResult = (id: number, c: number, err: unknown): void => {
      busy[c]!--;
      const t = nowMs();
      lastProgress = t;
      if (err) {
        lastError = describeError(err);
        acc.failed(id, t, lastError);
      } else {
        lastAck = t;
        acc.acked(id, t);
      }
      if (!ended) tick();
    };

    const leastBusy = (): number => {
      let c = 0;
      for (let i = 1; i < busy.length; i++) if (busy[i]! < busy[c]!) c = i;
      busy[c]!++;
      return c;
    };

    const sendBatch = (n: number, sentAt: number): void => {
      if (encoder) {
        // Batches of perBatch on consecutive partitions (sticky), one per partition at most, each
        // stamped with the send's time (as the client stamps messages without a timestamp).
        const batches: EncodedBatch[] = [];
        for (let k = 0; k < n; k += perBatch) batches.push(encoder.encode(sticky++ % this.partitions, Math.min(perBatch, n - k), sentAt));
        const id = acc.sent(n, sentAt);
        const c = leastBusy();
        senders[c]!.send(batches, (err) => onResult(id, c, err));
        return;
      }
      const first = acc.next;
      const messages = new Array(n);
      if (s.keys === 'none') {
        // Batches of perBatch on consecutive partitions (sticky), one per partition at most.
        for (let k = 0; k < n; k++) {
          if (k > 0 && k % perBatch === 0) sticky++;
          messages[k] = unkeyed[sticky % this.partitions];
        }
        sticky++;
      } else if (s.keys === 'random') {
        for (let k = 0; k < n; k++) messages[k] = { topic: s.topic, value: payload, key: keyPool[(Math.random() * keyPool.length) | 0] };
      } else {
        for (let k = 0; k < n; k++) messages[k] = { topic: s.topic, value: payload, key: Buffer.from(String(first + k)) };
      }
      const id = acc.sent(n, sentAt);
      const c = leastBusy();
      producers[c]!.send({ messages }, (err) => onResult(id, c, err));
    };

    const tick = (): void => {
      clearTimeout(timer);
      timer = undefined;
      if (ended) return;
      const now = nowMs();
      const atEnd = now >= sched.end;
      if (sched.unthrottled) {
        if (atEnd) return finish('completed');
        while (acc.inflight < maxInflight) sendBatch(perSend, now);
        timer = setTimeout(tick, Math.max(1, sched.end - now));
        return;
      }
      const due = sched.dueBy(now);
      while (acc.next < due && acc.inflight < maxInflight) {
        const n = Math.min(due - acc.next, perSend);
        // Linger: a part-filled send waits until its oldest message has waited lingerMs.
        if (!atEnd && n < perSend && now - sched.intended(acc.next) < s.lingerMs && due < sched.total) break;
        sendBatch(n, now);
      }
      if (atEnd) return finish('completed');
      if (acc.next < due && acc.inflight >= maxInflight) {
        // Blocked on in-flight requests: the next ack calls tick(); the end is still checked.
        timer = setTimeout(tick, Math.max(1, Math.min(sched.end - now, 50)));
        return;
      }
      const wakeAt =
        acc.next < due ? sched.intended(acc.next) + s.lingerMs : Math.min(sched.intended(acc.next) + (perSend > 1 ? s.lingerMs : 0), sched.end);
      timer = setTimeout(tick, Math.max(0, Math.min(wakeAt, sched.end) - now));
    };

    if (ctx.signal.aborted) onStop();
    else tick();
    return finished.then(() => {
      this.cpuUsed = process.cpuUsage(cpu0);
      ctx.signal.removeEventListener('abort', onStop);
      ctx.metrics.backlog.set(0);
      if (failure) throw failure;
    });
  }

  figures(sched: Schedule | undefined, end: { status: LoadgenStatus; stoppedAt?: number }): DriverFigures {
    const acc = this.account;
    const stoppedAt = this.stoppedAt ?? end.stoppedAt;
    const measureStart = sched?.measureStart ?? stoppedAt ?? 0;
    const schedEnd = sched?.end ?? measureStart;
    const winEnd = Math.max(measureStart, Math.min(schedEnd, stoppedAt ?? schedEnd));
    const seconds = (winEnd - measureStart) / 1000;
    const counts = acc ? { ...acc.counts } : { sent: 0, acked: 0, failed: 0, unsent: 0, unacked: 0, bytesAcked: 0 };
    const hist = acc ? this.hist : undefined;
    const unthrottled = !sched || sched.unthrottled;
    return {
      window: { start: measureStart, end: winEnd },
      target: { messages: unthrottled ? 0 : (acc?.dueMeasured ?? Math.max(0, Math.round(seconds * (sched?.rate ?? 0)))), rate: sched?.rate ?? 0 },
      counts,
      warmup: acc ? { ...acc.warm } : { sent: 0, acked: 0, failed: 0 },
      achieved: { msgPerSec: seconds > 0 ? counts.acked / seconds : 0, mbPerSec: seconds > 0 ? counts.bytesAcked / MB / seconds : 0 },
      saturated: acc?.saturated ?? false,
      backlog: { graceMs: BACKLOG_GRACE_MS, overdue: acc ? acc.overdue() : 0, senderLagMs: acc && !unthrottled ? Math.round(acc.senderLagMs) : null },
      latencyMs: hist ? latencyFromHistogram(hist) : { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0, samples: 0, censored: 0 },
      latency: {
        loop: unthrottled ? 'closed' : 'open',
        from: unthrottled ? 'send' : 'intended',
        source: 'histogram',
        ...(acc?.censoredAt !== undefined ? { censoredAt: acc.censoredAt } : {}),
      },
      ...(hist ? { histogram: hist.toJSON() } : {}),
      ...(this.cpuUsed ? { cpu: { userS: this.cpuUsed.user / 1e6, systemS: this.cpuUsed.system / 1e6 } } : {}),
      errors: acc ? [...acc.errors].map(([message, count]) => ({ message, count })) : [],
      client: { name: '@platformatic/kafka', version: clientVersion() },
      ...(unthrottled && sched
        ? { notes: ['unthrottled (rate 0): no schedule, so latency is from the actual send (closed-loop) and nothing counts as unsent'] }
        : {}),
      ...(acc && acc.stepHists.length
        ? { steps: acc.stepFigures().map(({ hist: h, ...st }) => ({ ...st, latencyMs: latencyFromHistogram(h), histogram: h.toJSON() })) }
        : {}),
      series: acc ? Array.from(acc.perSecond, (acked, t) => ({ t: measureStart + t * 1000, acked: acked ?? 0, rate: acked ?? 0 })) : [],
    };
  }

  async close(): Promise<void> {
    const ps = this.producers;
    this.producers = [];
    const ss = this.senders;
    this.senders = [];
    await Promise.all(ss.map((x) => x.close().catch(() => undefined)));
    await Promise.all(
      ps.map(
        (p) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => p.close(true, () => resolve()), 3000);
            p.close().then(
              () => (clearTimeout(t), resolve()),
              () => (clearTimeout(t), p.close(true, () => resolve())),
            );
          }),
      ),
    );
  }
}
