import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMatrix } from '../../src/app/net.js';
import { downHosts, NET, nsProcesses, rmHome, tempHome, upHosts } from './net-support.js';
import type { NetHost } from '../../src/workloads/net/tools/types.js';

// Prometheus and a Pushgateway on the bridge address (where the hosts reach the controller).
const PG = `${NET}.1:19391`;
const PROM = `${NET}.1:19390`;
let hosts: NetHost[];
let home: string;
let promDir: string;
const procs: ChildProcess[] = [];

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer`);
}

async function promCount(expr: string): Promise<number> {
  const r = (await (await fetch(`http://${PROM}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
  return r.data.result.length ? Number(r.data.result[0]!.value[1]) : 0;
}

beforeAll(async () => {
  hosts = upHosts(['control', 'worker', 'worker', 'worker']);
  home = tempHome('matrix', 'platform: {kind: local}\nroles: {control: 1, worker: 3}\nnet:\n  matrix: {duration: 1}\n');
  promDir = mkdtempSync(join(tmpdir(), 'gr-prom-'));
  writeFileSync(
    join(promDir, 'prometheus.yml'),
    `global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs: [{targets: ['${PG}']}]\n`,
  );
  procs.push(spawn('prometheus-pushgateway', [`--web.listen-address=${PG}`], { stdio: 'ignore' }));
  procs.push(
    spawn('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=${PROM}`], { stdio: 'ignore' }),
  );
  await waitHttp(`http://${PG}/-/ready`);
  await waitHttp(`http://${PROM}/-/ready`);
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  downHosts();
  rmHome(home);
  rmSync(promDir, { recursive: true, force: true });
});

describe('sockperf latency matrix on 4 hosts', () => {
  it('12 ordered pairs in the CSV and 36 series in Prometheus via the Pushgateway', async () => {
    const [rec] = await runMatrix({ exp: 'matrix', hosts, pushgatewayUrl: `http://${PG}` });
    expect(rec!.status).toBe('completed');
    const csv = readFileSync(join(home, 'results', 'matrix', rec!.id, 'latency.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('origin,destination,netperf_p50_latency_microseconds,netperf_p90_latency_microseconds,netperf_p99_latency_microseconds');
    const pairs = csv.slice(1).map((l) => l.split(',').slice(0, 2).join('>'));
    expect(pairs).toHaveLength(12);
    expect(new Set(pairs).size).toBe(12);
    for (const l of csv.slice(1)) {
      const [, , p50, p90, p99] = l.split(',').map(Number);
      expect(p50).toBeGreaterThan(0);
      expect(p99!).toBeGreaterThanOrEqual(p90!);
    }
    expect(rec!.results!.rounds).toBe(6);
    const expr = 'count({__name__=~"netperf_p(50|90|99)_latency_microseconds", job="greenrace_latency", experiment="matrix"})';
    let n = 0;
    for (let i = 0; i < 30 && n < 36; i++) {
      n = await promCount(expr);
      if (n < 36) await new Promise((r) => setTimeout(r, 500));
    }
    expect(n).toBe(36);
    expect(await promCount('count(netperf_p90_latency_microseconds{origin="net1", destination="net2"})')).toBe(1);
    for (const h of hosts) expect(nsProcesses(h.name)).toEqual(['sshd']);
  });

  it('ring with --every repeats (bounded by count), replacing the pushed group each time', async () => {
    const seen: number[] = [];
    const recs = await runMatrix({ exp: 'matrix', hosts, pushgatewayUrl: `http://${PG}`, mode: 'ring', every: 0.5, count: 2, onMatrix: (m) => seen.push(m.rows.length) });
    expect(recs.map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(seen).toEqual([4, 4]);
    // PUT replaced the all-pairs group: only the ring's 4 pairs remain on the Pushgateway.
    const body = await (await fetch(`http://${PG}/metrics`)).text();
    expect(body.split('\n').filter((l) => l.startsWith('netperf_p50_latency_microseconds{'))).toHaveLength(4);
  });

  it('an abort stops the repetition and leaves no latency server running', async () => {
    const ac = new AbortController();
    const recs = await runMatrix({ exp: 'matrix', hosts, pushgatewayUrl: `http://${PG}`, mode: 'ring', every: 60, signal: ac.signal, onMatrix: () => ac.abort() });
    expect(recs).toHaveLength(1);
    for (const h of hosts) expect(nsProcesses(h.name)).toEqual(['sshd']);
  });
});
