#!/usr/bin/env node
// bench/search/real.mjs <exp> [--repeats N] [--start LOAD] — on a set-up experiment, run
// `entrypoint search` N times with each strategy (knee, double-bisect) from the same start load,
// alternating them, and print trials, wall time, capacity and bracket per search, then the means.
// Run it alone on a quiet machine; it takes several minutes per search.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const exp = args.find((a) => !a.startsWith('--'));
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
if (!exp) {
  console.error('usage: node bench/search/real.mjs <exp> [--repeats 3] [--start 2000] [--max-load 400000]');
  process.exit(2);
}
const repeats = Number(opt('--repeats', '3'));
const entry = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'entrypoint.js');
const rows = [];
for (let i = 0; i < repeats; i++)
  for (const strategy of ['knee', 'double-bisect']) {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [entry, 'search', exp, '--strategy', strategy, '--start', opt('--start', '2000'), '--max-load', opt('--max-load', '400000'), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const wall = (Date.now() - t0) / 1000;
    const json = r.stdout.slice(r.stdout.indexOf('\n{') + 1);
    let rec;
    try {
      rec = JSON.parse(json);
    } catch {
      console.error(`${strategy} #${i + 1} failed (exit ${r.status}):\n${r.stderr.split('\n').slice(-10).join('\n')}`);
      continue;
    }
    const res = rec.result;
    const load = spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ')[0];
    rows.push({ strategy, trials: res.trials, wall, capacity: res.capacity, low: res.bracket.low, high: res.bracket.high, within: res.withinPrecision, load });
    console.log(`${strategy.padEnd(13)} #${i + 1}: ${res.trials} trials, ${wall.toFixed(0)} s, capacity ${Math.round(res.capacity)} msg/s, bracket [${Math.round(res.bracket.low)}, ${Math.round(res.bracket.high)}]${res.withinPrecision ? '' : ' NOT within precision'}, load avg ${load}, ${rec.id}`);
  }
for (const s of ['knee', 'double-bisect']) {
  const r = rows.filter((x) => x.strategy === s);
  if (!r.length) continue;
  const m = (k) => r.reduce((a, x) => a + x[k], 0) / r.length;
  console.log(`${s}: mean ${m('trials').toFixed(1)} trials, ${m('wall').toFixed(0)} s, capacity ${Math.round(m('capacity'))} msg/s over ${r.length} searches`);
}
