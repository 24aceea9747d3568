import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyExperimentNetem, clearNetem, runMatrix, runNet } from '../../src/app/net.js';
import { killjob } from '../../src/app/killjob.js';
import { downHosts, rmHome, tempHome, upHosts, writeState } from './net-support.js';
import type { NetHost } from '../../src/workloads/net/tools/types.js';

let hosts: NetHost[];
let home: string;
const qdiscs = (ns: string): string => execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
/** Whether this kernel has the netem qdisc (it is a kernel build option). */
function kernelHasNetem(): boolean {
  try {
    execFileSync('ip', ['netns', 'exec', 'net1', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'exec', 'net1', 'tc', 'qdisc', 'del', 'dev', 'lo', 'root'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  hosts = upHosts(['control', 'worker', 'worker']);
  home = tempHome('netem', 'platform: {kind: local}\nroles: {control: 1, worker: 2}\nnet:\n  server_role: worker\n  client_role: control\n  duration: 3\n  matrix: {duration: 1}\n');
});
afterAll(() => {
  downHosts();
  rmHome(home);
});

describe('network emulation between roles', () => {
  it('a rate limit (htb) between control and worker caps iperf3, and is removed after the run', async () => {
    const out = await runNet({ exp: 'netem', hosts, tool: 'iperf3', set: ['net.netem=[{between: [control, worker], rate: 50mbit}]'] });
    expect(out.result!.throughputBitsPerSecond!).toBeLessThan(60e6);
    expect(out.result!.throughputBitsPerSecond!).toBeGreaterThan(20e6);
    expect(out.record.parameters.netem).toMatchObject({ net1: [{ peer: 'net2', rate: '50mbit' }, { peer: 'net3', rate: '50mbit' }] });
    for (const h of hosts) expect(qdiscs(h.name)).not.toContain('4e7:');
  });

  it('a 20 ms delay between control and worker shows in the measured matrix (or fails clearly without netem)', async () => {
    const run = runMatrix({ exp: 'netem', hosts, set: ['net.netem=[{between: [control, worker], delay: 20ms}]'] });
    if (kernelHasNetem()) {
      const [rec] = await run;
      const rows = rec!.results!.rows as Array<{ origin: string; destination: string; latency: { p50: number } }>;
      for (const r of rows) {
        const crosses = (r.origin === 'net1') !== (r.destination === 'net1');
        // The matrix reports round trips (netperf TCP_RR): 20 ms each way → ≈ 40000 µs; worker↔worker stays fast.
        if (crosses) expect(Math.abs(r.latency.p50 - 40000)).toBeLessThan(6000);
        else expect(r.latency.p50).toBeLessThan(5000);
      }
    } else {
      await expect(run).rejects.toMatchObject({ code: 'net.netem_unsupported' });
      await expect(run).rejects.toThrow(/has no netem qdisc/);
    }
    for (const h of hosts) expect(qdiscs(h.name)).not.toContain('4e7:');
  });

  it('clearNetem (for killjob) removes applied shaping and is idempotent', async () => {
    execFileSync('ip', ['netns', 'exec', 'net2', 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '4e7:', 'htb', 'default', '1']);
    expect(await clearNetem(hosts)).toEqual(['net2: removed eth0']);
    expect(await clearNetem(hosts)).toEqual([]);
    expect(qdiscs('net2')).not.toContain('4e7:');
  });

  it('killjob removes the shaping setup applied (netem_apply: setup), tolerates an unreachable host, and a second killjob does nothing', async () => {
    const constraints = [{ between: ['control', 'worker'], rate: '50mbit' }];
    // What setup does after deploying the services when net.netem_apply is setup.
    const rules = await applyExperimentNetem({ exp: 'netem', hosts, set: ['net.netem=[{between: [control, worker], rate: 50mbit}]', 'net.netem_apply=setup'] });
    expect(Object.keys(rules).sort()).toEqual(['net1', 'net2', 'net3']);
    expect(qdiscs('net1')).toContain('qdisc htb 4e7:');
    // The state setup leaves, with the experiment as setup validated it, plus a host that no longer answers.
    const gone = { ...hosts[0]!, name: 'net9', address: '10.83.0.99' };
    writeState(home, 'netem', [...hosts, gone]);
    const sp = join(home, '.greenrace', 'netem', 'state.json');
    const st = JSON.parse(readFileSync(sp, 'utf8'));
    writeFileSync(sp, JSON.stringify({ ...st, experimentSnapshot: { name: 'netem', net: { netem: constraints, netem_apply: 'setup' } } }));
    const lines: string[] = [];
    const out = await killjob('netem', { progress: (l) => lines.push(l) });
    expect(out.didSomething).toBe(true);
    expect(lines.join('\n')).toMatch(/removed network emulation: .*net1: removed eth0/);
    for (const h of hosts) expect(qdiscs(h.name)).not.toContain('4e7:');
    expect(existsSync(sp)).toBe(false);
    expect((await killjob('netem')).didSomething).toBe(false);
  });
});
