/**
 * The broker roles' configuration, rendered by Ansible's own template engine (ansible.template.Templar,
 * test/fixtures/brokers/render.py: role defaults, role vars, inventory, extra-vars) into a scratch
 * directory: what each broker host gets from the inventory and the experiment's kafka/redpanda sections.
 * (One Python process: ansible-playbook with local hosts took minutes on the shared 2-core machine.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentSchema } from '../../../src/experiment/schema.js';

const ROOT = resolve(import.meta.dirname, '../../..');
let dir: string;

function inventory(n: number): string {
  const hosts = [];
  for (let i = 1; i <= n; i++) {
    hosts.push({ name: `b${i}`, vars: { ansible_host: `10.99.0.${10 + i}`, gr_data_dir: `${dir}/b${i}`, gr_shared_fs: true } });
  }
  const p = join(dir, `hosts-${n}.json`);
  writeFileSync(p, JSON.stringify(hosts));
  return p;
}

async function render(role: 'kafka' | 'redpanda', brokers: number, config: Record<string, unknown>): Promise<void> {
  const exp = experimentSchema.parse({ name: 'render', platform: { kind: 'local' }, roles: { broker: brokers }, ...config });
  const vars = join(dir, `vars-${role}.json`);
  writeFileSync(vars, JSON.stringify({ gr_config: exp, gr_experiment: 'render' }));
  await execa('/usr/bin/python3', [join(ROOT, 'test/fixtures/brokers/render.py'), role, inventory(brokers), vars, join(dir, 'out')]);
}

function properties(file: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const i = t.indexOf('=');
    m.set(t.slice(0, i), t.slice(i + 1));
  }
  return m;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gr-broker-render-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kafka role: server.properties and JMX exporter rules for 5 brokers, 3 controllers', () => {
  beforeAll(async () => {
    await render('kafka', 5, {
      kafka: {
        replication_factor: 3, min_insync_replicas: 2, partitions: 12, num_io_threads: 4, num_network_threads: 2, controllers: 3,
        properties: { 'log.segment.bytes': 268435456, 'log.segment.delete.delay.ms': 1000, 'log.preallocate': true },
      },
    });
  }, 60_000);

  it('gives every host its node id, the same static quorum of the first 3 hosts, and its own log dir', () => {
    const voters = '1@10.99.0.11:9093,2@10.99.0.12:9093,3@10.99.0.13:9093';
    for (let i = 1; i <= 5; i++) {
      const p = properties(join(dir, `out/b${i}/server.properties`));
      expect(p.get('node.id')).toBe(String(i));
      expect(p.get('controller.quorum.voters')).toBe(voters);
      expect(p.get('log.dirs')).toBe(`${dir}/b${i}/kafka/data`);
      expect(p.get('advertised.listeners')).toContain(`PLAINTEXT://10.99.0.${10 + i}:9092`);
      if (i <= 3) {
        expect(p.get('process.roles')).toBe('broker,controller');
        expect(p.get('listeners')).toBe('PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093');
      } else {
        expect(p.get('process.roles')).toBe('broker');
        expect(p.get('listeners')).toBe('PLAINTEXT://0.0.0.0:9092');
      }
    }
  });

  it('takes partitions, replication, min ISR and thread counts from the experiment', () => {
    const p = properties(join(dir, 'out/b1/server.properties'));
    expect(p.get('num.partitions')).toBe('12');
    expect(p.get('default.replication.factor')).toBe('3');
    expect(p.get('min.insync.replicas')).toBe('2');
    expect(p.get('offsets.topic.replication.factor')).toBe('3');
    expect(p.get('transaction.state.log.min.isr')).toBe('2');
    expect(p.get('num.io.threads')).toBe('4');
    expect(p.get('num.network.threads')).toBe('2');
    expect(p.get('auto.create.topics.enable')).toBe('false');
  });

  it('adds kafka.properties after its own lines, so a fixed one such as log.segment.bytes is overridden', () => {
    const text = readFileSync(join(dir, 'out/b2/server.properties'), 'utf8');
    const p = properties(join(dir, 'out/b2/server.properties'));
    expect(p.get('log.segment.delete.delay.ms')).toBe('1000');
    expect(p.get('log.preallocate')).toBe('true');
    // Kafka reads the file with java.util.Properties: the last occurrence of a key is the one in force.
    expect(text.lastIndexOf('log.segment.bytes=268435456')).toBeGreaterThan(text.indexOf('log.segment.bytes=1073741824'));
    expect(p.get('log.segment.bytes')).toBe('268435456');
  });

  it('writes JMX exporter rules for bytes in/out, messages in, request latency and under-replicated partitions', () => {
    const cfg = yaml.load(readFileSync(join(dir, 'out/b2/jmx-exporter.yml'), 'utf8')) as {
      lowercaseOutputName: boolean;
      rules: Array<{ pattern: string; name: string; type: string }>;
    };
    expect(cfg.lowercaseOutputName).toBe(true);
    const match = (bean: string) => cfg.rules.find((r) => new RegExp(`^${r.pattern}$`).test(bean));
    expect(match('kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec><>Count')?.type).toBe('COUNTER');
    expect(match('kafka.server<type=BrokerTopicMetrics, name=BytesOutPerSec, topic=bench><>Count')?.name).toBe(
      'kafka_server_brokertopicmetrics_$1_total',
    );
    expect(match('kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count')).toBeDefined();
    expect(match('kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value')?.type).toBe('GAUGE');
    expect(match('kafka.network<type=RequestMetrics, name=TotalTimeMs, request=Produce><>99thPercentile')?.name).toBe(
      'kafka_network_requestmetrics_$1',
    );
    // Request types nobody benchmarks stay out of the scrape (they multiply series by ~90).
    expect(match('kafka.network<type=RequestMetrics, name=TotalTimeMs, request=DescribeAcls><>99thPercentile')).toBeUndefined();
  });
});

describe('kafka role: a single broker', () => {
  it('caps internal topics at the broker count and makes the only host the quorum', async () => {
    await render('kafka', 1, { kafka: { replication_factor: 1, min_insync_replicas: 1 } });
    const p = properties(join(dir, 'out/b1/server.properties'));
    expect(p.get('controller.quorum.voters')).toBe('1@10.99.0.11:9093');
    expect(p.get('offsets.topic.replication.factor')).toBe('1');
    expect(p.get('share.coordinator.state.topic.min.isr')).toBe('1');
  }, 60_000);
});

describe('redpanda role: node config and first-start cluster properties for 3 brokers', () => {
  beforeAll(async () => {
    await render('redpanda', 3, { redpanda: { write_caching: true, smp: 2, memory: '2g' } });
  }, 60_000);

  type Node = {
    redpanda: {
      developer_mode: boolean;
      empty_seed_starts_cluster: boolean;
      data_directory: string;
      seed_servers: Array<{ host: { address: string; port: number } }>;
      rpc_server: { address: string };
      advertised_kafka_api: Array<{ address: string; port: number }>;
      admin: Array<{ port: number }>;
      node_id?: number;
    };
    rpk: { tune_cpu: boolean; overprovisioned: boolean; additional_start_flags?: string[] };
  };
  const node = (i: number) => yaml.load(readFileSync(join(dir, `out/b${i}/redpanda.yaml`), 'utf8')) as Node;

  it('lists the same seeds, in inventory order, on every host, and each host advertises itself', () => {
    for (let i = 1; i <= 3; i++) {
      const n = node(i);
      expect(n.redpanda.seed_servers.map((s) => `${s.host.address}:${s.host.port}`)).toEqual([
        '10.99.0.11:33145',
        '10.99.0.12:33145',
        '10.99.0.13:33145',
      ]);
      expect(n.redpanda.rpc_server.address).toBe(`10.99.0.${10 + i}`);
      expect(n.redpanda.advertised_kafka_api[0]).toEqual({ address: `10.99.0.${10 + i}`, port: 9092, name: 'internal' });
      expect(n.redpanda.admin[0]?.port).toBe(9644);
      expect(n.redpanda.node_id).toBeUndefined();
      expect(n.redpanda.empty_seed_starts_cluster).toBe(false);
      expect(n.redpanda.data_directory).toBe(`${dir}/b${i}/redpanda/data`);
    }
  });

  it('is production mode, never developer mode, with the Seastar flags from the experiment', () => {
    const n = node(2);
    expect(n.redpanda.developer_mode).toBe(false);
    expect(n.rpk.overprovisioned).toBe(false);
    expect(n.rpk.tune_cpu).toBe(true);
    expect(n.rpk.additional_start_flags).toEqual(['--smp=2', '--memory=2g']);
  });

  it('sets write_caching_default from redpanda.write_caching', async () => {
    const b = yaml.load(readFileSync(join(dir, 'out/b1/bootstrap.yaml'), 'utf8'));
    expect(b).toEqual({ write_caching_default: 'true' });
    await render('redpanda', 3, { redpanda: { write_caching: false } });
    expect(yaml.load(readFileSync(join(dir, 'out/b3/bootstrap.yaml'), 'utf8'))).toEqual({ write_caching_default: 'false' });
    expect(node(3).rpk.additional_start_flags).toBeUndefined();
  }, 60_000);
});
