#!/usr/bin/env node
// bench/search/carryover.mjs <exp> [--probe 240000] [--overload 400000] [--cycles 4] [--rest 70] [--gaps 0]
//                                  [--trial-warmup 1s] [--trial-duration 15s] [--warm-up 60]
// Does an overloaded trial slow the trial right after it? The knee search runs overloaded trials
// (its ramp, its gallop's top) and then trials near the capacity; double-bisect reaches the capacity
// from below. If an overload leaves the broker slower for a while (a topic's logs deleted
// `file.delete.delay.ms` = 60 s after the topic, the JVM's heap, the page cache), the knee's later
// trials read low.
// Each cycle: wait --rest seconds, run the probe load ("rested"), run the overload, run the probe
// again after the cycle's gap (--gaps 0,20,40: cycle i waits the i-th, round robin; default 0: at
// once) ("after overload"). The probe should sit at or a little above the capacity, so its
// achieved rate is what the broker carried (a probe that passes reads its target, which says less).
// First, --warm-up seconds at the overload load (0: none), not counted: the broker's JIT and segments.
// Per run: achieved msg/s, overdue messages, saturated, and the bytes in the brokers' log folders
// that Kafka has marked for deletion (`*-delete` folders) when the run started.
// Prints a line per run as it ends, then per kind (rested / after overload) the mean and the range
// of achieved, and the mean difference of each cycle's pair. Run it alone on a quiet machine.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const exp = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
if (!exp) {
  console.error('usage: node bench/search/carryover.mjs <exp> [--probe 240000] [--overload 400000] [--cycles 4] [--rest 70] [--trial-warmup 1s] [--trial-duration 15s] [--warm-up 60]');
  process.exit(2);
}
const num = (k, d, ok) => {
  const v = Number(opt(k, d));
  if (!ok(v)) {
    console.error(`${k} ${opt(k, d)}: not a valid value`);
    process.exit(2);
  }
  return v;
};
const probe = num('--probe', '240000', (v) => v > 0);
const overload = num('--overload', '400000', (v) => v > 0);
const gaps = String(opt('--gaps', '0')).split(',').map(Number);
if (!gaps.every((g) => Number.isFinite(g) && g >= 0)) {
  console.error(`--gaps ${opt('--gaps')}: expected seconds ≥ 0, comma-separated (e.g. 0,20,40,60)`);
  process.exit(2);
}
const cycles = num('--cycles', String(Math.max(4, gaps.length)), (v) => Number.isInteger(v) && v >= 1);
const rest = num('--rest', '70', (v) => v >= 0);
const warmup = opt('--trial-warmup', '1s');
const duration = opt('--trial-duration', '15s');
const warmS = num('--warm-up', '60', (v) => v >= 0);
const entry = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'entrypoint.js');
const home = process.env.GREENRACE_HOME ?? process.cwd();

/** Bytes in folders Kafka renamed for deletion under the experiment's home (local platform: the brokers' log dirs are on this machine). */
function pendingDeleteBytes() {
  try {
    const out = execFileSync('bash', ['-c', `find ${JSON.stringify(home)} -type d -name '*-delete' -prune -exec du -sb {} + 2>/dev/null | awk '{s+=$1} END {print s+0}'`], { encoding: 'utf8' });
    return Number(out.trim());
  } catch {
    return null;
  }
}

const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

function ingest(load, d = duration) {
  return new Promise((resolve, reject) => {
    const p = spawn('node', [entry, 'ingest', exp, '--load', String(load), '--warmup', warmup, '--duration', d, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const i = out.indexOf('\n{');
      try {
        resolve(JSON.parse(i >= 0 ? out.slice(i + 1) : out.slice(out.indexOf('{'))));
      } catch {
        reject(new Error(`ingest --load ${load} exited ${code} without a record:\n${err.slice(-2000)}`));
      }
    });
  });
}

