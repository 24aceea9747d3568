import { z } from 'zod';
import { count, memSize } from '../config/schema/common.js';

/** Kafka 4.x release; setup/kafka/pom.xml pins the same default for the Maven install path. */
export const KAFKA_DEFAULT_VERSION = '4.3.1';
/** Redpanda release; the role pins redpanda, redpanda-rpk and redpanda-tuner to it. */
export const REDPANDA_DEFAULT_VERSION = '24.3.1';

/** server.properties entries that have a key of their own in the kafka section. */
const KAFKA_PROPERTY_KEYS: Readonly<Record<string, string>> = {
  'num.partitions': 'kafka.partitions',
  'default.replication.factor': 'kafka.replication_factor',
  'min.insync.replicas': 'kafka.min_insync_replicas',
  'num.network.threads': 'kafka.num_network_threads',
  'num.io.threads': 'kafka.num_io_threads',
  'num.replica.fetchers': 'kafka.num_replica_fetchers',
  'log.dirs': 'kafka.log_dirs',
  'log.dir': 'kafka.log_dirs',
};
/** server.properties entries greenrace derives from the cluster (roles, ports, addresses) or relies on. */
const KAFKA_OWNED_PROPERTIES = new Set([
  'process.roles', 'node.id', 'broker.id', 'controller.quorum.voters', 'controller.quorum.bootstrap.servers',
  'listeners', 'advertised.listeners', 'inter.broker.listener.name', 'controller.listener.names',
  'listener.security.protocol.map', 'delete.topic.enable', 'auto.create.topics.enable',
]);

/** Why an extra server.properties entry is refused, or undefined when it may be set. */
function kafkaPropertyOwner(name: string): string | undefined {
  const key = KAFKA_PROPERTY_KEYS[name];
  if (key) return `set ${key} instead (greenrace writes ${name} from it)`;
  if (KAFKA_OWNED_PROPERTIES.has(name))
    return `greenrace sets ${name} itself (from the roles, ports and addresses, or because runs create and delete their topics); it cannot be overridden`;
  return undefined;
}

export const kafkaSchema = z
  .strictObject({
    version: z.string().regex(/^4\.\d+\.\d+$/, 'a Kafka 4.x release such as "4.3.1"').default(KAFKA_DEFAULT_VERSION),
    /**
     * How the broker is installed: `maven` (the jars setup/install-kafka.sh resolves from Maven Central,
     * shipped by Ansible) or `tarball` (the official binary distribution: `tarball_url` or a local `tarball_file`).
     */
    install: z.enum(['maven', 'tarball']).default('maven'),
    /** Defaults to the Apache archive URL of `version` (kafka_2.13-<version>.tgz). */
    tarball_url: z.string().url().optional(),
    /** `sha512:<hex>` (or any checksum get_url accepts) for `tarball_url`. */
    tarball_checksum: z.string().regex(/^(sha1|sha256|sha512|md5):[0-9a-fA-F]+$/, 'like "sha512:<hex>"').optional(),
    /** A tarball already on the controller; copied to the hosts instead of downloading. */
    tarball_file: z.string().optional(),
    heap: memSize.default('512m'),
    /** Broker default for auto-created topics (`num.partitions`); runs create their topic explicitly. */
    partitions: count(1, 10000).default(6),
    replication_factor: count(1, 16).default(3),
    min_insync_replicas: count(1, 16).default(2),
    num_network_threads: count(1, 128).default(3),
    num_io_threads: count(1, 256).default(8),
    num_replica_fetchers: count(1, 64).default(1),
    /** How many broker hosts (the first ones) are also KRaft controllers; capped at the broker count. */
    controllers: count(1, 9).default(3),
    /** Data directories (comma-separated); default `<gr_data_dir>/kafka/data`, per host. */
    log_dirs: z.string().optional(),
    port: count(1024, 65535).default(9092),
    controller_port: count(1024, 65535).default(9093),
    jmx_exporter_port: count(1024, 65535).default(7071),
    /**
     * More `server.properties` entries, e.g. `log.segment.bytes: 268435456` or `log.segment.delete.delay.ms: 1000`;
     * written after greenrace's own lines, so they win over its fixed ones (log.segment.bytes, retention…).
     * Entries greenrace derives from the cluster, or that have a key of their own here, are refused.
     */
    properties: z
      .record(z.string().regex(/^[a-z][a-z0-9]*([._-][a-z0-9]+)*$/, 'a Kafka property name such as "log.segment.bytes"'), z.union([z.string(), z.number(), z.boolean()]))
      .default({}),
  })
  .superRefine((k, ctx) => {
    for (const name of Object.keys(k.properties)) {
      const why = kafkaPropertyOwner(name);
      if (why) ctx.addIssue({ code: 'custom', path: ['properties', name], message: why });
    }
  })
  .refine((k) => !(k.tarball_url && k.tarball_file), {
    message: 'set tarball_url or tarball_file, not both',
    path: ['tarball_file'],
  })
  .refine((k) => new Set([k.port, k.controller_port, k.jmx_exporter_port]).size === 3, {
    message: 'port, controller_port and jmx_exporter_port must differ',
    path: ['port'],
  })
  .prefault({});

export const redpandaSchema = z
  .strictObject({
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'a Redpanda release such as "24.3.1"').default(REDPANDA_DEFAULT_VERSION),
    /** The Debian repository line's URL and suite (Redpanda's own repository by default). */
    apt_repo: z.string().url().default('https://linux.pkg.redpanda.com/apt'),
    apt_key_url: z.string().url().default('https://linux.pkg.redpanda.com/redpanda-deb-signing-public.gpg'),
    /** Cluster property `write_caching_default`: acks=all acknowledged before fsync. Recorded with every run. */
    write_caching: z.boolean().default(false),
    /** Never `dev` for benchmarks: dev mode bypasses fsync. */
    mode: z.enum(['production']).default('production'),
    /** Run `rpk redpanda tune all` (production tuning) before starting. */
    tune: z.boolean().default(true),
    port: count(1024, 65535).default(9092),
    admin_port: count(1024, 65535).default(9644),
    rpc_port: count(1024, 65535).default(33145),
    /** Seastar cores (`--smp`); default: all. */
    smp: count(1, 256).optional(),
    /** Seastar memory (`--memory`), e.g. "2g"; default: what Redpanda reserves itself. */
    memory: memSize.optional(),
    /** Data directory; default /var/lib/redpanda/data. */
    data_dir: z.string().optional(),
  })
  .refine((r) => new Set([r.port, r.admin_port, r.rpc_port]).size === 3, {
    message: 'port, admin_port and rpc_port must differ',
    path: ['port'],
  })
  .prefault({});

export type KafkaConfig = z.output<typeof kafkaSchema>;
export type RedpandaConfig = z.output<typeof redpandaSchema>;

/** The brokers' sections, checked against the roles (the services registry's cross-check). */
export function brokersCrossCheck(
  e: { roles: { broker: number }; services: readonly string[]; kafka: KafkaConfig },
  fail: (path: string, msg: string) => never,
): void {
  if (!e.services.includes('kafka')) return;
  if (e.kafka.replication_factor > e.roles.broker) fail('kafka.replication_factor', `is ${e.kafka.replication_factor} but there are only ${e.roles.broker} broker hosts`);
  if (e.kafka.min_insync_replicas > e.kafka.replication_factor)
    fail('kafka.min_insync_replicas', `is ${e.kafka.min_insync_replicas}, above kafka.replication_factor (${e.kafka.replication_factor})`);
}
