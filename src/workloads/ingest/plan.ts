/**
 * The ingest plan, computed ONCE per run: which generator runs where, at which rate, with which
 * topic, timeouts and start trigger. It becomes the generators' `plan.json` (src/loadgen/plan.ts's
 * schema, `loadgenPlan`) and the run's `manifest.yaml` (rendered for the record, never read back).
 */
import nunjucks from 'nunjucks';
import { ConfigError } from '../../core/errors.js';
import { assetPath } from '../../core/paths.js';
import { LOADGEN_SCRAPE_JOB, hostsInRole, type Host } from '../../core/types.js';
import { LOADGEN_PLAN_SCHEMA, type LoadgenPlanInput } from '../../loadgen/plan.js';
import type { IngestConfig } from './schema.js';

/** First metrics port of the generators on a worker host; instance k on a host uses BASE + k. */
export const LOADGEN_METRICS_PORT = 9470;
/** Partitions per broker above which a run is refused (Kafka's guidance is ≤ 4,000 per broker). */
export const MAX_PARTITIONS_PER_BROKER = 4000;
/** How long generators wait for the shared start (Ansible starting every generator on a busy cluster). */
export const DEFAULT_START_LEAD_S = 180;

export interface GeneratorPlan {
  id: string;
  host: string;
  address: string;
  /** msg/s of this instance. */
  rate: number;
  /** A ramp: this instance's share of each step (msg/s, seconds). */
  steps?: Array<{ rate: number; durationS: number }>;
  metricsPort: number;
}

export interface IngestPlan {
  runId: string;
  experiment: string;
  broker: 'kafka' | 'redpanda';
  driver: 'native' | 'perf-test';
  bootstrap: string[];
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  load: number;
  messageSize: number;
  acks: '0' | '1' | 'all';
  keys: 'none' | 'random' | 'sequential';
  lingerMs: number;
  batchBytes: number;
  warmupS: number;
  durationS: number;
  /** When the plan was made, epoch ms (the shared start is sent to the generators once all are ready). */
  startAt: number;
  deleteTopic: boolean;
  generators: GeneratorPlan[];
  /**
   * Prometheus scrapes the generators during the run: `targets` (file_sd format) go into the
   * generators' job file on Prometheus' host (`host`; null when none is deployed) at the start of
   * the run, and are withdrawn at its end.
   */
  scrape: { host: string | null; job: string; targets: Array<{ targets: string[]; labels: Record<string, string> }> };
  /** Bounds the generators and the controller apply. */
  timeouts: { requestMs: number; stallMs: number; connectMs: number; finishS: number; startMs: number };
}

/** The topic defaults of the deployed broker (its section's replication factor and min ISR). */
export interface TopicDefaults {
  replicationFactor: number;
  minInsyncReplicas: number;
}

const hostPort = (address: string, port: number): string => `${address.includes(':') ? `[${address}]` : address}:${port}`;

/** Kafka's guidance without a broker section: up to 3 replicas, min ISR 2. */
const fallbackDefaults = (brokers: number): TopicDefaults => ({ replicationFactor: Math.min(3, brokers), minInsyncReplicas: 2 });

/** Checks that need the cluster's shape (not only the experiment file). Throw before anything runs. */
export function validateIngest(
  e: { ingest: IngestConfig },
  workers: Host[],
  brokers: Host[],
  services: readonly string[],
  where: (path: string) => string,
  defaults: TopicDefaults = fallbackDefaults(brokers.length),
): void {
  const p = e.ingest;
  const fail = (path: string, msg: string): never => {
    throw new ConfigError('ingest.invalid', `${where(path)}: ${msg}`, { path });
  };
  if (!services.includes(p.broker))
    fail('ingest.broker', `is ${p.broker} but this experiment deployed ${services.filter((s) => s === 'kafka' || s === 'redpanda').join(', ') || 'no broker'}`);
  if (workers.length === 0) fail('ingest.instances', 'there are no worker hosts to run load generators on');
  if (brokers.length === 0) fail('ingest.broker', 'there are no broker hosts');
  const maxPartitions = MAX_PARTITIONS_PER_BROKER * brokers.length;
  if (p.partitions > maxPartitions)
    fail('ingest.partitions', `is ${p.partitions}, more than allowed on ${brokers.length} broker(s) (at most ${MAX_PARTITIONS_PER_BROKER} per broker: ${maxPartitions})`);
  const rf = p.replication_factor ?? defaults.replicationFactor;
  if (rf > brokers.length) fail('ingest.replication_factor', `is ${rf} but there are only ${brokers.length} broker hosts`);
  if (p.instances > workers.length * 16) fail('ingest.instances', `is ${p.instances}: at most 16 generators per worker host (${workers.length} workers)`);
  const perInstance = Math.min(p.load, ...(p.ramp ?? []).map((x) => x.load)) / p.instances;
  if (perInstance < 1) fail('ingest.load', `gives ${perInstance.toFixed(3)} msg/s per instance (${p.load} over ${p.instances}); at least 1 msg/s each`);
  if (p.batch_size > 0 && p.batch_size < p.message_size && p.driver === 'perf-test')
    fail('ingest.batch_size', `(${p.batch_size}) is smaller than ingest.message_size (${p.message_size})`);
}

