/**
 * A run's topic through Kafka's admin protocol, from the controller (@platformatic/kafka's Admin):
 * one process already running, no JVM started per call. The role's kafka-topic.sh (two to three
 * JVM starts of TopicCommand per create or delete, 1–3 s each) stays as the fallback when the
 * controller cannot reach the brokers. Same contract as that script: the first word says what
 * happened (created | exists | deleted | absent); an existing topic with the same partitions,
 * replication factor and min ISR is reused; with other settings it is an error; a creation is
 * retried while an earlier deletion of the same name completes.
 */
import type { TopicSpec } from './access.js';

export type TopicState = 'present' | 'absent';

/** The brokers could not be reached at all (no Kafka answer): the caller may try another way. */
export class KafkaUnreachable extends Error {}

/** A Kafka answer refusing what was asked (a topic with other settings, a bad partition count, ...). */
export class KafkaTopicError extends Error {}

interface AdminLike {
  listTopics(o?: { includeInternals?: boolean }): Promise<string[]>;
  metadata(o: { topics: string[]; forceUpdate?: boolean }): Promise<{ brokers: Map<number, { host: string; port: number }>; topics: Map<string, { partitionsCount: number; partitions: Array<{ replicas: number[] }> }> }>;
  createTopics(o: { topics: string[]; partitions: number; replicas: number; configs: Array<{ name: string; value: string }> }): Promise<unknown>;
  deleteTopics(o: { topics: string[] }): Promise<void>;
  describeConfigs(o: { resources: Array<{ resourceType: number; resourceName: string; configurationKeys?: string[] }> }): Promise<Array<{ configs: Array<{ name: string; value: string | null }> }>>;
  close(): Promise<void>;
}

const TOPIC_RESOURCE = 2; // ConfigResourceTypes.TOPIC

/** Text of an error with its nested causes and aggregated errors (Kafka codes are in there). */
function allText(e: unknown, depth = 0): string {
  if (!(e instanceof Error) || depth > 4) return String(e);
  const parts = [e.message, (e as { code?: unknown }).code, (e as { apiCode?: unknown }).apiCode].filter((x) => x !== undefined).map(String);
  const nested = [...((e as { errors?: unknown[] }).errors ?? []), ...((e as { cause?: unknown }).cause ? [(e as { cause?: unknown }).cause] : [])];
  return [...parts, ...nested.map((x) => allText(x, depth + 1))].join(' | ');
}

const isNetwork = (e: unknown): boolean => /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|NetworkError|Connection|timed out|TimeoutError/i.test(allText(e));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function openAdmin(bootstrap: string[], timeoutMs: number): Promise<AdminLike> {
  const { Admin } = await import('@platformatic/kafka');
  return new Admin({ clientId: 'greenrace-topic', bootstrapBrokers: bootstrap, timeout: Math.min(timeoutMs, 15_000), retries: 2 }) as unknown as AdminLike;
}

/** The settings of an existing topic, as kafka-topic.sh prints them. */
async function describe(a: AdminLike, name: string): Promise<{ partitions: number; replication: number; minIsr: string | null; line: string }> {
  const md = await a.metadata({ topics: [name], forceUpdate: true });
  const t = md.topics.get(name);
  if (!t) throw new KafkaTopicError(`topic ${name}: no metadata`);
  const replication = t.partitions[0]?.replicas.length ?? 0;
  const cfg = await a.describeConfigs({ resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configurationKeys: ['min.insync.replicas'] }] });
  const minIsr = cfg[0]?.configs.find((c) => c.name === 'min.insync.replicas')?.value ?? null;
  return { partitions: t.partitionsCount, replication, minIsr, line: `Topic: ${name}\tPartitionCount: ${t.partitionsCount}\tReplicationFactor: ${replication}\tConfigs: min.insync.replicas=${minIsr ?? '?'}` };
}

