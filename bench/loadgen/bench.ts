/**
 * bench/loadgen: the native generator against Kafka's ProducerPerformance (kafka-producer-perf-test)
 * on the same broker and topic settings, side by side in one run, `--reps` repetitions. Each
 * repetition gets a fresh topic and runs every generator once, in an order that alternates between
 * repetitions (A B, B A, ...) so a drift of the machine's load does not favour one of them.
 *
 *   npm run build && npx tsx bench/loadgen/bench.ts --bootstrap 10.83.70.2:9092 \
 *       --kafka-libs setup/kafka/libs [--rate 200000] [--size 1024] [--acks 1] [--partitions 3] \
 *       [--duration 20] [--warmup 5] [--reps 3] [--native= --native='--connections 2'] [--before <dist>] [--out f.json]
 *
 * `--native=<flags>` (repeatable) adds a native variant with those extra loadgen flags (`--native=`
 * alone: the defaults; the default when none is given). `--before <dist>` adds the native generator
 * of another build (its defaults), for a before/after pair in the same run.
 * Figures per run: msg/s acknowledged in the generator's measured window (its summary), the whole
 * process tree's CPU seconds (user + system, from the kernel's accounting of the reaped process as
 * /usr/bin/time reports it: Node, and the JVM the perf-test driver starts, start-up included), and
 * messages acknowledged over the whole run (warm-up included) per CPU-second. The load average is
 * taken before and after every run.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
    /** A ceiling both try to reach (msg/s); 0 = unthrottled (`--throughput -1` for the tool). */
    rate: { type: 'string', default: '200000' },
    reps: { type: 'string', default: '3' },
    /** Seconds between spawning a generator and its start (Node or the JVM starting). */
    lead: { type: 'string', default: '8' },
    native: { type: 'string', multiple: true },
    /** A second build's dist/ (e.g. the commit before a change): its native generator with its defaults joins as 'native (before)'. */
    before: { type: 'string' },
    'no-perf-test': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const libs = resolve(a['kafka-libs']!);
const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'gr-bench-loadgen-'));
const reps = Math.max(1, Number(a.reps));
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');

const topicTool = (args: string[]): string =>
  execFileSync('java', ['-Xmx256m', '-cp', join(libs, '*'), 'org.apache.kafka.tools.TopicCommand', '--bootstrap-server', a.bootstrap!, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });

interface Variant {
  label: string;
  driver: 'native' | 'perf-test';
  extra: string[];
  /** dist/ folder of the build to run (default this checkout's). */
  dist?: string;
}
const variants: Variant[] = (a.native?.length ? a.native : ['']).map((f) => ({ label: f ? `native ${f}` : 'native (defaults)', driver: 'native' as const, extra: f.split(/\s+/).filter(Boolean) }));
if (a.before) variants.unshift({ label: 'native (before)', driver: 'native', extra: [], dist: resolve(a.before) });
if (!a['no-perf-test']) variants.push({ label: 'perf-test', driver: 'perf-test', extra: [] });

interface Row {
  rep: number;
  variant: string;
  msgPerS: number;
  /** The summary's own achieved rate (perf-test: over its steady-state windows, after its warm-up records). */
  ownMsgPerS: number;
  ackedAll: number;
  cpuS: number;
  msgPerCpuS: number;
  wallS: number;
  p99Ms: number | null;
  saturated: boolean;
  status: string;
  loadBefore: string;
  loadAfter: string;
}

