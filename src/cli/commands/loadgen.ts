import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { intOption, numberOption } from '../options.js';

interface LoadgenFlags {
  bootstrap: string;
  topic: string;
  rate: number;
  size: number;
  duration: number;
  warmup: number;
  startAt?: number;
  acks: '0' | '1' | 'all';
  keys: 'none' | 'random' | 'sequential';
  lingerMs: number;
  batchBytes: number;
  maxInflight: number;
  requestTimeout: number;
  stallTimeout: number;
  connectTimeout: number;
  maxLate: number;
  awaitStart?: number;
  instance: string;
  summary?: string;
  metricsPort?: number;
  metricsHost: string;
  driver: 'native' | 'perf-test';
  kafkaLibs?: string;
  java: string;
  perfLog?: string;
  quiet?: boolean;
}

const choice =
  <T extends string>(name: string, allowed: readonly T[]) =>
  (v: string): T => {
    if (!(allowed as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')} (got "${v}")`);
    return v as T;
  };

const seconds = (name: string, min: number) => (v: string): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`${name} must be a duration such as 30, 30s, 5m (got "${v}")`);
  const n = Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2] ?? 's']!;
  if (n < min) throw new InvalidArgumentError(`${name} must be at least ${min} s (got ${n} s)`);
  return n;
};

