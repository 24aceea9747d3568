/**
 * One real Kafka broker (KRaft, combined broker+controller, the Maven jars of setup/install-kafka.sh)
 * in its own network namespace, reached from the root namespace over a veth pair: the generator
 * tests run against it. `limitBandwidth()` puts a token bucket on the link towards the broker, so a
 * rate above what it sustains is reached without burning the machine's two cores. Needs root.
 *
 *   npx tsx test/support/kafka-broker.ts up|down   (by hand; state under $TMPDIR/greenrace-test/lgk)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';

const ROOT = resolve(import.meta.dirname, '../..');
export const NS = 'lgk1';
const HOST_IF = 'lgk1-h';
/** The root namespace's address on the link (the generators' "experiment address"). */
export const HOST_ADDR = '10.83.70.1';
export const BROKER_ADDR = '10.83.70.2';
export const BOOTSTRAP = `${BROKER_ADDR}:9092`;
const DIR = join(tmpdir(), 'greenrace-test', 'lgk');

export interface Broker {
  bootstrap: string;
  libs: string;
  dir: string;
  /** Run a Kafka tool class (TopicCommand, GetOffsetShell, ...) from the root namespace; stdout. */
  tool(main: string, args: string[]): Promise<string>;
  createTopic(name: string, partitions: number, config?: Record<string, string>): Promise<void>;
  /** Sum of the topic's end offsets: messages the broker holds. */
  endOffsets(topic: string): Promise<number>;
  /** Limit what flows towards the broker (e.g. '4mbit'); undefined removes the limit. */
  limitBandwidth(rate?: string): Promise<void>;
  down(): Promise<void>;
}

const sh = (cmd: string, args: string[]) => execa(cmd, args, { reject: false });

export async function brokerDown(): Promise<void> {
  const pidFile = join(DIR, 'broker.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  await sh('ip', ['link', 'del', HOST_IF]);
  await sh('ip', ['netns', 'del', NS]);
  rmSync(DIR, { recursive: true, force: true });
}

export async function brokerUp(opts: { heap?: string } = {}): Promise<Broker> {
  if (process.getuid?.() !== 0) throw new Error('the Kafka broker tests need root (network namespace): run them as root');
  await brokerDown();
  const inst = await execa(join(ROOT, 'setup/install-kafka.sh'));
  const libs = inst.stdout.trim().split('\n').at(-1)!;
  mkdirSync(join(DIR, 'data'), { recursive: true });
  await execa('ip', ['netns', 'add', NS]);
  await execa('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS]);
  await execa('ip', ['addr', 'add', `${HOST_ADDR}/30`, 'dev', HOST_IF]);
  await execa('ip', ['link', 'set', HOST_IF, 'up']);
  await execa('ip', ['-n', NS, 'addr', 'add', `${BROKER_ADDR}/30`, 'dev', 'eth0']);
  await execa('ip', ['-n', NS, 'link', 'set', 'eth0', 'up']);
  await execa('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  const props = join(DIR, 'server.properties');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${BROKER_ADDR}:9093`,
      `listeners=PLAINTEXT://${BROKER_ADDR}:9092,CONTROLLER://${BROKER_ADDR}:9093`,
      `advertised.listeners=PLAINTEXT://${BROKER_ADDR}:9092`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${join(DIR, 'data')}`,
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
  );
  const clusterId = randomBytes(16).toString('base64url');
  const log4j = `-Dlog4j2.configurationFile=${join(ROOT, 'setup/kafka/config/tools-log4j2.xml')}`;
  await execa('java', ['-Xmx256m', log4j, '-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '--config', props]);
  const child = execa(
    'ip',
    [
      'netns', 'exec', NS, 'java', `-Xms${opts.heap ?? '384m'}`, `-Xmx${opts.heap ?? '384m'}`, `-Dkafka.logs.dir=${join(DIR, 'logs')}`,
      `-Dlog4j2.configurationFile=${join(ROOT, 'setup/kafka/config/log4j2.xml')}`, '-cp', `${libs}/*`, 'kafka.Kafka', props,
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'ignore'], reject: false },
  );
  writeFileSync(join(DIR, 'broker.pid'), String(child.pid));
  child.unref();
  const tool = async (main: string, args: string[]): Promise<string> =>
    (await execa('java', ['-Xmx256m', log4j, '-cp', `${libs}/*`, main, ...args], { env: { LC_ALL: 'C' }, timeout: 120_000 })).stdout;
  // Started when the server log says so (bounded: a busy 2-core host can take a minute).
  const serverLog = join(DIR, 'logs', 'server.log');
  for (let i = 0; ; i++) {
    if (existsSync(serverLog) && readFileSync(serverLog, 'utf8').includes('Kafka Server started')) break;
    if (child.exitCode !== null || i > 1200) throw new Error(`the broker did not start (see ${serverLog})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    bootstrap: BOOTSTRAP,
    libs,
    dir: DIR,
    tool,
    async createTopic(name, partitions, config = {}) {
      const cfg = Object.entries(config).flatMap(([k, v]) => ['--config', `${k}=${v}`]);
      await tool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', BOOTSTRAP, '--create', '--topic', name, '--partitions', String(partitions), '--replication-factor', '1', ...cfg]);
    },
    async endOffsets(topic) {
      const out = await tool('org.apache.kafka.tools.GetOffsetShell', ['--bootstrap-server', BOOTSTRAP, '--topic', topic]);
      return out
        .split('\n')
        .filter(Boolean)
        .reduce((a, l) => a + Number(l.split(':').at(-1)), 0);
    },
    async limitBandwidth(rate) {
      await sh('tc', ['qdisc', 'del', 'dev', HOST_IF, 'root']);
      if (rate) await execa('tc', ['qdisc', 'add', 'dev', HOST_IF, 'root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms']);
    },
    down: brokerDown,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cmd = process.argv[2];
  if (cmd === 'up') {
    const b = await brokerUp();
    console.log(`broker up at ${b.bootstrap} (libs ${b.libs}); the root namespace is ${HOST_ADDR} on the link`);
  } else if (cmd === 'down') await brokerDown();
  else {
    console.error('usage: kafka-broker.ts up|down');
    process.exit(2);
  }
}
