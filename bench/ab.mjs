// Shared by the A/B benches (setup-kafka.mjs, run-overhead.mjs): two checkouts of greenrace, each
// with its own dist/ (`npm ci && npm run build` in each), run one after the other (A B A B ...) so a
// drift of the machine's speed hits both sides alike; per pair the ratio B/A; medians at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** `--a <checkout> --b <checkout> --reps <n>` (B defaults to this checkout). */
export function parseArgs(argv, here) {
  const o = { a: undefined, b: here, reps: 3 };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--a') o.a = resolve(v);
    else if (k === '--b') o.b = resolve(v);
    else if (k === '--reps') o.reps = Number(v);
    else throw new Error(`unknown argument ${k} (use --a <baseline checkout> [--b <checkout>] [--reps n])`);
    i++;
  }
  if (!o.a) throw new Error('--a <baseline checkout> is required (e.g. a worktree of main before the change, built)');
  for (const r of [o.a, o.b]) if (!existsSync(join(r, 'dist', 'entrypoint.js'))) throw new Error(`${r}/dist/entrypoint.js is missing: run npm ci && npm run build there`);
  if (!(o.reps >= 1)) throw new Error('--reps must be at least 1');
  return o;
}

export const load1 = () => +loadavg()[0].toFixed(2);

/** A fresh GREENRACE_HOME with one experiment file. */
export function makeHome(prefix, exp, yaml) {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, 'experiments'));
  writeFileSync(join(home, 'experiments', `${exp}.yaml`), yaml);
  return home;
}

/** `node <root>/dist/entrypoint.js ...args` in `home`: wall seconds, stdout, stderr; throws on a non-zero exit unless `allowFail`. */
export function cli(root, home, args, { allowFail = false } = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'dist', 'entrypoint.js'), ...args], {
    cwd: home,
    env: { ...process.env, GREENRACE_HOME: home, NO_COLOR: '1' },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0 && !allowFail) throw new Error(`${root}: entrypoint ${args.join(' ')} failed (${r.status}):\n${(r.stderr || '').split('\n').slice(-30).join('\n')}`);
  return { s: +s.toFixed(2), status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((p, q) => p - q);
  if (!v.length) return null;
  const m = v.length >> 1;
  return +(v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2).toFixed(3);
};

/** Print per-figure medians of A and B and the median of the per-pair ratios B/A. */
export function summarize(bench, pairs, figures) {
  const out = { bench, summary: true, pairs: pairs.length };
  for (const f of figures) {
    const a = pairs.map((p) => p.a[f]);
    const b = pairs.map((p) => p.b[f]);
    out[f] = { a_median: median(a), b_median: median(b), ratio_b_over_a_median: median(pairs.map((p) => (p.a[f] > 0 && typeof p.b[f] === 'number' ? p.b[f] / p.a[f] : null))) };
  }
  out.loadavg_1m = { min: Math.min(...pairs.flatMap((p) => [p.a.loadavg_1m, p.b.loadavg_1m])), max: Math.max(...pairs.flatMap((p) => [p.a.loadavg_1m, p.b.loadavg_1m])) };
  console.log(JSON.stringify(out));
}
