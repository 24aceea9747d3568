#!/usr/bin/env node
// bench/search/real.mjs <exp> [--repeats 3] [--start 2000] [--max-load 400000]
//                             [--trial-warmup 1s] [--trial-duration 4s]
//                             [--warm-up 60s] [--warm-load <msg/s>] [-- <more search flags>]
// Before the first pair, one saturating ingest run warms the broker up (JIT, page cache, log
// segments: on the quiet machine capacities rose from 67k to 176k msg/s over 19 minutes of searches
// without it): `--warm-up` measured seconds (0: none) at `--warm-load` (default: --max-load). It is
// recorded (its run id and achieved rate are printed) and counted in no search.
// On a set-up experiment, run `entrypoint search` with each strategy (knee, double-bisect)
// alternately — knee, double-bisect, then double-bisect, knee, … (ABBA) — `--repeats` times each, from the same start load,
// with the same trial settings and the same SLO (both read from the experiment's `search:` section,
// the flags above override it for both; anything after `--` is passed to both). Prints one line per
// search as it ends, then the searches side by side and the mean per strategy:
//   trials      the search's trials (search.json result.trials; a ramp counts as one)
//   wall        seconds from the command's start to its exit (setup of each trial included)
//   capacity    the bracket's low end (the highest load that met the SLO below the lowest failure)
//   bracket     [low, high] and its width (high/low − 1)
//   load        the machine's 1-minute load average, mean of samples every 5 s during the search
//   retries     knee: trials that repeated a load to confirm a failure (search.json trials' retryOf)
// Per pair (the i-th knee and double-bisect searches): knee/db capacity ratio, whether the two
// brackets overlap, and whether each bracket [low, high] contains the other strategy's capacity.
// It checks that every search recorded the same SLO and trial settings, and says so.
// Run it alone on a quiet machine: each search takes 1–4 minutes.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const dd = argv.indexOf('--');
const args = dd >= 0 ? argv.slice(0, dd) : argv;
const extra = dd >= 0 ? argv.slice(dd + 1) : [];
const exp = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
if (!exp) {
  console.error('usage: node bench/search/real.mjs <exp> [--repeats 3] [--start 2000] [--max-load 400000] [--trial-warmup 1s] [--trial-duration 4s] [-- <search flags for both>]');
  process.exit(2);
}
const repeats = Number(opt('--repeats', '3'));
if (!(Number.isInteger(repeats) && repeats >= 1)) {
  console.error(`--repeats ${opt('--repeats')}: expected a whole number ≥ 1`);
  process.exit(2);
}
const entry = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'entrypoint.js');
const common = ['--start', opt('--start', '2000'), '--max-load', opt('--max-load', '400000')];
for (const k of ['--trial-warmup', '--trial-duration']) if (args.includes(k)) common.push(k, opt(k));
common.push(...extra);

const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

const warmS = Number(String(opt('--warm-up', '60')).replace(/s$/, ''));
if (!(Number.isFinite(warmS) && warmS >= 0)) {
  console.error(`--warm-up ${opt('--warm-up')}: expected seconds ≥ 0 (e.g. 60 or 60s; 0: no warm-up run)`);
  process.exit(2);
}
const warmLoad = Number(opt('--warm-load', opt('--max-load', '400000')));
if (!(Number.isFinite(warmLoad) && warmLoad > 0)) {
  console.error(`--warm-load ${opt('--warm-load')}: expected a rate in msg/s > 0`);
  process.exit(2);
}

/** One entrypoint command with --json; resolves with the record it printed, exit code, output, wall seconds and mean load average. */
function entryRun(args) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const loads = [load1()];
    const timer = setInterval(() => loads.push(load1()), 5000);
    const child = spawn(process.execPath, [entry, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      clearInterval(timer);
      loads.push(load1());
      let rec;
      try {
        rec = JSON.parse(out.slice(out.indexOf('\n{') + 1));
      } catch {
        rec = undefined;
      }
      resolve({ rec, code, err, out, wall: (Date.now() - t0) / 1000, load: loads.reduce((a, x) => a + x, 0) / loads.length });
    });
  });
}

/** One saturating ingest run before the searches (recorded, not counted in any search). */
const warmUp = () => entryRun(['ingest', exp, '--load', String(warmLoad), '--warmup', '2s', '--duration', `${warmS}s`]);

/** One search. */
const search = (strategy) => entryRun(['search', exp, '--strategy', strategy, ...common]);