async function create(a: AdminLike, t: TopicSpec, deadline: number, signal?: AbortSignal): Promise<string> {
  for (;;) {
    if (signal?.aborted) throw new KafkaTopicError(`creating topic ${t.name}: interrupted`);
    const names = await a.listTopics();
    if (names.includes(t.name)) {
      const d = await describe(a, t.name);
      if (d.partitions === t.partitions && d.replication === t.replicationFactor && d.minIsr === String(t.minInsyncReplicas)) return `exists: ${d.line}`;
      // A topic still being deleted lists its old settings for a moment: wait for it to go.
      if (Date.now() < deadline && d.partitions === 0) {
        await sleep(500);
        continue;
      }
      throw new KafkaTopicError(
        `topic ${t.name} exists with other settings (wanted partitions ${t.partitions}, replication factor ${t.replicationFactor}, min.insync.replicas=${t.minInsyncReplicas}): ${d.line}`,
      );
    }
    try {
      await a.createTopics({ topics: [t.name], partitions: t.partitions, replicas: t.replicationFactor, configs: [{ name: 'min.insync.replicas', value: String(t.minInsyncReplicas) }] });
      return `created: topic ${t.name} (${t.partitions} partitions, replication factor ${t.replicationFactor}, min.insync.replicas=${t.minInsyncReplicas})`;
    } catch (e) {
      const text = allText(e);
      // An earlier deletion of the same name is still completing (or a creation raced ours): try again.
      if (/TOPIC_ALREADY_EXISTS|already exists|marked for deletion|being deleted/i.test(text) && Date.now() < deadline) {
        await sleep(500);
        continue;
      }
      if (isNetwork(e)) throw e;
      throw new KafkaTopicError(`could not create topic ${t.name}: ${text}`);
    }
  }
}

async function remove(a: AdminLike, t: TopicSpec, deadline: number, timeoutS: number): Promise<string> {
  if (!(await a.listTopics()).includes(t.name)) return 'absent';
  try {
    await a.deleteTopics({ topics: [t.name] });
  } catch (e) {
    if (/UNKNOWN_TOPIC_OR_PARTITION/.test(allText(e))) return 'absent';
    if (isNetwork(e)) throw e;
    throw new KafkaTopicError(`could not delete topic ${t.name}: ${allText(e)}`);
  }
  while ((await a.listTopics()).includes(t.name)) {
    if (Date.now() >= deadline) throw new KafkaTopicError(`topic ${t.name} still listed ${timeoutS} s after its deletion`);
    await sleep(200);
  }
  return 'deleted';
}

/**
 * Create (`present`) or delete (`absent`) a topic through the brokers at `bootstrap`. Throws
 * KafkaUnreachable when no broker answered (nothing was done), KafkaTopicError when Kafka refused.
 */
export async function kafkaTopic(bootstrap: string[], state: TopicState, t: TopicSpec, o: { timeoutS?: number; signal?: AbortSignal } = {}): Promise<string> {
  const timeoutS = o.timeoutS ?? 120;
  const deadline = Date.now() + timeoutS * 1000;
  let a: AdminLike;
  try {
    a = await openAdmin(bootstrap, timeoutS * 1000);
  } catch (e) {
    throw new KafkaUnreachable(`Kafka's admin client could not start: ${allText(e)}`);
  }
  let answered = false;
  try {
    await a.listTopics();
    answered = true;
    return state === 'present' ? await create(a, t, deadline, o.signal) : await remove(a, t, deadline, timeoutS);
  } catch (e) {
    if (e instanceof KafkaTopicError) throw e;
    if (!answered) throw new KafkaUnreachable(`no broker of ${bootstrap.join(',')} answered: ${allText(e)}`);
    throw new KafkaTopicError(`topic ${t.name}: ${allText(e)}`);
  } finally {
    await a.close().catch(() => undefined);
  }
}

/**
 * The brokers the cluster itself lists in its metadata (id → host:port), asked of the brokers at
 * `bootstrap`: what is really up, not what the inventory says. Throws KafkaUnreachable.
 */
export async function kafkaBrokers(bootstrap: string[], o: { timeoutS?: number } = {}): Promise<Array<{ id: number; address: string }>> {
  const timeoutS = o.timeoutS ?? 60;
  let a: AdminLike;
  try {
    a = await openAdmin(bootstrap, timeoutS * 1000);
  } catch (e) {
    throw new KafkaUnreachable(`Kafka's admin client could not start: ${allText(e)}`);
  }
  try {
    const md = await a.metadata({ topics: [], forceUpdate: true });
    return [...md.brokers.entries()].map(([id, b]) => ({ id, address: `${b.host}:${b.port}` })).sort((x, y) => x.id - y.id);
  } catch (e) {
    throw new KafkaUnreachable(`no broker of ${bootstrap.join(',')} answered: ${allText(e)}`);
  } finally {
    await a.close().catch(() => undefined);
  }
}