const rows = [];
async function one(kind, cycle, load, gap) {
  const pending = pendingDeleteBytes();
  const l0 = load1();
  const t0 = Date.now();
  const rec = await ingest(load);
  const r = rec.results ?? {};
  const row = { cycle, kind, load, gap, id: rec.id, achieved: r.achieved_rate ?? null, overdue: r.messages_overdue ?? null, saturated: r.saturated ?? null, pendingGB: pending === null ? null : pending / 1e9, seconds: (Date.now() - t0) / 1000, load1: l0 };
  rows.push(row);
  console.log(
    `cycle ${cycle} ${(gap !== undefined ? `${kind} +${gap}s` : kind).padEnd(20)} target ${String(load).padStart(7)}  achieved ${String(row.achieved ?? '—').padStart(9)} msg/s  overdue ${String(row.overdue ?? '—').padStart(8)}  saturated ${String(row.saturated).padEnd(5)}  pending deletion ${row.pendingGB === null ? '—' : row.pendingGB.toFixed(2) + ' GB'}  ${row.seconds.toFixed(0)} s  load ${l0.toFixed(2)}  ${rec.id}`,
  );
}

console.log(`carry-over: ${exp}, probe ${probe} msg/s, overload ${overload} msg/s, ${cycles} cycles, rest ${rest} s, trials ${warmup} + ${duration}; ${new Date().toISOString()}`);
if (warmS > 0) {
  const w = await ingest(overload, `${warmS}s`);
  console.log(`warm-up (not counted): ${overload} msg/s for ${warmS} s, achieved ${w.results?.achieved_rate ?? '—'} msg/s, ${w.id}`);
}
for (let c = 1; c <= cycles; c++) {
  await new Promise((r) => setTimeout(r, rest * 1000));
  await one('rested', c, probe);
  await one('overload', c, overload);
  const gap = gaps[(c - 1) % gaps.length];
  if (gap > 0) await new Promise((r) => setTimeout(r, gap * 1000));
  await one('after-overload', c, probe, gap);
}
const stat = (xs) => (xs.length ? { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs) } : null);
for (const kind of ['rested', 'after-overload', 'overload']) {
  const s = stat(rows.filter((r) => r.kind === kind && r.achieved !== null).map((r) => r.achieved));
  const sat = rows.filter((r) => r.kind === kind && r.saturated).length;
  if (s) console.log(`${kind.padEnd(15)} achieved mean ${s.mean.toFixed(0)} msg/s, range ${s.min.toFixed(0)}–${s.max.toFixed(0)}; saturated ${sat} of ${rows.filter((r) => r.kind === kind).length}`);
}
const diffs = [];
for (let c = 1; c <= cycles; c++) {
  const a = rows.find((r) => r.cycle === c && r.kind === 'rested');
  const b = rows.find((r) => r.cycle === c && r.kind === 'after-overload');
  if (a?.achieved && b?.achieved) diffs.push(b.achieved / a.achieved - 1);
}
if (diffs.length) console.log(`after-overload vs rested, per cycle: ${diffs.map((d) => `${(d * 100).toFixed(1)} %`).join(', ')}; mean ${((diffs.reduce((a, b) => a + b, 0) / diffs.length) * 100).toFixed(1)} %`);
if (gaps.length > 1)
  for (const g of gaps) {
    const pairs = [];
    for (let c = 1; c <= cycles; c++) {
      const a = rows.find((r) => r.cycle === c && r.kind === 'rested');
      const b = rows.find((r) => r.cycle === c && r.kind === 'after-overload' && r.gap === g);
      if (a?.achieved && b?.achieved) pairs.push(b.achieved / a.achieved - 1);
    }
    if (pairs.length) console.log(`gap ${g} s after the overload: probe vs the cycle's rested probe ${pairs.map((d) => `${(d * 100).toFixed(1)} %`).join(', ')}`);
  }
console.log(`ended ${new Date().toISOString()}, load ${load1().toFixed(2)}`);
