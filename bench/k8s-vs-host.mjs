// bench/k8s-vs-host (issue 15): the same ingest run with `runtime: host` and with `runtime: k3s`, side by
// side, repetitions alternated (host k3s, k3s host, host k3s, ...) so a drift of the machine's speed hits
// both alike. Per side and repetition, in a fresh GREENRACE_HOME: `setup` (namespace hosts of the local
// platform: 1 control + 1 broker + 2 workers; monitoring and a one-broker Kafka, as services on the
// hosts or as objects on the cluster), one `ingest` (2 native generators on the workers), `killjob`.
// Per run, from the run record and from this machine's /proc/stat:
//   achieved_msg_s      acknowledged messages in the measurement window ÷ its seconds (record)
//   p99_ms              99th percentile latency, from each message's intended send time (record;
//                       open-loop, the native generator), ms
//   gen_cpu_us_per_msg  the generators' own CPU time (user + system, their summaries, warm-up
//                       included) ÷ the messages they had acknowledged (warm-up included), µs
//   machine_cpu_ms_per_msg  the whole machine's non-idle CPU time over the window ÷ the messages
//                       acknowledged in the window (achieved_msg_s × window), ms: read
//                       by this script from /proc/stat every 0.5 s (independent of the runtime's own
//                       monitoring), so it includes everything running (Kafka, Prometheus, and on
//                       k3s the kubelets, containerds, etcd and the control plane): run it alone
//   energy_j, mj_per_msg, energy_source, energy_kind  the record's energy account over the window
//                       (on this machine: the CPU model, estimated, one physical machine)
//   setup_s, killjob_s  wall time of the side's setup and killjob
// Needs root, Kafka's jars (setup/install-kafka.sh) and the Kubernetes build (setup/install.sh --k8s).
//   node bench/k8s-vs-host.mjs [--reps 3] [--load 2000] [--duration 30] [--warmup 15]
// Prints one JSON line per run, then a summary line: per side the medians, and the median of the
// per-repetition ratios k3s/host.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, load1, makeHome, median } from './ab.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const o = { reps: 3, load: 2000, duration: 30, warmup: 15 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i].replace(/^--/, '');
  if (!(k in o) || !(Number(argv[i + 1]) > 0)) throw new Error(`unknown or bad argument ${argv[i]} ${argv[i + 1] ?? ''} (use --reps n --load msg/s --duration s --warmup s)`);
  o[k] = Number(argv[i + 1]);
}

const experiment = (runtime) => `description: bench k8s-vs-host (${runtime})
platform: {kind: local}
roles: {control: 1, broker: 1, worker: 2}
runtime: ${runtime}
${runtime === 'k3s' ? 'kubernetes: {distribution: upstream}\n' : ''}services: [node_exporter, prometheus, pushgateway, kafka]
monitoring: {scrape_interval: 2s}
kafka: {replication_factor: 1, min_insync_replicas: 1, controllers: 1, partitions: 4, heap: 512m}
ingest:
  broker: kafka
  driver: native
  load: ${o.load}
  message_size: 512
  instances: 2
  partitions: 4
  duration: ${o.duration}s
  warmup: ${o.warmup}s
  acks: all
`;

/** The machine's CPU counters (jiffies): busy = everything but idle and iowait. */
function cpuNow() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { t: Date.now() / 1000, busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
}
/** Busy CPU seconds between two epoch times, interpolated between the samples around each. */
function busySeconds(samples, a, b) {
  const at = (t) => {
    const i = samples.findIndex((s) => s.t >= t);
    if (i <= 0) return i === 0 ? samples[0].busy : samples[samples.length - 1].busy;
    const [p, q] = [samples[i - 1], samples[i]];
    return p.busy + ((q.busy - p.busy) * (t - p.t)) / (q.t - p.t);
  };
  return (at(b) - at(a)) / 100; // USER_HZ = 100 on Linux
}