export function registerLoadgen(program: Command): void {
  program
    .command('loadgen')
    .description('run one Kafka load generator instance (open-loop, on a schedule from a shared start time) and write its JSON summary')
    .requiredOption('--bootstrap <host:port,...>', 'bootstrap servers')
    .requiredOption('--topic <name>', 'topic to produce to (must exist)')
    .option('--rate <msg/s>', 'target rate of this instance; 0 = as fast as possible', numberOption('--rate', { min: 0, max: 1e8 }), 1000)
    .option('--size <bytes>', 'message payload size', intOption('--size', 1, 10 * 1024 * 1024), 1024)
    .option('--duration <s>', 'measured duration (after the warm-up)', seconds('--duration', 0.1), 30)
    .option('--warmup <s>', 'warm-up before the measurement, excluded from it', seconds('--warmup', 0), 0)
    .option('--start-at <epoch-ms>', 'shared start time (epoch milliseconds); default now + 1 s', intOption('--start-at', 0))
    .option('--acks <0|1|all>', 'acknowledgements', choice('--acks', ['0', '1', 'all'] as const), 'all')
    .option('--keys <mode>', 'message keys: none (sticky partition per batch), random, sequential', choice('--keys', ['none', 'random', 'sequential'] as const), 'none')
    .option('--linger-ms <ms>', 'wait up to this long to fill a batch', numberOption('--linger-ms', { min: 0, max: 60000 }), 5)
    .option('--batch-bytes <bytes>', 'maximum payload bytes per produce request', intOption('--batch-bytes', 0, 64 * 1024 * 1024), 65536)
    .option('--max-inflight <n>', 'produce requests in flight at once', intOption('--max-inflight', 1, 1024), 5)
    .option('--request-timeout <ms>', 'timeout of one produce request', intOption('--request-timeout', 100, 600000), 10000)
    .option('--stall-timeout <ms>', 'fail when no acknowledgement arrived for this long', intOption('--stall-timeout', 500, 3600000), 20000)
    .option('--connect-timeout <ms>', 'bound on reaching the brokers before the start', intOption('--connect-timeout', 100, 600000), 15000)
    .option('--await-start <ms>', 'no fixed start: once connected, wait this long for POST /start?at=<epoch ms> on the metrics port', intOption('--await-start', 100, 3600000))
    .option('--max-late <ms>', 'fail when ready later than this after --start-at', intOption('--max-late', 0, 3600000), 2000)
    .option('--instance <id>', 'instance name in the summary and metric labels', `loadgen-${process.pid}`)
    .option('--summary <file>', 'write the JSON summary here (default: stdout)')
    .option('--metrics-port <n>', 'serve Prometheus metrics on this port (0 = any free port)', intOption('--metrics-port', 0, 65535))
    .option('--metrics-host <addr>', 'address the metrics server listens on', '0.0.0.0')
    .option('--driver <native|perf-test>', 'native generator, or Kafka\'s ProducerPerformance', choice('--driver', ['native', 'perf-test'] as const), 'native')
    .option('--kafka-libs <dir>', 'perf-test driver: directory of the Kafka jars (kafka-tools and its dependencies)')
    .option('--java <path>', 'perf-test driver: java binary', 'java')
    .option('--perf-log <file>', 'perf-test driver: keep the tool\'s raw output here')
    .option('--quiet', 'no per-second progress on stderr')
    .action(async (f: LoadgenFlags) => {
      const { writeFileAtomic } = await import('../../core/files.js');
      const { UsageError, RunError, InterruptedError } = await import('../../core/errors.js');
      const bootstrap = f.bootstrap.split(',').map((s) => s.trim()).filter(Boolean);
      if (bootstrap.length === 0 || bootstrap.some((b) => !/^[^\s:]+:\d{1,5}$/.test(b)))
        throw new UsageError('loadgen.bootstrap', `--bootstrap must be host:port[,host:port...] (got "${f.bootstrap}")`);
      if (f.driver === 'perf-test' && !f.kafkaLibs) throw new UsageError('loadgen.kafka_libs', '--driver perf-test needs --kafka-libs <dir>');
      const ac = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => {
        process.stderr.write(`loadgen: ${sig}, stopping\n`);
        ac.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const log = f.quiet ? undefined : (l: string): void => void process.stderr.write(`[${f.instance}] ${l}\n`);
      const common = {
        bootstrap,
        topic: f.topic,
        rate: f.rate,
        size: f.size,
        warmupS: f.warmup,
        durationS: f.duration,
        ...(f.startAt !== undefined ? { startAt: f.startAt } : {}),
        ...(f.awaitStart !== undefined ? { awaitStartMs: f.awaitStart } : {}),
        acks: f.acks,
        keys: f.keys,
        lingerMs: f.lingerMs,
        batchBytes: f.batchBytes,
        maxInflight: f.maxInflight,
        requestTimeoutMs: f.requestTimeout,
        stallTimeoutMs: f.stallTimeout,
        connectTimeoutMs: f.connectTimeout,
        maxLateMs: f.maxLate,
        instance: f.instance,
        ...(f.metricsPort !== undefined ? { metricsPort: f.metricsPort } : {}),
        metricsHost: f.metricsHost,
        signal: ac.signal,
        ...(log ? { log } : {}),
      };
      let summary;
      if (f.driver === 'native') {
        const { runLoadgen } = await import('../../loadgen/generator.js');
        summary = await runLoadgen(common);
      } else {
        const { runPerfTest } = await import('../../workloads/ingest/perftest-driver.js');
        summary = await runPerfTest({ ...common, kafkaLibs: f.kafkaLibs!, java: f.java, ...(f.perfLog ? { rawLog: f.perfLog } : {}) });
      }
      const text = JSON.stringify(summary, null, 2) + '\n';
      if (f.summary) writeFileAtomic(f.summary, text);
      else process.stdout.write(text);
      const l = summary.latencyMs;
      process.stderr.write(
        `[${f.instance}] ${summary.status}: ${summary.counts.acked} acked (${summary.achieved.msgPerSec.toFixed(1)} msg/s, ${summary.achieved.mbPerSec.toFixed(2)} MB/s), ` +
          `${summary.counts.failed} failed, ${summary.counts.unsent} unsent; latency ms p50 ${l.p50} p99 ${l.p99} p99.9 ${l.p999} max ${l.max}\n`,
      );
      if (summary.status === 'aborted') throw new InterruptedError('load generator stopped by a signal; partial summary written');
      if (summary.status === 'failed') throw new RunError(summary.error?.code ?? 'loadgen.failed', summary.error?.message ?? 'load generator failed');
    });
}