const rows = [];
let interrupted = false;
process.on('SIGINT', () => (interrupted = true));
if (warmS > 0) {
  const w = await warmUp();
  const achieved = w.rec?.results?.achieved_rate;
  if (w.code !== 0 && achieved === undefined) {
    console.log(`warm-up run FAILED (exit ${w.code}, ${w.wall.toFixed(0)} s):\n${(w.err + w.out).trim().split('\n').slice(-8).join('\n')}`);
    process.exit(1);
  }
  console.log(`warm-up (not counted): ingest at ${warmLoad} msg/s, 2 s + ${warmS} s, achieved ${achieved === undefined ? '—' : Math.round(achieved)} msg/s (an overloaded run: not a capacity), ${w.wall.toFixed(0)} s, load avg ${w.load.toFixed(1)}, run ${w.rec?.id ?? '—'}`);
}
for (let i = 0; i < repeats && !interrupted; i++)
  // A B, then B A, …: a machine that drifts (broker warming up, page cache) favours neither strategy.
  for (const strategy of i % 2 ? ['double-bisect', 'knee'] : ['knee', 'double-bisect']) {
    if (interrupted) break;
    const r = await search(strategy);
    if (!r.rec?.result) {
      console.log(`${strategy.padEnd(13)} #${i + 1}: FAILED (exit ${r.code}, ${r.wall.toFixed(0)} s, load ${r.load.toFixed(1)}):\n${(r.err + r.out).trim().split('\n').slice(-8).join('\n')}`);
      rows.push({ strategy, i, failed: true, wall: r.wall, load: r.load });
      continue;
    }
    const res = r.rec.result;
    const row = {
      strategy,
      i,
      id: r.rec.id,
      trials: res.trials,
      wall: r.wall,
      capacity: res.capacity,
      low: res.bracket.low,
      high: res.bracket.high,
      within: res.withinPrecision,
      load: r.load,
      retries: r.rec.trials.filter((t) => t.retryOf !== undefined).length,
      // The trial that passed at the capacity: did its writes stay in the broker's page cache (ingest/pagecache.ts)?
      pageCache: res.pageCache ? `${res.pageCache.absorbed ? 'absorbed by' : 'beyond'} the page cache (${(res.pageCache.bytesPerBroker / 1e9).toFixed(2)} GB per broker in ${res.pageCache.seconds} s)` : 'page cache: not recorded',
      slo: JSON.stringify(r.rec.slo),
      // Start, precision, bounds and trial lengths (the knee's own knobs left out: double-bisect ignores them).
      settings: JSON.stringify({ ...r.rec.params, strategy: undefined, ramp: undefined, probeFactor: undefined, confirm: undefined, trial: r.rec.trial }),
    };
    rows.push(row);
    console.log(`${strategy.padEnd(13)} #${i + 1}: ${row.trials} trials, ${row.wall.toFixed(0)} s, capacity ${fmt(row.capacity)} msg/s, bracket ${bracket(row)}${row.within ? '' : ' NOT within precision'}${strategy === 'knee' ? `, ${row.retries} confirmation ${row.retries === 1 ? 'retry' : 'retries'}` : ''}, capacity trial ${row.pageCache}, load avg ${row.load.toFixed(1)}, ${row.id}`);
  }

function fmt(v) {
  return v === null || v === undefined ? '—' : String(Math.round(v));
}
function bracket(r) {
  const w = r.low && r.high ? ` ${((r.high / r.low - 1) * 100).toFixed(1)} %` : '';
  return `[${fmt(r.low)}, ${fmt(r.high)}]${w}`;
}

const ok = rows.filter((r) => !r.failed);
console.log('\nrun | knee: trials, wall s, capacity msg/s, bracket, load | double-bisect: trials, wall s, capacity msg/s, bracket, load');
for (let i = 0; i < repeats; i++) {
  const cell = (s) => {
    const r = rows.find((x) => x.strategy === s && x.i === i);
    if (!r) return '—';
    if (r.failed) return `failed (${r.wall.toFixed(0)} s, load ${r.load.toFixed(1)})`;
    return `${r.trials}, ${r.wall.toFixed(0)}, ${fmt(r.capacity)}, ${bracket(r)}${r.within ? '' : ' (not within)'}, ${r.load.toFixed(1)}`;
  };
  console.log(`${i + 1} | ${cell('knee')} | ${cell('double-bisect')}`);
}
for (const s of ['knee', 'double-bisect']) {
  const r = ok.filter((x) => x.strategy === s);
  if (!r.length) continue;
  const m = (k) => r.reduce((a, x) => a + x[k], 0) / r.length;
  const within = r.filter((x) => x.within).length;
  console.log(`${s}: mean ${m('trials').toFixed(1)} trials, ${m('wall').toFixed(0)} s, capacity ${Math.round(m('capacity'))} msg/s, ${within}/${r.length} brackets within precision, load avg ${m('load').toFixed(1)} (${r.length} searches)`);
}
const slos = new Set(ok.map((r) => r.slo));
const settings = new Set(ok.map((r) => r.settings));
console.log(slos.size <= 1 ? `same SLO in every search: ${[...slos][0] ?? '—'}` : `DIFFERENT SLOs across searches: ${[...slos].join(' | ')}`);
console.log(settings.size <= 1 ? `same search and trial settings in every search: ${[...settings][0] ?? '—'}` : `DIFFERENT settings across searches: ${[...settings].join(' | ')}`);

// Per pair: do the two strategies find the same capacity? (ratio; brackets overlapping; each
// bracket holding the other's capacity.) Bracket [low, high]: low passed, high failed.
const holds = (r, x) => r.low !== null && r.high !== null && x !== null && x >= r.low && x < r.high;
const ratios = [];
let overlaps = 0;
let pairs = 0;
console.log('\npair | order | knee/db capacity | brackets overlap | knee bracket holds db capacity | db bracket holds knee capacity');
for (let i = 0; i < repeats; i++) {
  const k = rows.find((x) => x.strategy === 'knee' && x.i === i && !x.failed);
  const d = rows.find((x) => x.strategy === 'double-bisect' && x.i === i && !x.failed);
  if (!k || !d || !k.capacity || !d.capacity) continue;
  pairs++;
  const ratio = k.capacity / d.capacity;
  ratios.push(ratio);
  const overlap = k.low !== null && d.low !== null && Math.max(k.low, d.low) < Math.min(k.high ?? Infinity, d.high ?? Infinity);
  if (overlap) overlaps++;
  console.log(`${i + 1} | ${i % 2 ? 'db first' : 'knee first'} | ${ratio.toFixed(3)} | ${overlap ? 'yes' : 'no'} | ${holds(k, d.capacity) ? 'yes' : 'no'} | ${holds(d, k.capacity) ? 'yes' : 'no'}`);
}
if (pairs) {
  const mean = ratios.reduce((a, x) => a + x, 0) / pairs;
  console.log(`pairs: ${pairs}; knee/db capacity ratio mean ${mean.toFixed(3)}, min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)}; brackets overlap in ${overlaps}/${pairs}`);
}
