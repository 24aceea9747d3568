/**
 * What a run may ask of the deployed services, as commands for the runtime's executor: a topic
 * created or deleted on the brokers (the kafka role's kafka-topic.sh, Redpanda's rpk), the
 * Prometheus file_sd file of a scrape job, and where Kafka's client jars are. The paths follow the
 * roles' defaults (ansible/roles/<service>/defaults/main.yml).
 */
import { shJoin } from '../core/shell.js';
import type { WorkHost } from '../core/types.js';
import type { KafkaConfig } from './brokers.js';

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** The kafka role's `kafka_install_root` and its per-version folder. */
export const KAFKA_INSTALL_ROOT = '/opt/greenrace';
export const KAFKA_JAVA = '/usr/bin/java';

export function kafkaHome(k: Pick<KafkaConfig, 'version' | 'install'>): string {
  return `${KAFKA_INSTALL_ROOT}/${k.install === 'maven' ? `kafka-${k.version}` : `kafka_2.13-${k.version}`}`;
}

/** Kafka's jars (kafka-tools and its dependencies) on a host where the kafka role installed Kafka. */
export const kafkaLibs = (k: Pick<KafkaConfig, 'version' | 'install'>): string => `${kafkaHome(k)}/libs`;

/**
 * The command creating (`present`) or deleting (`absent`) a topic, run on the first broker host.
 * Kafka: the role's kafka-topic.sh (idempotent; its first word says what happened). Redpanda: rpk.
 */
export function topicCommand(
  broker: 'kafka' | 'redpanda',
  state: 'present' | 'absent',
  t: TopicSpec,
  o: { first: WorkHost; bootstrap: string[]; kafka: Pick<KafkaConfig, 'version' | 'install'> },
): string {
  if (broker === 'redpanda') {
    const x = ['-X', `brokers=${o.bootstrap.join(',')}`];
    if (state === 'absent') return `${shJoin(['rpk', 'topic', 'delete', t.name, ...x])} || true`;
    const create = shJoin(['rpk', 'topic', 'create', t.name, '-p', String(t.partitions), '-r', String(t.replicationFactor), ...x]);
    // An existing topic is fine (as the redpanda role's topic task).
    return `out=$(${create} 2>&1); rc=$?; echo "$out"; [ $rc -eq 0 ] || echo "$out" | grep -q TOPIC_ALREADY_EXISTS`;
  }
  const dir = `${o.first.dataDir.replace(/\/+$/, '')}/kafka`;
  const env = {
    KAFKA_HOME: kafkaHome(o.kafka),
    KAFKA_BOOTSTRAP: o.bootstrap.join(','),
    KAFKA_TOOLS_LOG4J: `${dir}/config/tools-log4j2.xml`,
    JAVA: KAFKA_JAVA,
    TOPIC_TIMEOUT: '120',
  };
  const args = state === 'present' ? ['create', t.name, String(t.partitions), String(t.replicationFactor), `min.insync.replicas=${t.minInsyncReplicas}`] : ['delete', t.name];
  return shJoin(['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), `${dir}/bin/kafka-topic.sh`, ...args]);
}

/** Prometheus' file_sd file of a job on its host (the prometheus role's `prometheus_file_sd_dir`). */
export const fileSdPath = (prometheusHost: WorkHost, job: string): string => `${prometheusHost.dataDir.replace(/\/+$/, '')}/prometheus/file_sd/${job}.json`;
