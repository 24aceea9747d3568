import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { KAFKA_DEFAULT_VERSION, kafkaSchema, redpandaSchema } from '../../../src/services/brokers.js';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('kafka section', () => {
  it('defaults to a small-heap, RF 3, min ISR 2 cluster installed from the Maven jars', () => {
    const k = kafkaSchema.parse(undefined);
    expect(k).toMatchObject({ install: 'maven', heap: '512m', replication_factor: 3, min_insync_replicas: 2, controllers: 3, port: 9092 });
  });

  it('pins the same Kafka version in the schema, setup/kafka/pom.xml and the role defaults', () => {
    const pom = readFileSync(resolve(ROOT, 'setup/kafka/pom.xml'), 'utf8');
    expect(pom).toContain(`<kafka.version>${KAFKA_DEFAULT_VERSION}</kafka.version>`);
    const defaults = yaml.load(readFileSync(resolve(ROOT, 'ansible/roles/kafka/defaults/main.yml'), 'utf8')) as Record<string, string>;
    expect(defaults.kafka_version).toContain(`default('${KAFKA_DEFAULT_VERSION}')`);
  });

  it('rejects versions before 4.x (ZooKeeper-era configs), a tarball given twice and clashing ports', () => {
    expect(kafkaSchema.safeParse({ version: '3.9.0' }).success).toBe(false);
    expect(kafkaSchema.safeParse({ tarball_url: 'https://example.org/k.tgz', tarball_file: '/tmp/k.tgz' }).success).toBe(false);
    expect(kafkaSchema.safeParse({ port: 9093 }).success).toBe(false);
    expect(kafkaSchema.safeParse({ tarball_checksum: 'sha512:abc123', install: 'tarball' }).success).toBe(true);
  });
});

describe('kafka.properties', () => {
  it('takes more server.properties entries as strings, numbers or booleans', () => {
    const k = kafkaSchema.parse({ properties: { 'log.segment.delete.delay.ms': 1000, 'log.preallocate': true, 'compression.type': 'lz4' } });
    expect(k.properties).toEqual({ 'log.segment.delete.delay.ms': 1000, 'log.preallocate': true, 'compression.type': 'lz4' });
    expect(kafkaSchema.parse({}).properties).toEqual({});
  });

  it('refuses an entry with a key of its own, naming that key, and the entries greenrace derives', () => {
    const own = kafkaSchema.safeParse({ properties: { 'num.io.threads': 16 } });
    expect(own.success).toBe(false);
    expect(own.error?.issues[0]?.path).toEqual(['properties', 'num.io.threads']);
    expect(own.error?.issues[0]?.message).toContain('kafka.num_io_threads');
    for (const name of ['log.dirs', 'log.dir', 'min.insync.replicas']) expect(kafkaSchema.safeParse({ properties: { [name]: 'x' } }).success).toBe(false);
    for (const name of ['node.id', 'listeners', 'advertised.listeners', 'process.roles', 'controller.quorum.voters', 'delete.topic.enable']) {
      const r = kafkaSchema.safeParse({ properties: { [name]: 'x' } });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.message).toContain('cannot be overridden');
    }
  });

  it('refuses names that are not property names and values that are not scalars', () => {
    expect(kafkaSchema.safeParse({ properties: { 'Log Segment': 1 } }).success).toBe(false);
    expect(kafkaSchema.safeParse({ properties: { 'log.segment.bytes': [1] } }).success).toBe(false);
  });
});

describe('redpanda section', () => {
  it('refuses developer mode, which bypasses fsync', () => {
    expect(redpandaSchema.safeParse({ mode: 'dev' }).success).toBe(false);
    expect(redpandaSchema.parse({}).mode).toBe('production');
  });

  it('keeps write caching off unless asked and rejects clashing ports', () => {
    expect(redpandaSchema.parse({}).write_caching).toBe(false);
    expect(redpandaSchema.parse({ write_caching: true }).write_caching).toBe(true);
    expect(redpandaSchema.safeParse({ admin_port: 9092 }).success).toBe(false);
  });
});
