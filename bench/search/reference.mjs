#!/usr/bin/env node
// bench/search/reference.mjs <exp> --loads 190000,200000,210000 [--repeats 3] [--rest 70] [--seed 1]
//                                   [--after <load>] [--trial-warmup 1s] [--trial-duration 15s]
// A capacity measured without a search, to judge the searches' answers against: every listed load
// is run --repeats times, each run rested (--rest seconds of no load before it), in a seeded random
// order (so a drift of the broker over the bench falls on every load alike), each judged by the
// searches' default SLO (achieved ≥ 95 % of target and no overdue message, the generator's 250 ms
// grace). Per load: passes out of runs and the achieved rates. Two reference capacities follow:
//   - majority: the highest load that passed in more than half its runs, every lower load too;
//   - once: the highest load that passed at least once (what a single lucky trial can show).
// With --after <load>, every measured run is preceded, with no rest between, by one run at that
// load (its verdict printed, not counted): does a heavy trial right before change the verdict?
// Run it alone on a quiet machine: 1 + rest + trial seconds per run (≈ 90 s with the defaults).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const exp = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const usage = 'usage: node bench/search/reference.mjs <exp> --loads 190000,200000,210000 [--repeats 3] [--rest 70] [--seed 1] [--after <load>] [--trial-warmup 1s] [--trial-duration 15s]';
const fail = (m) => {
  console.error(m);
  process.exit(2);
};
if (!exp) fail(usage);
const loads = String(opt('--loads', '')).split(',').filter(Boolean).map(Number);
if (!loads.length || !loads.every((l) => Number.isFinite(l) && l > 0)) fail(`--loads ${opt('--loads', '')}: expected loads in msg/s, comma-separated (e.g. 190000,200000,210000)\n${usage}`);
const num = (k, d, ok) => {
  const v = Number(opt(k, d));
  if (!ok(v)) fail(`${k} ${opt(k, d)}: not a valid value`);
  return v;
};
const repeats = num('--repeats', '3', (v) => Number.isInteger(v) && v >= 1);
const rest = num('--rest', '70', (v) => v >= 0);
const seed = num('--seed', '1', (v) => Number.isInteger(v));
const after = args.includes('--after') ? num('--after', '', (v) => v > 0) : null;
const warmup = opt('--trial-warmup', '1s');
const duration = opt('--trial-duration', '15s');
const entry = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'entrypoint.js');
const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

function ingest(load) {
  return new Promise((resolve, reject) => {
    const p = spawn('node', [entry, 'ingest', exp, '--load', String(load), '--warmup', warmup, '--duration', duration, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The searches' default SLO on a run record: ≥ 95 % of target, no overdue message. */
function verdict(rec, load) {
  const r = rec.results ?? {};
  const achieved = typeof r.achieved_rate === 'number' ? r.achieved_rate : null;
  const overdue = typeof r.messages_overdue === 'number' ? r.messages_overdue : null;
  const pass = achieved !== null && achieved >= 0.95 * load && overdue === 0;
  return { achieved, overdue, pass };
}

// mulberry32: a small seeded generator, so the order can be reproduced.
let s = seed >>> 0;
const rand = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const order = loads.flatMap((l) => Array.from({ length: repeats }, () => l));
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}

console.log(`reference: ${exp}, loads ${loads.join(', ')} msg/s × ${repeats}, rest ${rest} s before each${after ? `, each right after a run at ${after} msg/s` : ''}, trials ${warmup} + ${duration}, order seed ${seed}; ${new Date().toISOString()}, load ${load1().toFixed(2)}`);
const rows = [];
for (const [k, load] of order.entries()) {
  await new Promise((r) => setTimeout(r, rest * 1000));
  let pre = '';
  if (after) {
    const rec = await ingest(after);
    const v = verdict(rec, after);
    pre = `  after ${after}: ${v.pass ? 'pass' : 'FAIL'} (achieved ${v.achieved ?? '—'}, overdue ${v.overdue ?? '—'})`;
  }
  const l0 = load1();
  const rec = await ingest(load);
  const v = verdict(rec, load);
  rows.push({ load, ...v, id: rec.id });
  console.log(`${String(k + 1).padStart(3)}/${order.length}  target ${String(load).padStart(7)}  achieved ${String(v.achieved ?? '—').padStart(9)} msg/s  overdue ${String(v.overdue ?? '—').padStart(8)}  ${v.pass ? 'pass' : 'FAIL'}  load ${l0.toFixed(2)}  ${rec.id}${pre}`);
}
console.log('per load: passes / runs, achieved msg/s (mean, min–max)');
let majority = null;
let broken = false;
for (const l of [...loads].sort((a, b) => a - b)) {
  const rs = rows.filter((r) => r.load === l);
  const p = rs.filter((r) => r.pass).length;
  const a = rs.map((r) => r.achieved).filter((x) => x !== null);
  const mean = a.length ? a.reduce((x, y) => x + y, 0) / a.length : null;
  console.log(`  ${String(l).padStart(7)}  ${p}/${rs.length}  ${mean === null ? '—' : `${mean.toFixed(0)} (${Math.min(...a).toFixed(0)}–${Math.max(...a).toFixed(0)})`}`);
  if (!broken && p * 2 > rs.length) majority = l;
  else broken = true;
}
const once = rows.filter((r) => r.pass).reduce((m, r) => Math.max(m, r.load), -Infinity);
console.log(`reference capacity, majority: ${majority ?? `below ${Math.min(...loads)}`} msg/s; passed once: ${Number.isFinite(once) ? once : 'none'} msg/s`);
console.log(`ended ${new Date().toISOString()}, load ${load1().toFixed(2)}`);
