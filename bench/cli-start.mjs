// bench/cli-start: start time of the CLI, `node dist/entrypoint.js --help`, median of N runs.
// Usage: npx tsc -p tsconfig.json && node bench/cli-start.mjs [runs=10]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 10);
const times = [];
for (let i = 0; i < runs; i++) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'dist', 'entrypoint.js'), '--help'], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0 || !r.stdout.includes('setup')) throw new Error(`--help failed: ${r.status} ${r.stderr}`);
  times.push(ms);
}
times.sort((a, b) => a - b);
const median = runs % 2 ? times[(runs - 1) / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
console.log(JSON.stringify({ bench: 'cli-start', runs, median_s: +(median / 1000).toFixed(3), min_s: +(times[0] / 1000).toFixed(3), max_s: +(times[runs - 1] / 1000).toFixed(3), loadavg_1m: +loadavg()[0].toFixed(1) }));