/** One generator run under /usr/bin/time: the kernel's CPU accounting of the whole reaped tree. */
async function run(v: Variant, topic: string, rep: number): Promise<Row> {
  const file = join(work, `${rep}-${v.label.replace(/\W+/g, '_')}.json`);
  const timeFile = `${file}.time`;
  const args = [join(v.dist ?? join(root, 'dist'), 'entrypoint.js'), 'loadgen', '--driver', v.driver, '--bootstrap', a.bootstrap!, '--topic', topic, '--rate', a.rate!, '--size', a.size!,
    '--acks', a.acks!, '--duration', a.duration!, '--warmup', a.warmup!, '--summary', file, '--quiet', '--instance', `bench-${v.driver}`,
    // A fixed start far enough ahead for Node to start on a busy host; a later start is still taken
    // (at a ceiling above what the broker sustains, the backlog it leaves changes nothing measured).
    '--start-at', String(Date.now() + Number(a.lead) * 1000), '--max-late', '120000', ...v.extra];
  if (v.driver === 'perf-test') args.push('--kafka-libs', libs);
  const loadBefore = load();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %e', '-o', timeFile, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((r) => child.on('exit', r));
  const [user, sys, wall] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  const s = JSON.parse(readFileSync(file, 'utf8')) as LoadgenSummary;
  const ackedAll = s.counts.acked + s.warmup.acked;
  // Both over the same wall-clock window, the schedule's [start + warm-up, + duration]: the native
  // summary's own window is that one; the tool's report lines (about 1 s each) ending inside it.
  let msgPerS = s.achieved.msgPerSec;
  if (v.driver === 'perf-test') {
    const w0 = s.config.startAt + s.config.warmupS * 1000;
    const w1 = w0 + s.config.durationS * 1000;
    const inWin = (s.series ?? []).filter((x) => x.t > w0 + 500 && x.t <= w1 + 500 && x.rate > 0);
    const n = inWin.reduce((x, y) => x + y.acked, 0);
    const secs = inWin.reduce((x, y) => x + y.acked / y.rate, 0);
    msgPerS = secs > 0 ? n / secs : 0;
  }
  const cpuS = user! + sys!;
  return {
    rep,
    variant: v.label,
    msgPerS: Math.round(msgPerS),
    ownMsgPerS: Math.round(s.achieved.msgPerSec),
    ackedAll,
    cpuS: Number(cpuS.toFixed(2)),
    msgPerCpuS: Math.round(ackedAll / cpuS),
    wallS: wall!,
    p99Ms: s.latencyMs.p99,
    saturated: s.saturated,
    status: s.status,
    loadBefore,
    loadAfter: load(),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const rows: Row[] = [];
for (let rep = 1; rep <= reps; rep++) {
  const topic = `bench-${Date.now()}-${rep}`;
  topicTool(['--create', '--topic', topic, '--partitions', a.partitions!, '--replication-factor', '1']);
  try {
    const order = rep % 2 === 1 ? variants : [...variants].reverse();
    for (const v of order) {
      const r = await run(v, topic, rep);
      rows.push(r);
      console.error(`rep ${rep} ${r.variant}: ${r.msgPerS} msg/s, ${r.msgPerCpuS} msg/CPU-s (${r.cpuS} CPU-s), load ${r.loadBefore} -> ${r.loadAfter}`);
    }
  } finally {
    try {
      topicTool(['--delete', '--topic', topic]);
    } catch {
      /* best effort */
    }
  }
}

console.log(`rate ${a.rate === '0' ? 'unthrottled' : `${a.rate} msg/s ceiling`}, ${a.size} B, acks ${a.acks}, ${a.partitions} partitions, ${a.duration} s + ${a.warmup} s warm-up, ${reps} repetitions`);
console.table(rows.map((r) => ({ rep: r.rep, variant: r.variant, 'msg/s': r.msgPerS, 'own msg/s': r.ownMsgPerS, 'msg/CPU-s': r.msgPerCpuS, 'CPU s': r.cpuS, 'wall s': r.wallS, 'p99 ms': r.p99Ms, saturated: r.saturated, status: r.status, load: `${r.loadBefore} -> ${r.loadAfter}` })));
const perf = rows.filter((r) => r.variant === 'perf-test');
const summary = variants.map((v) => {
  const mine = rows.filter((r) => r.variant === v.label);
  // Ratios pair by pair (same repetition, same topic, neighbours in time), then their median.
  const pairs = mine.map((r) => ({ r, p: perf.find((p) => p.rep === r.rep) })).filter((x) => x.p && x.p.msgPerS > 0 && x.p.msgPerCpuS > 0);
  return {
    variant: v.label,
    'median msg/s': median(mine.map((r) => r.msgPerS)),
    'median msg/CPU-s': median(mine.map((r) => r.msgPerCpuS)),
    'throughput ÷ perf-test (median of pairs)': v.driver === 'perf-test' || !pairs.length ? null : Number(median(pairs.map((x) => x.r.msgPerS / x.p!.msgPerS)).toFixed(2)),
    'msg/CPU-s ÷ perf-test (median of pairs)': v.driver === 'perf-test' || !pairs.length ? null : Number(median(pairs.map((x) => x.r.msgPerCpuS / x.p!.msgPerCpuS)).toFixed(2)),
  };
});
console.table(summary);
if (a.out) writeFileSync(a.out, JSON.stringify({ args: a, rows, summary }, null, 2) + '\n');
