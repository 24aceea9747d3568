import { describe, expect, it } from 'vitest';
import { baselineFromAccount, energyAccount, toEnergyFigure } from '../../../../src/metrics/energy/account.js';
import { noData, type EnergyHost, type EnergySource, type HostEnergy } from '../../../../src/metrics/energy/source.js';

const window = { start: 1000, end: 1100 };
const hosts: EnergyHost[] = [
  { name: 'h1', address: '10.0.0.1' },
  { name: 'h2', address: '10.0.0.2' },
];
/** Three namespace hosts on one machine, as the local platform describes them. */
const local: EnergyHost[] = ['control-1', 'worker-1', 'worker-2'].map((name, i) => ({ name, address: `10.81.0.${11 + i}`, machine: 'box' }));
const full = { samples: 50, gaps: 0, coveredSeconds: 100, fraction: 1 };

/** A source answering from a table: host → joules (or null) and coverage fraction. */
function table(name: string, priority: number, rows: Record<string, [number | null, number]>, kind: HostEnergy['kind'] = 'measured'): EnergySource {
  return {
    name,
    priority,
    async measure(q) {
      return q.hosts.map((h) => {
        const r = rows[h.name];
        if (!r || r[0] === null) return noData(h.name, name, 'no series', kind);
        return { host: h.name, joules: r[0], source: name, coverage: { ...full, fraction: r[1], coveredSeconds: 100 * r[1] }, kind };
      });
    },
  };
}
const failing: EnergySource = { name: 'kwollect', priority: 20, measure: async () => Promise.reject(new Error('api.grid5000.fr unreachable')) };

describe('energy account, hosts on distinct machines', () => {
  it('uses the preferred source per machine and falls back per machine (mixed sources)', async () => {
    const acc = await energyAccount(
      [table('model', 90, { h1: [9000, 1], h2: [8000, 1] }, 'estimated'), table('rapl:package', 30, { h1: [5000, 1] })],
      hosts,
      window,
    );
    expect(acc.machines.map((m) => [m.machine, m.source, m.joules, m.kind])).toEqual([
      ['h1', 'rapl:package', 5000, 'measured'],
      ['h2', 'model', 8000, 'estimated'],
    ]);
    expect(acc.totalJoules).toBe(13000);
    expect(acc.meanWatts).toBe(130);
    expect(acc.kind).toBe('mixed');
    expect(acc.sources).toEqual(['rapl:package', 'model']);
    // A host alone on its machine is the whole machine.
    expect(acc.hosts.map((h) => [h.host, h.joules, h.share, h.basis])).toEqual([
      ['h1', 5000, 1, 'machine'],
      ['h2', 8000, 1, 'machine'],
    ]);
    expect(acc.machines[1]!.alternatives).toEqual([{ source: 'rapl:package', joules: null, fraction: 0, note: 'no series' }]);
  });

  it('prefers a well-covered lower-priority source over a poorly covered one, and flags a partial figure', async () => {
    const acc = await energyAccount([table('scaphandre', 10, { h1: [100, 0.3], h2: [100, 0.3] }), table('rapl:package', 30, { h1: [5000, 0.95] })], hosts, window);
    expect(acc.machines[0]!.source).toBe('rapl:package');
    expect(acc.machines[1]!.source).toBe('scaphandre');
    expect(acc.machines[1]!.note).toMatch(/partial coverage: 30 % of the window/);
    expect(acc.coverage).toBe(0.3);
  });

  it('keeps going when a source fails as a whole, and records why', async () => {
    const acc = await energyAccount([failing, table('rapl:package', 30, { h1: [10, 1], h2: [20, 1] })], hosts, window);
    expect(acc.totalJoules).toBe(30);
    expect(acc.errors).toEqual({ kwollect: 'api.grid5000.fr unreachable' });
  });

  it('gives no total when a machine has no figure at all (a partial sum would mislead)', async () => {
    const acc = await energyAccount([table('rapl:package', 30, { h1: [10, 1] })], hosts, window);
    expect(acc.totalJoules).toBeNull();
    expect(acc.machines[1]!.source).toBe('none');
    expect(acc.machines[1]!.note).toBe('no source has data: rapl:package: no series');
    expect(acc.coverage).toBe(0);
  });
});

