/**
 * The kafka role for real: 3 namespace hosts (kfk1..3 on 10.82.0.0/24, own sshd each), ansible-playbook
 * over SSH deploys a 3-node KRaft cluster from the Maven jars, creates a topic (6 partitions, RF 3, min
 * ISR 2), Kafka's own perf tools produce and consume through it, the JMX exporter serves kafka_server_*
 * metrics, a second deploy changes nothing, and destroy leaves no broker process and no data.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentSchema } from '../../src/experiment/schema.js';
import { requireRoot } from '../support/cluster.js';

const ROOT = resolve(import.meta.dirname, '../..');
const HOSTS = resolve(ROOT, 'test/fixtures/brokers/kfk-hosts.sh');
const PLAYBOOK = resolve(ROOT, 'test/fixtures/brokers/kafka-cluster.yml');
const ST = join(tmpdir(), 'greenrace-test', 'kafka-cluster');
const IPS = ['10.82.0.11', '10.82.0.12', '10.82.0.13'];
const BOOTSTRAP = IPS.map((ip) => `${ip}:9092`).join(',');
let libs = '';

const dataDir = (i: number) => join(ST, 'hosts', `kfk${i}`, 'data');

async function playbook(extra: Record<string, unknown>): Promise<{ out: string; recap: Map<string, Record<string, number>> }> {
  const vars = join(ST, `vars-${Date.now()}.json`);
  const exp = experimentSchema.parse({
    name: 'kfktest',
    platform: { kind: 'local' },
    roles: { broker: 3 },
    services: ['kafka'],
    kafka: { heap: '384m', replication_factor: 3, min_insync_replicas: 2 },
  });
  writeFileSync(vars, JSON.stringify({ gr_config: exp, gr_experiment: 'kfktest', kafka_install_root: join(ST, 'opt'), ...extra }));
  const r = await execa('ansible-playbook', ['-i', join(ST, 'inventory.ini'), '-e', `@${vars}`, PLAYBOOK], {
    env: { ANSIBLE_CONFIG: join(ST, 'ansible.cfg'), ANSIBLE_ROLES_PATH: resolve(ROOT, 'ansible/roles'), ANSIBLE_NOCOLOR: '1' },
    reject: false,
    all: true,
  });
  if (r.exitCode !== 0) throw new Error(`ansible-playbook failed (${r.exitCode}):\n${(r.all ?? '').split('\n').slice(-40).join('\n')}`);
  const recap = new Map<string, Record<string, number>>();
  for (const m of (r.stdout ?? '').matchAll(/^(kfk\d)\s+:\s+(.*)$/gm)) {
    const counts: Record<string, number> = {};
    for (const kv of m[2]!.matchAll(/(\w+)=(\d+)/g)) counts[kv[1]!] = Number(kv[2]);
    recap.set(m[1]!, counts);
  }
  return { out: r.stdout ?? '', recap };
}

async function tool(main: string, args: string[], timeout = 90_000): Promise<string> {
  const r = await execa(
    'java',
    ['-Xmx256m', `-Dlog4j2.configurationFile=${resolve(ROOT, 'setup/kafka/config/tools-log4j2.xml')}`, '-cp', `${libs}/*`, main, ...args],
    { env: { LC_ALL: 'C' }, timeout, all: true },
  );
  return r.stdout;
}

async function brokerPids(): Promise<string[]> {
  const r = await execa('pgrep', ['-f', `kafka.logs.dir=${ST}/hosts/kfk`], { reject: false });
  return r.stdout.split('\n').filter(Boolean);
}

beforeAll(async () => {
  requireRoot();
  const inst = await execa(resolve(ROOT, 'setup/install-kafka.sh'));
  libs = inst.stdout.trim().split('\n').at(-1)!;
  rmSync(ST, { recursive: true, force: true });
  mkdirSync(ST, { recursive: true });
  await execa(HOSTS, ['up', '3', ST]);
}, 120_000);

afterAll(async () => {
  if (existsSync(join(ST, 'inventory.ini')) && (await brokerPids()).length > 0) {
    await playbook({ kafka_action: 'destroy' }).catch(() => undefined);
  }
  await execa(HOSTS, ['down', ST], { reject: false });
  rmSync(ST, { recursive: true, force: true });
}, 180_000);

describe('kafka role on 3 namespace hosts', () => {
  const topic = { kafka_topic_name: 'bench', kafka_topic_partitions: 6, kafka_topic_replication_factor: 3, kafka_topic_min_insync_replicas: 2 };

  it('deploys a 3-node KRaft cluster and creates the topic (6 partitions, RF 3, min ISR 2)', async () => {
    const t0 = Date.now();
    const { out } = await playbook({ kafka_action: 'deploy', ...topic });
    console.log(`kafka deploy + topic: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await brokerPids()).toHaveLength(3);
    for (let i = 1; i <= 3; i++) {
      const meta = readFileSync(join(dataDir(i), 'kafka/data/meta.properties'), 'utf8');
      expect(meta).toContain(`node.id=${i}`);
      expect(readFileSync(join(dataDir(i), 'kafka/logs/server.log'), 'utf8')).toContain('Kafka Server started');
    }
    expect(out).toMatch(/kfk1\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
    const quorum = await tool('org.apache.kafka.tools.MetadataQuorumCommand', ['--bootstrap-server', BOOTSTRAP, 'describe', '--status']);
    expect(quorum).toMatch(/^LeaderId:\s+[123]$/m);
    expect(quorum).toMatch(/CurrentVoters:\s+(\[1,\s*2,\s*3\]|\[.*"id":\s*1\b.*"id":\s*2\b.*"id":\s*3\b.*\])/);
    const desc = await tool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', BOOTSTRAP, '--describe', '--topic', 'bench']);
    expect(desc).toMatch(/PartitionCount: 6\s+ReplicationFactor: 3\s+Configs: .*min\.insync\.replicas=2/);
  }, 900_000); // ~1-2 min on an idle 2-core machine; far longer when it is shared

  it('changes nothing on a second deploy with the same topic', async () => {
    const { recap } = await playbook({ kafka_action: 'deploy', ...topic });
    expect([...recap.keys()].sort()).toEqual(['kfk1', 'kfk2', 'kfk3']);
    for (const [host, c] of recap) expect({ host, changed: c.changed, failed: c.failed }).toEqual({ host, changed: 0, failed: 0 });
  }, 900_000);

  it("produces and consumes 5000 records of 1 KiB with Kafka's perf tools (acks=all)", async () => {
    const prod = await tool('org.apache.kafka.tools.ProducerPerformance', [
      '--topic', 'bench', '--num-records', '5000', '--record-size', '1024', '--throughput', '2500',
      '--bootstrap-server', BOOTSTRAP, '--command-property', 'acks=all',
    ]);
    expect(prod).toMatch(/^5000 records sent, [\d.]+ records\/sec .* ms 99\.9th\.$/m);
    const cons = await tool('org.apache.kafka.tools.ConsumerPerformance', [
      '--bootstrap-server', BOOTSTRAP, '--topic', 'bench', '--num-records', '5000', '--timeout', '60000',
    ]);
    const summary = cons.trim().split('\n').at(-1)!.split(', ');
    expect(Number(summary[4])).toBe(5000);
  });

  it('serves broker metrics from the JMX exporter on :7071/metrics', async () => {
    let messagesIn = 0;
    for (const ip of IPS) {
      const text = await (await fetch(`http://${ip}:7071/metrics`)).text();
      expect(text).toMatch(/^kafka_server_replicamanager_underreplicatedpartitions 0\.0$/m);
      expect(text).toMatch(/^kafka_network_requestmetrics_totaltimems\{quantile="0\.99",request="Produce"\} /m);
      expect(text).toMatch(/^kafka_server_brokertopicmetrics_bytesoutpersec_total /m);
      const m = text.match(/^kafka_server_brokertopicmetrics_messagesinpersec_total\{topic="bench"\} ([\d.eE+]+)$/m);
      messagesIn += m ? Number(m[1]) : 0;
    }
    // Each partition's leader counts the records it received: together, every record once.
    expect(messagesIn).toBe(5000);
  });

  it('deletes the topic and creates it again at once (retried while the deletion completes)', async () => {
    const del = await playbook({ ...topic, kafka_topic_state: 'absent' });
    expect(del.recap.get('kfk1')?.changed).toBe(1);
    const again = await playbook({ ...topic, kafka_topic_state: 'absent' });
    expect(again.recap.get('kfk1')?.changed).toBe(0);
    const re = await playbook({ ...topic, kafka_topic_partitions: 3 });
    expect(re.recap.get('kfk1')?.changed).toBe(1);
    const desc = await tool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', BOOTSTRAP, '--describe', '--topic', 'bench']);
    expect(desc).toMatch(/PartitionCount: 3\b/);
  });

  it('destroys: no broker process and no data directory left', async () => {
    await playbook({ kafka_action: 'destroy' });
    expect(await brokerPids()).toEqual([]);
    for (let i = 1; i <= 3; i++) expect(existsSync(join(dataDir(i), 'kafka'))).toBe(false);
  });
});
