import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNet } from '../../src/app/net.js';
import { downHosts, nsProcesses, rmHome, tempHome, upHosts } from './net-support.js';
import type { NetHost } from '../../src/workloads/net/tools/types.js';

let hosts: NetHost[];
let home: string;

beforeAll(() => {
  hosts = upHosts(['control', 'worker']);
  home = tempHome('nettest', 'platform: {kind: local}\nroles: {control: 1, worker: 1}\nnet:\n  server_role: worker\n  client_role: control\n  duration: 2\n');
});
afterAll(() => {
  downHosts();
  rmHome(home);
});

describe('net iperf3 between two namespace hosts', () => {
  it('gives a run record with throughput > 0, the server on the other host, and stops the server', async () => {
    const out = await runNet({ exp: 'nettest', hosts, tool: 'iperf3' });
    const rec = JSON.parse(readFileSync(join(out.dir, 'run.json'), 'utf8'));
    expect(rec.status).toBe('completed');
    expect(rec.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rec.parameters.server).toBe('net2');
    expect(rec.parameters.client).toBe('net1');
    expect(rec.results.throughputBitsPerSecond).toBeGreaterThan(0);
    expect(rec.results.retransmits).not.toBeUndefined();
    expect(rec.results.cpu.localPercent).toBeGreaterThan(0);
    expect(rec.hosts.map((h: { name: string }) => h.name)).toEqual(['net2', 'net1']);
    expect(rec.hosts[0].kernel).toBeTruthy();
    expect(rec.window.end).toBeGreaterThan(rec.window.start);
    expect(JSON.parse(readFileSync(join(out.dir, 'client.out'), 'utf8')).start.connecting_to.host).toBe('10.83.0.12');
    expect(readFileSync(join(home, 'results', 'nettest', 'runs.csv'), 'utf8')).toContain(rec.id);
    expect(nsProcesses('net2')).toEqual(['sshd']);
  });

  it('sockperf between the same hosts gives p50 <= p90 <= p99', async () => {
    const out = await runNet({ exp: 'nettest', hosts, tool: 'sockperf', set: ['net.duration=1'] });
    const l = out.result!.latencyMicroseconds!;
    expect(l.p50).toBeGreaterThan(0);
    expect(l.p90).toBeGreaterThanOrEqual(l.p50);
    expect(l.p99).toBeGreaterThanOrEqual(l.p90);
  });

  it('a tool that is not installed fails before anything runs, naming host and program', async () => {
    await expect(runNet({ exp: 'nettest', hosts, tool: 'uperf' })).rejects.toThrow(/uperf is not installed: missing uperf on net[12], uperf on net[12]/);
    const recs = readFileSync(join(home, 'results', 'nettest', 'runs.csv'), 'utf8');
    expect(recs.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('refuses to put server and client on the same host unless asked', async () => {
    await expect(runNet({ exp: 'nettest', hosts, tool: 'iperf3', set: ['net.client_role=worker'] })).rejects.toThrow(/would both be net2/);
    expect(existsSync(join(home, 'results'))).toBe(true);
  });
});