describe('energy account, hosts sharing one machine', () => {
  it('counts the machine once, not once per host (the local platform: 3 namespace hosts, one set of counters)', async () => {
    // Every namespace host reads the same counters: each reports the machine's 4000 J.
    const acc = await energyAccount([table('rapl:package', 30, { 'control-1': [4000, 1], 'worker-1': [4000, 1], 'worker-2': [4000, 1] })], local, window);
    expect(acc.machines).toHaveLength(1);
    expect(acc.machines[0]).toMatchObject({ machine: 'box', hosts: ['control-1', 'worker-1', 'worker-2'], reader: 'control-1', joules: 4000, kind: 'measured' });
    expect(acc.totalJoules).toBe(4000); // was 12000 when hosts were summed
    expect(acc.meanWatts).toBe(40);
    expect(acc.machines[0]!.note).toBeUndefined();
  });

  it('splits the machine among its hosts by CPU share, and the shares add up to the machine', async () => {
    const acc = await energyAccount([table('rapl:package', 30, { 'control-1': [4000, 1], 'worker-1': [4000, 1], 'worker-2': [4000, 1] })], local, window, {
      hostCpuSeconds: { 'control-1': 10, 'worker-1': 30, 'worker-2': 60 },
    });
    expect(acc.hosts.map((h) => [h.host, h.joules, h.basis])).toEqual([
      ['control-1', 400, 'cpu'],
      ['worker-1', 1200, 'cpu'],
      ['worker-2', 2400, 'cpu'],
    ]);
    expect(acc.hosts.reduce((s, h) => s + h.joules!, 0)).toBe(acc.totalJoules);
    expect(acc.hosts[2]!.note).toBe("60.0 % of machine box: share of the machine's energy by the CPU time of the host's processes in the window");
    expect(acc.attribution).toMatch(/CPU time/);
  });

  it('splits equally, and says so, without per-host CPU time', async () => {
    const acc = await energyAccount([table('rapl:package', 30, { 'control-1': [3000, 1], 'worker-1': [3000, 1], 'worker-2': [3000, 1] })], local, window);
    expect(acc.hosts.map((h) => h.joules)).toEqual([1000, 1000, 1000]);
    expect(acc.hosts.every((h) => h.basis === 'equal')).toBe(true);
    expect(acc.attribution).toBe("equal share of the machine's energy (no per-host CPU time was given)");
  });

  it('reads the machine from its best-covered host when one exporter missed scrapes', async () => {
    const acc = await energyAccount([table('rapl:package', 30, { 'control-1': [2000, 0.5], 'worker-1': [4000, 1], 'worker-2': [null, 0] })], local, window);
    expect(acc.machines[0]).toMatchObject({ reader: 'worker-1', joules: 4000 });
    expect(acc.totalJoules).toBe(4000);
    // 2000 vs 4000 from copies of one counter: reported.
    expect(acc.machines[0]!.note).toMatch(/hosts of machine box read different values from rapl:package \(control-1 2000\.0 J, worker-1 4000\.0 J\)/);
  });

  it('mixes machines: two namespace machines and one server', async () => {
    const hs: EnergyHost[] = [
      { name: 'a1', address: '10.0.0.1', machine: 'm1' },
      { name: 'a2', address: '10.0.0.2', machine: 'm1' },
      { name: 'b1', address: '10.0.0.3' },
    ];
    const acc = await energyAccount([table('scaphandre', 10, { a1: [500, 1], a2: [500, 1], b1: [700, 1] })], hs, window);
    expect(acc.machines.map((m) => [m.machine, m.joules])).toEqual([
      ['m1', 500],
      ['b1', 700],
    ]);
    expect(acc.totalJoules).toBe(1200);
  });

  it('the model estimate is per machine too, and kind says estimated', async () => {
    const acc = await energyAccount([table('model', 90, { 'control-1': [6000, 1], 'worker-1': [6000, 1], 'worker-2': [6000, 1] }, 'estimated')], local, window);
    expect(acc.totalJoules).toBe(6000);
    expect(acc.kind).toBe('estimated');
    expect(acc.machines[0]!.kind).toBe('estimated');
    expect(acc.hosts.every((h) => h.kind === 'estimated')).toBe(true);
  });
});

