import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMatrix } from '../../src/app/net.js';
import { downHosts, NET, nsProcesses, PREFIX, rmHome, tempHome, upHosts } from './net-support.js';
import { execFileSync } from 'node:child_process';
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
  home = tempHome('matrix', 'platform: {kind: local}\nroles: {control: 1, worker: 3}\nnet:\n  matrix: {duration: 2}\n');
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

/** A direct `netperf -t TCP_RR -- -r 32,1024` from one namespace host to another (its own netserver on a spare port): p50 µs. */
function directNetperfP50(origin: string, destination: NetHost): number {
  const server = spawn('ip', ['netns', 'exec', destination.name, 'netserver', '-D', '-p', '12999'], { stdio: 'ignore' });
  try {
    execFileSync('sleep', ['0.5']);
    const out = execFileSync('ip', ['netns', 'exec', origin, 'netperf', '-H', destination.address, '-p', '12999', '-l', '2', '-t', 'TCP_RR', '-P', '0', '--', '-r', '32,1024', '-k', 'P50_LATENCY'], { encoding: 'utf8' });
    const m = /P50_LATENCY=(\d+(?:\.\d+)?)/.exec(out);
    if (!m) throw new Error(`no P50_LATENCY in: ${out}`);
    return Number(m[1]);
  } finally {
    server.kill('SIGTERM');
  }
}

const matrixCsv = (id: string): string => readFileSync(join(home, 'results', 'matrix', id, 'latency.csv'), 'utf8');

/**
 * Two latency measurements taken seconds apart on this shared 2-core machine can differ by a burst
 * of background load (one CI run read sockperf 3x netperf while a Kubernetes control plane ran
 * beside the tests). A conversion error (a half round trip left undoubled, or doubled twice) is
 * systematic and shows in every attempt; a burst does not. So up to 3 attempts, each measuring both
 * sides back to back, stopping at the first that agrees within 25 %; the caller asserts one did.
 */
async function agreeing(measure: (attempt: number) => Promise<[number, number]>): Promise<Array<[number, number]>> {
  const seen: Array<[number, number]> = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const [a, b] = await measure(attempt);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    seen.push([a, b]);
    if (Math.abs(a - b) / b < 0.25) break;
  }
  return seen;
}

const p50Of = (csvText: string, origin: string, destination: string): number => {
  const line = csvText.split('\n').find((l) => l.startsWith(`${origin},${destination},`));
  if (!line) throw new Error(`no row ${origin} → ${destination}`);
  return Number(line.split(',')[2]);
};