/** Which generator runs where at which rate, from one shared start time. */
export function planIngest(
  e: { name: string; ingest: IngestConfig },
  hosts: Host[],
  opts: { runId: string; bootstrap: string[]; now?: number; startLeadS?: number; prometheusHost?: string; defaults?: TopicDefaults },
): IngestPlan {
  const p = e.ingest;
  const workers = hostsInRole({ hosts }, 'worker');
  const brokers = hostsInRole({ hosts }, 'broker');
  const perHost = new Map<string, number>();
  const generators: GeneratorPlan[] = [];
  // Spread the total load evenly; the remainder of an uneven split goes to the first instances.
  const base = Math.floor((p.load / p.instances) * 1000) / 1000;
  let remainder = Math.round((p.load - base * p.instances) * 1000) / 1000;
  for (let i = 0; i < p.instances; i++) {
    const w = workers[i % workers.length]!;
    const k = perHost.get(w.name) ?? 0;
    perHost.set(w.name, k + 1);
    let rate = base;
    if (remainder > 0) {
      const add = Math.min(remainder, Math.ceil((remainder / (p.instances - i)) * 1000) / 1000);
      rate = Math.round((rate + add) * 1000) / 1000;
      remainder = Math.round((remainder - add) * 1000) / 1000;
    }
    const steps = p.ramp?.map((x) => ({ rate: Math.round((x.load / p.instances) * 1000) / 1000, durationS: x.duration }));
    generators.push({ id: `${w.name}-${k}`, host: w.name, address: w.address, rate: steps ? steps[0]!.rate : rate, ...(steps ? { steps } : {}), metricsPort: LOADGEN_METRICS_PORT + k });
  }
  const d = opts.defaults ?? fallbackDefaults(brokers.length);
  const rf = p.replication_factor ?? d.replicationFactor;
  const minIsr = Math.min(rf, d.minInsyncReplicas);
  const requestMs = 10_000;
  return {
    runId: opts.runId,
    experiment: e.name,
    broker: p.broker,
    driver: p.driver,
    bootstrap: opts.bootstrap,
    topic: p.topic,
    partitions: p.partitions,
    replicationFactor: rf,
    minInsyncReplicas: minIsr,
    // A ramp: the mean target over its window (its messages due ÷ seconds).
    load: p.ramp ? p.ramp.reduce((a, x) => a + x.load * x.duration, 0) / p.ramp.reduce((a, x) => a + x.duration, 0) : p.load,
    messageSize: p.message_size,
    acks: p.acks,
    keys: p.keys,
    lingerMs: p.linger_ms,
    batchBytes: p.batch_size,
    warmupS: p.warmup,
    durationS: p.ramp ? p.ramp.reduce((a, x) => a + x.duration, 0) : p.duration,
    startAt: Math.ceil(opts.now ?? Date.now()),
    deleteTopic: p.delete_topic,
    generators,
    scrape: {
      host: opts.prometheusHost ?? null,
      job: LOADGEN_SCRAPE_JOB,
      targets: generators.map((g) => ({ targets: [hostPort(g.address, g.metricsPort)], labels: { run_id: opts.runId, host: g.host, generator: g.id } })),
    },
    timeouts: { requestMs, stallMs: 20_000, connectMs: 15_000, finishS: Math.ceil((2 * requestMs) / 1000) + 15, startMs: (opts.startLeadS ?? DEFAULT_START_LEAD_S) * 1000 },
  };
}

/** When the last generator must be done, epoch seconds (the controller's bound on waiting). */
export const deadlineS = (p: IngestPlan): number => Math.ceil(p.startAt / 1000 + p.timeouts.startMs / 1000 + p.warmupS + p.durationS + p.timeouts.finishS);

export interface GeneratorFiles {
  /** The run folder on the generator's host (plan.json, summary, log). */
  dir: string;
  summary: string;
}

/**
 * The generators' hand-off (`plan.json`, validated on their side by src/loadgen/plan.ts): the
 * shared settings once, one entry per generator with its rate, control address and summary file.
 * No fixed start: each waits for the controller's `POST /start?at=` carrying `token`.
 */
export function loadgenPlan(p: IngestPlan, o: { token: string; files: (g: GeneratorPlan) => GeneratorFiles; kafkaLibs?: string }): LoadgenPlanInput {
  return {
    schema: LOADGEN_PLAN_SCHEMA,
    runId: p.runId,
    shared: {
      bootstrap: p.bootstrap,
      topic: p.topic,
      messageSize: p.messageSize,
      warmupS: p.warmupS,
      durationS: p.durationS,
      acks: p.acks,
      keys: p.keys,
      lingerMs: p.lingerMs,
      batchBytes: p.batchBytes,
      timeouts: { requestMs: p.timeouts.requestMs, stallMs: p.timeouts.stallMs, connectMs: p.timeouts.connectMs, startMs: p.timeouts.startMs },
      driver: p.driver === 'native' ? { name: 'native' } : { name: 'perf-test', kafkaLibs: o.kafkaLibs ?? '' },
      control: { token: o.token },
    },
    generators: p.generators.map((g) => ({ id: g.id, host: g.host, rate: g.rate, ...(g.steps ? { steps: g.steps } : {}), control: { address: g.address, port: g.metricsPort }, summary: o.files(g).summary })),
  };
}

let env: nunjucks.Environment | undefined;

/** Render templates/ingest.yaml.njk: the run's manifest, for the record (the generators read plan.json). */
export function renderManifest(plan: IngestPlan, extra: Record<string, unknown> = {}): string {
  env ??= new nunjucks.Environment(new nunjucks.FileSystemLoader(assetPath('templates')), { autoescape: false, throwOnUndefined: true, trimBlocks: true, lstripBlocks: true });
  env.addFilter('json', (v: unknown) => JSON.stringify(v));
  return env.render('ingest.yaml.njk', { plan, deadline: deadlineS(plan), ...extra });
}