describe('idle baseline in the account', () => {
  it('stores idle watts per machine and subtracts idle watts × window', async () => {
    const idle = await energyAccount(
      [table('rapl:package', 30, { 'control-1': [2500, 1], 'worker-1': [2500, 1], 'worker-2': [2500, 1] })],
      local,
      { start: 0, end: 100 },
    );
    const baseline = baselineFromAccount('exp', idle, '2026-01-01T00:00:00.000Z');
    expect(baseline).toEqual({
      schema: 'greenrace.baseline/2',
      experiment: 'exp',
      measuredAt: '2026-01-01T00:00:00.000Z',
      window: { start: 0, end: 100 },
      machines: { box: { watts: 25, source: 'rapl:package', kind: 'measured', coverage: 1, hosts: ['control-1', 'worker-1', 'worker-2'] } },
      hosts: { 'control-1': 'box', 'worker-1': 'box', 'worker-2': 'box' },
    });
    const acc = await energyAccount([table('rapl:package', 30, { 'control-1': [6000, 1], 'worker-1': [6000, 1], 'worker-2': [6000, 1] })], local, window, {
      baseline,
      setupAt: '2025-12-31T00:00:00Z',
    });
    // 25 W × 100 s = 2500 J idle; 6000 − 2500 = 3500 J dynamic.
    expect(acc.machines[0]!.idle).toEqual({ watts: 25, joules: 2500, source: 'rapl:package', kind: 'measured' });
    expect(acc.idleJoules).toBe(2500);
    expect(acc.dynamicJoules).toBe(3500);
    expect(acc.baseline).toMatchObject({ status: 'used', stale: false, measuredAt: '2026-01-01T00:00:00.000Z', missing: [], notes: [] });
    expect(acc.hosts.reduce((s, h) => s + h.dynamicJoules!, 0)).toBeCloseTo(3500, 9);
    const fig = toEnergyFigure(acc);
    expect(fig).toMatchObject({ totalJoules: 6000, idleJoules: 2500, dynamicJoules: 3500, kind: 'measured', coverage: 1, sources: ['rapl:package'] });
    expect(fig.machines[0]).toMatchObject({ machine: 'box', joules: 6000, idleWatts: 25, idleJoules: 2500, dynamicJoules: 3500, coverage: 1, samples: 50, gaps: 0 });
    expect(fig.perHost.map((h) => h.joules)).toEqual([2000, 2000, 2000]);
  });

  it('says when there is no baseline and how to take one', async () => {
    const acc = await energyAccount([table('rapl:package', 30, { h1: [10, 1], h2: [20, 1] })], hosts, window);
    expect(acc.baseline.status).toBe('none');
    expect(acc.dynamicJoules).toBeNull();
    expect(acc.idleJoules).toBeNull();
    expect(acc.baseline.notes[0]).toMatch(/no idle baseline.*entrypoint baseline <experiment>/);
  });

  it('flags a baseline older than the last setup', async () => {
    const baseline = {
      schema: 'greenrace.baseline/2' as const,
      experiment: 'e',
      measuredAt: '2026-01-01T00:00:00.000Z',
      window,
      machines: { h1: { watts: 10, source: 'rapl:package', kind: 'measured' as const, coverage: 1, hosts: ['h1'] }, h2: { watts: 5, source: 'rapl:package', kind: 'measured' as const, coverage: 1, hosts: ['h2'] } },
      hosts: { h1: 'h1', h2: 'h2' },
    };
    const acc = await energyAccount([table('rapl:package', 30, { h1: [5000, 1], h2: [1000, 1] })], hosts, window, { baseline, setupAt: '2026-02-01T00:00:00Z' });
    expect(acc.baseline.stale).toBe(true);
    expect(acc.baseline.notes[0]).toMatch(/older than the last setup \(2026-02-01T00:00:00\.000Z\)/);
    // Still subtracted (the reader decides), but flagged.
    expect(acc.dynamicJoules).toBe(6000 - 15 * 100);
  });

  it('says when the baseline and the figure come from different sources, and gives no dynamic total when a machine lacks a baseline', async () => {
    const baseline = {
      schema: 'greenrace.baseline/2' as const,
      experiment: 'e',
      measuredAt: '2026-01-01T00:00:00Z',
      window,
      machines: { h1: { watts: 10, source: 'model', kind: 'estimated' as const, coverage: 1, hosts: ['h1'] } },
      hosts: { h1: 'h1' },
    };
    const acc = await energyAccount([table('rapl:package', 30, { h1: [5000, 1], h2: [1, 1] })], hosts, window, { baseline });
    expect(acc.machines[0]!.note).toBe('idle baseline came from model, this figure from rapl:package');
    expect(acc.machines[0]!.dynamicJoules).toBe(4000);
    expect(acc.baseline).toMatchObject({ status: 'partial', missing: ['h2'] });
    expect(acc.dynamicJoules).toBeNull();
  });

  it('reads an old per-host baseline (schema /1) as one entry per machine, not a sum of copies', async () => {
    const v1 = {
      schema: 'greenrace.baseline/1',
      experiment: 'e',
      measuredAt: '2026-01-01T00:00:00Z',
      window,
      hosts: Object.fromEntries(local.map((h) => [h.name, { watts: 20, source: 'model', kind: 'estimated', coverage: 1 }])),
    };
    const acc = await energyAccount([table('model', 90, { 'control-1': [3000, 1], 'worker-1': [3000, 1], 'worker-2': [3000, 1] }, 'estimated')], local, window, { baseline: v1 });
    expect(acc.idleJoules).toBe(2000); // 20 W × 100 s once, not 3 ×
    expect(acc.dynamicJoules).toBe(1000);
    expect(acc.baseline.notes).toContain('converted from a per-host baseline (schema /1): one entry per machine kept');
  });
});
