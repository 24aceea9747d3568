import { describe, expect, it } from 'vitest';
import { applyScript, planNetem, removeScript } from '../../../src/workloads/netem/plan.js';
import type { NetHost } from '../../../src/workloads/net/tools/types.js';

const h = (name: string, role: 'control' | 'broker' | 'worker', i: number): NetHost => ({ name, address: `10.0.0.${i}`, port: 22, user: 'root', roles: [role], dataDir: `/tmp/${name}` });
const hosts = [h('c1', 'control', 1), h('b1', 'broker', 2), h('w1', 'worker', 3), h('w2', 'worker', 4)];

describe('netem plan', () => {
  it('a constraint between two roles shapes both directions, one rule per peer', () => {
    const p = planNetem(hosts, [{ between: ['worker', 'broker'], delay: 0.02, rate: '100mbit' }]);
    expect([...p.keys()].sort()).toEqual(['b1', 'w1', 'w2']);
    expect(p.get('b1')!.map((r) => r.peer)).toEqual(['w1', 'w2']);
    expect(p.get('w1')).toEqual([{ peer: 'b1', peerAddress: '10.0.0.2', delayMs: 20, rate: '100mbit' }]);
    expect(p.has('c1')).toBe(false);
  });
  it('within one role, never toward itself', () => {
    const p = planNetem(hosts, [{ between: ['worker', 'worker'], loss: 1 }]);
    expect(p.get('w1')!.map((r) => r.peer)).toEqual(['w2']);
  });
  it('the script uses our root handle, a class and netem per peer, and a dst filter', () => {
    const s = applyScript([{ peer: 'b1', peerAddress: '10.0.0.2', delayMs: 20, jitterMs: 1, loss: 0.5, rate: '50mbit' }]);
    expect(s).toContain('root handle 4e7: htb default 1');
    expect(s).toContain('classid 4e7:10 htb rate 50mbit');
    expect(s).toContain('netem delay 20ms 1ms loss 0.5%');
    expect(s).toContain('u32 match ip dst 10.0.0.2/32 flowid 4e7:10');
    expect(removeScript()).toContain('qdisc htb 4e7: root');
  });
});
