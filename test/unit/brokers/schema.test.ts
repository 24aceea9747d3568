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
