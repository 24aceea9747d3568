import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNet } from '../../src/app/net.js';
import { downHosts, nsProcesses, rmHome, tempHome, upHosts, writeState } from './net-support.js';
import type { NetHost } from '../../src/workloads/net/tools/types.js';

let hosts: NetHost[];
let home: string;

beforeAll(() => {
  hosts = upHosts(['control', 'worker']);
  home = tempHome('netpcp', 'platform: {kind: local}\nroles: {control: 1, worker: 1}\nnet:\n  server_role: worker\n  client_role: control\n  duration: 3\n  pcp: true\n');
});
afterAll(() => {
  downHosts();
  rmHome(home);
});

describe('net with PCP on namespace hosts', () => {
  it('records pmlogger archives on server and client, summarises CPU, memory and eth0 traffic, and stops pmcd/pmlogger', async () => {
    const out = await runNet({ exp: 'netpcp', hosts, tool: 'iperf3' });
    const rec = JSON.parse(readFileSync(join(out.dir, 'run.json'), 'utf8'));
    expect(rec.status).toBe('completed');
    expect(rec.results.pcpErrors).toBeUndefined();
    for (const h of ['net1', 'net2']) {
      const files = readdirSync(join(out.dir, h, 'pcp'));
      expect(files).toEqual(expect.arrayContaining([`${h}.0`, `${h}.index`, `${h}.meta`, 'rates.csv', 'counters.csv']));
      const s = rec.results.pcp[h];
      expect(s.samples).toBeGreaterThanOrEqual(2);
      expect(s.cpuPercent.busy.mean).toBeGreaterThan(0);
      expect(s.memory.usedKiB.mean).toBeGreaterThan(0);
      expect(Object.keys(s.network).sort()).toEqual(['eth0', 'lo']);
    }
    // iperf3's data went from the client (net1) to the server (net2): every byte the server received
    // (iperf3's own count) is in the recorded eth0 counters, which cover the run's window.
    const received = JSON.parse(readFileSync(join(out.dir, 'client.out'), 'utf8')).end.sum_received.bytes as number;
    expect(received).toBeGreaterThan(0);
    expect(rec.results.pcp.net2.network.eth0.inBytes).toBeGreaterThanOrEqual(received);
    expect(rec.results.pcp.net1.network.eth0.outBytes).toBeGreaterThanOrEqual(received);
    for (const h of ['net1', 'net2']) {
      expect(rec.results.pcp[h].start).toBeLessThanOrEqual(rec.window.start);
      expect(rec.results.pcp[h].end).toBeGreaterThanOrEqual(rec.window.end);
    }
    expect(rec.files).toContain('net2/pcp/net2.meta');
    expect(nsProcesses('net1')).toEqual(['sshd']);
    expect(nsProcesses('net2')).toEqual(['sshd']);
    // The hosts' copies are removed once collected.
    expect(existsSync(join(hosts[0]!.dataDir, 'pcp', rec.id))).toBe(false);
  });

  it('with net-tools.yml before the run (install_tools: always), the playbook runs on the two hosts; a second time it changes nothing', async () => {
    writeState(home, 'netpcp', hosts);
    const run = async () => {
      const lines: string[] = [];
      const out = await runNet({ exp: 'netpcp', tool: 'sockperf', set: ['net.install_tools=always', 'net.duration=1', 'net.pcp=false'], progress: (l) => lines.push(l) });
      expect(out.record.status).toBe('completed');
      expect(lines.join('\n')).toMatch(/installing on net2, net1: sockperf \(net-tools.yml\)/);
      return out;
    };
    await run();
    const logs = readdirSync(join(home, '.greenrace', 'netpcp', 'logs'));
    expect(logs.some((f) => f.includes('net-tools'))).toBe(true);
    // The tools are there now (the first run may create the hosts' run folders): a second run is idempotent.
    const again = await run();
    expect(again.record.parameters.toolsInstalled).toMatchObject({ playbook: 'net-tools', hosts: ['net2', 'net1'], changed: 0 });
  });
});
