/**
 * Wall time of the local platform: reserve (fresh), reserve again (converge), status, release, for
 * 3 and 12 hosts. Needs root. Run: `npx tsx bench/platform-local.ts [--repeats 3] [--sizes 3,12]`.
 * Prints a table and writes bench/out/platform-local.json.
 */
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { experimentSchema } from '../src/config/schema/experiment.js';
import { platformFor } from '../src/platforms/index.js';

const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1] || 3) || 3;
const sizes: Array<{ hosts: number; roles: { control: number; broker: number; worker: number } }> = [
  { hosts: 3, roles: { control: 1, broker: 1, worker: 1 } },
  { hosts: 12, roles: { control: 1, broker: 3, worker: 8 } },
];

const only = process.argv.includes('--sizes') ? process.argv[process.argv.indexOf('--sizes') + 1]!.split(',').map(Number) : undefined;
if (only) sizes.splice(0, sizes.length, ...sizes.filter((s) => only.includes(s.hosts)));

if (process.getuid?.() !== 0) {
  console.error('bench/platform-local needs root');
  process.exit(2);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number): string => (ms / 1000).toFixed(2);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

const platform = await platformFor('local');
const results: Array<Record<string, unknown>> = [];
const load0 = loadavg()[0]!;
for (const { hosts, roles } of sizes) {
  const name = `pltbench${hosts}`;
  const stateDir = join(tmpdir(), 'greenrace-bench', name);
  const experiment = experimentSchema.parse({ name, platform: { kind: 'local' }, roles });
  const req = { experiment, roles: experiment.roles, stateDir };
  await platform.release(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  const t = { reserve: [] as number[], converge: [] as number[], status: [] as number[], release: [] as number[] };
  for (let i = 0; i < repeats; i++) {
    let r: number, c: number, s: number;
    try {
      const [handle, tr] = await timed(() => platform.reserve(req));
      const [, tc] = await timed(() => platform.reserve(req, handle));
      const [st, ts] = await timed(() => platform.status(handle));
      if (!st.every((x) => x.reachable)) throw new Error(`unreachable: ${st.filter((x) => !x.reachable).map((x) => `${x.host} (${x.detail})`).join(', ')}`);
      [r, c, s] = [tr, tc, ts];
    } catch (e) {
      await platform.release(stateDir); // leave nothing behind
      throw e;
    }
    const [, rel] = await timed(() => platform.release(stateDir));
    t.reserve.push(r);
    t.converge.push(c);
    t.status.push(s);
    t.release.push(rel);
    rmSync(stateDir, { recursive: true, force: true });
  }
  const row = {
    hosts,
    repeats,
    reserve_s: +fmt(median(t.reserve)),
    converge_s: +fmt(median(t.converge)),
    status_s: +fmt(median(t.status)),
    release_s: +fmt(median(t.release)),
    raw_ms: t,
  };
  results.push(row);
  console.log(
    `${String(hosts).padStart(2)} hosts  reserve ${fmt(median(t.reserve))} s  (min ${fmt(Math.min(...t.reserve))}, max ${fmt(Math.max(...t.reserve))})` +
      `  converge ${fmt(median(t.converge))} s  status ${fmt(median(t.status))} s  release ${fmt(median(t.release))} s  (min ${fmt(Math.min(...t.release))}, max ${fmt(Math.max(...t.release))})`,
  );
}
rmSync(join(tmpdir(), 'greenrace-bench'), { recursive: true, force: true });
const load1 = loadavg()[0]!;
console.log(`medians of ${repeats}; ${cpus().length} cores; 1-min load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`);
mkdirSync(new URL('./out', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./out/platform-local.json', import.meta.url),
  JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, load: [load0, load1], results }, null, 2) + '\n',
);