describe('latency matrix on 4 hosts: netperf TCP_RR by default', () => {
  const h = (i: number) => `${PREFIX}${i}`;
  let netperfCsv = '';

  it('12 ordered pairs in the CSV and 36 series in Prometheus via the Pushgateway, labelled tool and unit', async () => {
    const [rec] = await runMatrix({ exp: 'matrix', hosts, pushgatewayUrl: `http://${PG}` });
    expect(rec!.status).toBe('completed');
    expect(rec!.parameters).toMatchObject({ tool: 'netperf', request_size: 32, response_size: 1024, latency: 'round_trip', unit: 'microseconds' });
    netperfCsv = readFileSync(join(home, 'results', 'matrix', rec!.id, 'latency.csv'), 'utf8');
    const csv = netperfCsv.trim().split('\n');
    expect(csv[0]).toBe('origin,destination,netperf_p50_latency_microseconds,netperf_p90_latency_microseconds,netperf_p99_latency_microseconds,tool,latency');
    const pairs = csv.slice(1).map((l) => l.split(',').slice(0, 2).join('>'));
    expect(pairs).toHaveLength(12);
    expect(new Set(pairs).size).toBe(12);
    for (const l of csv.slice(1)) {
      const [, , p50, p90, p99] = l.split(',').map(Number);
      expect(p50).toBeGreaterThan(0);
      expect(p99!).toBeGreaterThanOrEqual(p90!);
      expect(l.endsWith(',netperf,round_trip')).toBe(true);
    }
    expect(rec!.results!.rounds).toBe(6);
    const expr = 'count({__name__=~"netperf_p(50|90|99)_latency_microseconds", job="greenrace_latency", experiment="matrix", tool="netperf", unit="microseconds", latency="round_trip"})';
    let n = 0;
    for (let i = 0; i < 30 && n < 36; i++) {
      n = await promCount(expr);
      if (n < 36) await new Promise((r) => setTimeout(r, 500));
    }
    expect(n).toBe(36);
    expect(await promCount(`count(netperf_p90_latency_microseconds{origin="${h(1)}", destination="${h(2)}"})`)).toBe(1);
    // The matrix is a run like the others: its window was pushed too.
    expect(rec!.windowPush).toEqual({ url: `http://${PG}`, job: 'greenrace_run' });
    for (const x of hosts) expect(nsProcesses(x.name)).toEqual(['sshd']);
  });

  it("its p50 equals a direct netperf -t TCP_RR -r 32,1024 between one pair within 25 %", async () => {
    const seen = await agreeing(async (attempt) => {
      const csv = attempt === 0 ? netperfCsv : matrixCsv((await runMatrix({ exp: 'matrix', hosts, pushgatewayUrl: `http://${PG}`, mode: 'ring' }))[0]!.id);
      return [p50Of(csv, h(1), h(2)), directNetperfP50(h(1), hosts[1]!)];
    });
    console.log(`${h(1)} → ${h(2)}: matrix p50 / direct netperf TCP_RR p50 (µs): ${seen.map(([a, b]) => `${a} / ${b}`).join('; ')}`);
    expect(seen.some(([a, b]) => Math.abs(a - b) / b < 0.25)).toBe(true);
  });

  it("sockperf's values, converted to round trips, are within 25 % of netperf's", async () => {
    const seen = await agreeing(async () => {
      const [rec] = await runMatrix({ exp: 'matrix', hosts, pushgatewayUrl: `http://${PG}`, mode: 'ring', overrides: [{ path: 'net.matrix.tool', value: 'sockperf', flag: '--tool' }] });
      expect(rec!.parameters).toMatchObject({ tool: 'sockperf', latency: 'round_trip_2x_half' });
      const csv = matrixCsv(rec!.id);
      expect(csv.split('\n')[1]).toMatch(/,sockperf,round_trip_2x_half$/);
      const raw = JSON.parse(readFileSync(join(home, 'results', 'matrix', rec!.id, 'raw.json'), 'utf8')) as Record<string, string>;
      const half = Number(/percentile 50\.000 =\s+([\d.]+)/.exec(raw[`${h(1)}→${h(2)}`]!)![1]);
      const sock = p50Of(csv, h(1), h(2));
      // The conversion itself is exact: the CSV holds twice sockperf's own half round trip.
      expect(sock).toBeCloseTo(2 * half, 2);
      return [sock, directNetperfP50(h(1), hosts[1]!)];
    });
    console.log(`${h(1)} → ${h(2)}: sockperf round trip p50 / netperf TCP_RR p50 (µs): ${seen.map(([a, b]) => `${a} / ${b}`).join('; ')}`);
    expect(seen.some(([a, b]) => Math.abs(a - b) / b < 0.25)).toBe(true);
  });

  it('random: each host to a random other host, one measurement per origin', async () => {
    const [rec] = await runMatrix({ exp: 'matrix', hosts, pushgatewayUrl: `http://${PG}`, mode: 'random' });
    const rows = rec!.results!.rows as Array<{ origin: string; destination: string; latency: unknown }>;
    expect(rows.map((r) => r.origin).sort()).toEqual(hosts.map((x) => x.name).sort());
    expect(rows.every((r) => r.origin !== r.destination && r.latency)).toBe(true);
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
