/** The run context's view of the deployed services: brokers (bootstrap servers, topics) and Prometheus' file_sd targets. */
import { RunError } from '../core/errors.js';
import type { WorkHost } from '../core/types.js';
import type { Experiment } from '../experiment/schema.js';
import type { Executor } from '../runtimes/executor.js';
import { fileSdPath, kafkaLibs, topicCommand, type TopicSpec } from '../services/access.js';
import { KafkaUnreachable, kafkaTopic } from '../services/kafka-admin.js';
import { LOADGEN_SCRAPE_JOB, prometheusHost } from '../services/registry.js';
import type { BrokerAccess } from '../workloads/contract.js';

interface ServiceView {
  experiment: Experiment;
  hosts: WorkHost[];
  endpoints: Record<string, string>;
  deployed: readonly string[];
  executor: Executor;
}

export function brokerAccess(c: ServiceView, kind: 'kafka' | 'redpanda'): BrokerAccess | undefined {
  if (!c.deployed.includes(kind)) return undefined;
  const bootstrap = (c.endpoints[`${kind}_bootstrap_servers`] ?? '').split(',').filter(Boolean);
  const brokerHosts = c.hosts.filter((h) => h.roles.includes('broker'));
  const first = brokerHosts[0];
  if (!first || bootstrap.length === 0) return undefined;
  const e = c.experiment;
  const brokers = brokerHosts.length;
  const failed = (state: 'present' | 'absent', t: TopicSpec, details: string[]): RunError =>
    new RunError(state === 'present' ? 'ingest.topic_create' : 'ingest.topic_delete', `${state === 'present' ? 'creating' : 'deleting'} topic ${t.name} on ${first.name} failed`, { details });
  // Kafka: the admin protocol from here (no JVM per call); the role's script on the first broker host
  // when this machine cannot reach the brokers.
  const topic = async (state: 'present' | 'absent', t: TopicSpec, signal?: AbortSignal): Promise<string> => {
    if (kind === 'kafka') {
      try {
        return await kafkaTopic(bootstrap, state, t, { timeoutS: 120, ...(signal ? { signal } : {}) });
      } catch (e) {
        if (!(e instanceof KafkaUnreachable)) throw failed(state, t, [e instanceof Error ? e.message : String(e)]);
      }
    }
    return topicOverSsh(state, t, signal);
  };
  const topicOverSsh = async (state: 'present' | 'absent', t: TopicSpec, signal?: AbortSignal): Promise<string> => {
    const r = await c.executor.run(first, topicCommand(kind, state, t, { first, bootstrap, kafka: e.kafka }), { timeoutMs: 300_000, ...(signal ? { signal } : {}) });
    if (r.code !== 0) {
      throw failed(state, t, (r.stderr || r.stdout).trim().split('\n').slice(-15));
    }
    return r.stdout.trim();
  };
  return {
    kind,
    bootstrap,
    version: kind === 'kafka' ? `kafka ${e.kafka.version}` : `redpanda ${e.redpanda.version}`,
    defaults:
      kind === 'kafka'
        ? { replicationFactor: e.kafka.replication_factor, minInsyncReplicas: e.kafka.min_insync_replicas }
        : { replicationFactor: Math.min(3, brokers), minInsyncReplicas: e.kafka.min_insync_replicas },
    ...(kind === 'kafka' ? { clientLibs: kafkaLibs(e.kafka) } : {}),
    settings: kind === 'redpanda' ? { redpanda_write_caching: e.redpanda.write_caching } : {},
    createTopic: (t, signal) => topic('present', t, signal),
    deleteTopic: (t, signal) => topic('absent', t, signal),
  };
}

/**
 * Write (or, with no groups, empty) the file_sd targets of a run-process job on Prometheus' host.
 * On Kubernetes nothing is written: Prometheus discovers the generators' pods by their annotations
 * (services/k8s.ts prometheusConfig); the host named is Prometheus'.
 */
export async function publishScrapeTargets(c: ServiceView, kind: 'loadgen', groups: Array<{ targets: string[]; labels: Record<string, string> }>): Promise<string | null> {
  const prom = prometheusHost(c.deployed, c.hosts);
  const host = prom && c.hosts.find((h) => h.name === prom.name);
  if (!host) return null;
  if (c.executor.runtime === 'k8s') return host.name;
  const job = kind === 'loadgen' ? LOADGEN_SCRAPE_JOB : kind;
  await c.executor.put(host, fileSdPath(host, job), JSON.stringify(groups, null, 2) + '\n');
  return host.name;
}
