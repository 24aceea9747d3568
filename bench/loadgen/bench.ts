/**
 * bench/loadgen: the native generator against Kafka's ProducerPerformance on the same broker, same
 * message size and acks, at maximum rate (unthrottled), one after the other in one run. Reports
 * msg/s over the measured phase and messages per CPU-second of the whole generator process (CPU
 * from /proc/<pid>/stat: user + system, JVM or Node start-up included for both).
 *
 *   npx tsc -p tsconfig.json && npx tsx bench/loadgen/bench.ts --bootstrap 127.0.0.1:9092 \
 *       --kafka-libs setup/kafka/libs [--size 1024] [--acks 1] [--duration 20] [--warmup 5]
 *
 * The topic (bench-<time>, 3 partitions, RF 1) is created and deleted with Kafka's TopicCommand.
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LoadgenSummary } from '../../src/loadgen/summary.js';

const { values: a } = parseArgs({
  options: {
    bootstrap: { type: 'string', default: '127.0.0.1:9092' },
    'kafka-libs': { type: 'string', default: 'setup/kafka/libs' },
    size: { type: 'string', default: '1024' },
    acks: { type: 'string', default: '1' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    partitions: { type: 'string', default: '3' },
    /** 0 = unthrottled (--throughput -1 for the tool); a high rate is a ceiling both approach. */
    rate: { type: 'string', default: '0' },
  },
});
const libs = resolve(a['kafka-libs']!);
const root = resolve(import.meta.dirname, '../..');
const topic = `bench-${Date.now()}`;
const work = mkdtempSync(join(tmpdir(), 'gr-bench-'));
const tool = (args: string[]): string =>
  execFileSync('java', ['-Xmx256m', '-cp', join(libs, '*'), 'org.apache.kafka.tools.TopicCommand', '--bootstrap-server', a.bootstrap!, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });

function cpuOf(pid: number): number | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: the node driver's java child counts through cutime/cstime once reaped.
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return undefined;
  }
}

async function run(driver: 'native' | 'perf-test'): Promise<{ driver: string; summary: LoadgenSummary; cpuS: number; wallS: number }> {
  const file = join(work, `${driver}.json`);
  const args = [join(root, 'dist/entrypoint.js'), 'loadgen', '--driver', driver, '--bootstrap', a.bootstrap!, '--topic', topic, '--rate', a.rate!, '--size', a.size!,
    '--acks', a.acks!, '--duration', a.duration!, '--warmup', a.warmup!, '--summary', file, '--quiet', '--instance', `bench-${driver}`];
  if (driver === 'perf-test') args.push('--kafka-libs', libs);
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  // Sample the process tree's CPU until it exits (children: the JVM of the perf-test driver).
  let last = 0;
  const kids = (): number[] => {
    try {
      return readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const seen = new Map<number, number>();
  const timer = setInterval(() => {
    const own = cpuOf(child.pid!);
    if (own !== undefined) last = own;
    for (const k of kids()) {
      const c = cpuOf(k);
      if (c !== undefined) seen.set(k, c);
    }
  }, 200);
  await new Promise((r) => child.on('exit', r));
  clearInterval(timer);
  // Once reaped, a child's CPU is in the parent's cutime/cstime, already counted in `last`; use
  // the live samples only when they are larger (the parent died before reaping).
  const childCpu = [...seen.values()].reduce((x, y) => x + y, 0);
  const cpuS = Math.max(last, childCpu);
  return { driver, summary: JSON.parse(readFileSync(file, 'utf8')) as LoadgenSummary, cpuS, wallS: (Date.now() - t0) / 1000 };
}

tool(['--create', '--topic', topic, '--partitions', a.partitions!, '--replication-factor', '1']);
try {
  const results = [];
  for (const d of ['native', 'perf-test'] as const) results.push(await run(d));
  const rows = results.map((r) => {
    const total = r.summary.counts.acked + r.summary.warmup.acked;
    return {
      driver: r.driver,
      'msg/s (measured)': Math.round(r.summary.achieved.msgPerSec),
      'MB/s': Number(r.summary.achieved.mbPerSec.toFixed(2)),
      'acked (all)': total,
      'cpu s': Number(r.cpuS.toFixed(2)),
      'msg per cpu-s': Math.round(total / r.cpuS),
      'p99 ms': r.summary.latencyMs.p99,
      status: r.summary.status,
    };
  });
  console.table(rows);
  const [n, p] = rows;
  console.log(`rate ${a.rate === '0' ? 'unthrottled' : a.rate + ' msg/s ceiling'}, size ${a.size} B, acks ${a.acks}, ${a.duration} s + ${a.warmup} s warm-up, ${a.partitions} partitions`);
  console.log(`ratio native/perf-test: throughput ${(n!['msg/s (measured)'] / p!['msg/s (measured)']).toFixed(2)}, msg per cpu-s ${(n!['msg per cpu-s'] / p!['msg per cpu-s']).toFixed(2)}`);
} finally {
  try {
    tool(['--delete', '--topic', topic]);
  } catch {
    /* best effort */
  }
}
