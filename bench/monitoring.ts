/**
 * Monitoring bench: for 3 and 12 namespace hosts on the local platform (10.81.0.0/24), the time from
 * `setup` start to every Prometheus target up, and the resident memory of Prometheus, the node
 * exporters and the Pushgateway once running (after a settle time). Needs root.
 *
 *   npx tsx bench/monitoring.ts [--hosts 3,12] [--settle 30] [--json out.json]
 *
 * Figures: bench/README-monitoring.md.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { PrometheusClient } from '../src/metrics/prometheus.js';

const REPO = resolve(import.meta.dirname, '..');
const TSX = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};
const sizes = arg('--hosts', '3,12').split(',').map(Number);
const settle = Number(arg('--settle', '30'));
const jsonOut = arg('--json', '');

if (process.getuid?.() !== 0) throw new Error('bench/monitoring.ts needs root (network namespaces)');

function rssByKind(dir: string): Record<string, { count: number; rssMiB: number }> {
  const out: Record<string, { count: number; rssMiB: number }> = {};
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!cmd.includes(dir)) continue;
      const kind = /node-exporter/.test(cmd) ? 'node_exporter' : /pushgateway/.test(cmd) ? 'pushgateway' : /\/prometheus /.test(cmd) ? 'prometheus' : undefined;
      if (!kind) continue;
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      const e = (out[kind] ??= { count: 0, rssMiB: 0 });
      e.count++;
      e.rssMiB += kb / 1024;
    } catch {
      /* gone */
    }
  }
  return out;
}

const cli = (home: string, args: string[]) =>
  execa(process.execPath, ['--import', TSX, join(REPO, 'entrypoint.ts'), ...args], { cwd: home, env: { GREENRACE_HOME: home, NO_COLOR: '1' }, reject: false, all: true });

const results: unknown[] = [];
for (const n of sizes) {
  const home = mkdtempSync(join(tmpdir(), 'gr-bench-mon-'));
  mkdirSync(join(home, 'experiments'));
  const exp = 'benchmon';
  writeFileSync(
    join(home, 'experiments', `${exp}.yaml`),
    `description: monitoring bench\nplatform: {kind: local, local: {subnet: 10.81.0.0/24}}\nroles: {control: 1, broker: 0, worker: ${n - 1}}\nservices: [node_exporter, pushgateway, prometheus]\nmonitoring: {scrape_interval: 2s}\n`,
  );
  try {
    const t0 = Date.now();
    const r = await cli(home, ['setup', exp]);
    const setupS = (Date.now() - t0) / 1000;
    if (r.exitCode !== 0) throw new Error(`setup failed for ${n} hosts:\n${r.all?.slice(-3000)}`);
    const st = JSON.parse(readFileSync(join(home, '.greenrace', exp, 'state.json'), 'utf8'));
    const prom = new PrometheusClient(st.endpoints.prometheus_url);
    const targets = await prom.waitForTargets({ timeoutMs: 120_000, minTargets: n + 2, intervalMs: 200 });
    const upS = (Date.now() - t0) / 1000;
    await new Promise((res) => setTimeout(res, settle * 1000));
    const rss = rssByKind(home);
    const row = { hosts: n, targets: targets.length, setupSeconds: setupS, allTargetsUpSeconds: upS, settleSeconds: settle, rss };
    console.log(JSON.stringify(row));
    results.push(row);
  } finally {
    const k = await cli(home, ['killjob', exp]);
    if (k.exitCode !== 0) console.error(`killjob failed:\n${k.all?.slice(-2000)}`);
    rmSync(home, { recursive: true, force: true });
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2) + '\n');