async function side(runtime, rep) {
  const exp = `bench-k8svh-${runtime}`;
  const home = makeHome(`gr-bench-k8svh-${runtime}-`, exp, experiment(runtime));
  const loadavg_1m = load1();
  let setup_s = null;
  let killjob_s = null;
  try {
    setup_s = cli(root, home, ['setup', exp]).s;
    const samples = [cpuNow()];
    const timer = setInterval(() => samples.push(cpuNow()), 500);
    // The ingest as a child process (not cli(), which blocks): /proc/stat is sampled meanwhile.
    const t0 = Date.now();
    const code = await new Promise((res) => {
      const p = spawn(process.execPath, [join(root, 'dist', 'entrypoint.js'), 'ingest', exp], { cwd: home, env: { ...process.env, GREENRACE_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('exit', (c) => res(c));
    });
    clearInterval(timer);
    samples.push(cpuNow());
    const ingest_s = +((Date.now() - t0) / 1000).toFixed(2);
    if (code !== 0) throw new Error(`${runtime}: ingest failed (exit ${code})`);
    const dir = join(home, 'results', exp);
    const id = readdirSync(dir)
      .filter((d) => !d.includes('.'))
      .sort((p, q) => statSync(join(dir, p)).mtimeMs - statSync(join(dir, q)).mtimeMs)
      .pop();
    const rec = JSON.parse(readFileSync(join(dir, id, 'run.json'), 'utf8'));
    const res = rec.results;
    const acked = res.achieved_rate * (rec.window.end - rec.window.start);
    const machineCpu = busySeconds(samples, rec.window.start, rec.window.end);
    const e = rec.energy ?? {};
    const r = {
      bench: 'k8s-vs-host',
      runtime,
      rep,
      loadavg_1m,
      status: rec.status,
      target_msg_s: o.load,
      achieved_msg_s: res.achieved_rate,
      saturated: res.saturated,
      p99_ms: res.latency_ms?.p99 ?? null,
      latency_basis: res.latency_basis,
      gen_cpu_us_per_msg: res.generator_cpu_s != null && res.messages_acked > 0 ? +((res.generator_cpu_s / res.messages_acked) * 1e6).toFixed(1) : null,
      machine_cpu_ms_per_msg: acked > 0 ? +((machineCpu / acked) * 1e3).toFixed(3) : null,
      machine_cpu_s_window: +machineCpu.toFixed(2),
      window_s: +(rec.window.end - rec.window.start).toFixed(2),
      energy_j: e.totalJoules ?? null,
      mj_per_msg: e.totalJoules != null && acked > 0 ? +((e.totalJoules / acked) * 1e3).toFixed(3) : null,
      energy_source: (e.sources ?? []).join('+') || null,
      energy_kind: e.kind ?? null,
      setup_s,
      ingest_s,
      run: rec.id,
    };
    return r;
  } finally {
    killjob_s = cli(root, home, ['killjob', exp], { allowFail: true }).s;
    console.error(`${runtime} rep ${rep}: killjob ${killjob_s} s`);
    rmSync(home, { recursive: true, force: true });
  }
}

const t0 = Date.now();
const runs = [];
for (let rep = 1; rep <= o.reps; rep++) {
  const order = rep % 2 ? ['host', 'k3s'] : ['k3s', 'host'];
  const pair = {};
  for (const rt of order) {
    pair[rt] = await side(rt, rep);
    console.log(JSON.stringify(pair[rt]));
  }
  runs.push(pair);
}
const figures = ['achieved_msg_s', 'p99_ms', 'gen_cpu_us_per_msg', 'machine_cpu_ms_per_msg', 'energy_j', 'mj_per_msg', 'setup_s'];
const summary = { bench: 'k8s-vs-host', summary: true, reps: o.reps, load: o.load, duration_s: o.duration, warmup_s: o.warmup, wall_s: Math.round((Date.now() - t0) / 1000) };
for (const f of figures) {
  summary[f] = {
    host_median: median(runs.map((p) => p.host[f])),
    k3s_median: median(runs.map((p) => p.k3s[f])),
    ratio_k3s_over_host_median: median(runs.map((p) => (p.host[f] > 0 && typeof p.k3s[f] === 'number' ? p.k3s[f] / p.host[f] : null))),
  };
}
summary.energy_sources = [...new Set(runs.flatMap((p) => [p.host.energy_source, p.k3s.energy_source]))];
summary.loadavg_1m = { min: Math.min(...runs.flatMap((p) => [p.host.loadavg_1m, p.k3s.loadavg_1m])), max: Math.max(...runs.flatMap((p) => [p.host.loadavg_1m, p.k3s.loadavg_1m])) };
console.log(JSON.stringify(summary));
