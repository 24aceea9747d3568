// bench/run-overhead (issue 17 item 1): the fixed cost of an ingest run on a warm cluster, A and B in turn.
// Per side: one `setup` of the quick-start cluster (3 local hosts, Kafka, monitoring), then
//   - two `ingest` commands (each its own process): overhead = command wall time − warm-up − measure;
//   - one `sweep` of the same configuration (--grid ingest.load=<load> --repetitions N): per run,
//     overhead = the sweep's own per-run wall time (sweep.json runs[].seconds) − warm-up − measure;
//     the first run of a sweep pays what the later ones may reuse, so runs 2..N are reported apart;
// then killjob. Where the record has phase timings (record.phases) they are printed too.
// Needs root and Kafka's jars (setup/install-kafka.sh).
//   node bench/run-overhead.mjs --a /path/to/baseline-checkout [--b /path/to/checkout] [--reps 3]
// Environment: BENCH_WARMUP (s, default 2), BENCH_DURATION (s, default 10), BENCH_SWEEP_RUNS (default 4).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, load1, makeHome, median, parseArgs, summarize } from './ab.mjs';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const o = parseArgs(process.argv.slice(2), here);
const warmup = Number(process.env.BENCH_WARMUP ?? 2);
const duration = Number(process.env.BENCH_DURATION ?? 10);
const sweepRuns = Number(process.env.BENCH_SWEEP_RUNS ?? 4);
const load = 2000;
const yaml = readFileSync(join(here, 'experiments', 'quickstart.yaml'), 'utf8')
  .replace(/^(\s+)duration: .*$/m, `$1duration: ${duration}s`)
  .replace(/^(\s+)warmup: .*$/m, `$1warmup: ${warmup}s`)
  .replace(/^(\s+)load: .*$/m, `$1load: ${load}`);

const overhead = (wall) => +(wall - warmup - duration).toFixed(2);
const jsonOf = (stdout) => JSON.parse(stdout.slice(stdout.indexOf('{')));

function side(label, root, rep) {
  const exp = `bench-run-${label}`;
  const home = makeHome(`gr-bench-run-${label}-`, exp, yaml);
  const loadavg_1m = load1();
  try {
    cli(root, home, ['setup', exp]);
    const singles = [1, 2].map(() => {
      const r = cli(root, home, ['ingest', exp, '--json']);
      const rec = jsonOf(r.stdout);
      return { wall_s: r.s, overhead_s: overhead(r.s), status: rec.status, phases: rec.phases ?? null };
    });
    const sw = cli(root, home, ['sweep', exp, '--grid', `ingest.load=${load}`, '--repetitions', String(sweepRuns), '--json']);
    const runs = jsonOf(sw.stdout).runs.map((x) => ({ seconds: +x.seconds.toFixed(2), overhead_s: overhead(x.seconds), status: x.status }));
    const r = {
      bench: 'run-overhead',
      side: label,
      root,
      rep,
      warmup_s: warmup,
      duration_s: duration,
      loadavg_1m,
      ingest_first_overhead_s: singles[0].overhead_s,
      ingest_second_overhead_s: singles[1].overhead_s,
      sweep_first_overhead_s: runs[0]?.overhead_s ?? null,
      sweep_later_overhead_s: median(runs.slice(1).map((x) => x.overhead_s)),
      sweep_wall_s: sw.s,
      singles,
      sweep_runs: runs,
    };
    console.log(JSON.stringify(r));
    return r;
  } finally {
    cli(root, home, ['killjob', exp], { allowFail: true });
  }
}

const pairs = [];
for (let rep = 1; rep <= o.reps; rep++) pairs.push({ a: side('a', o.a, rep), b: side('b', o.b, rep) });
summarize('run-overhead', pairs, ['ingest_first_overhead_s', 'ingest_second_overhead_s', 'sweep_first_overhead_s', 'sweep_later_overhead_s']);
