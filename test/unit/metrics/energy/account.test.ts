import { describe, expect, it } from 'vitest';
import { baselineFromAccount, energyAccount, toEnergyFigure } from '../../../../src/metrics/energy/account.js';
import { noData, type EnergySource, type HostEnergy } from '../../../../src/metrics/energy/source.js';

const window = { start: 1000, end: 1100 };
const hosts = [
  { name: 'h1', address: '10.0.0.1' },
  { name: 'h2', address: '10.0.0.2' },
];
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

describe('energy account', () => {
  it('uses the preferred source per host and falls back per host (mixed sources)', async () => {
    const acc = await energyAccount(
      [table('model', 90, { h1: [9000, 1], h2: [8000, 1] }, 'estimated'), table('rapl:package', 30, { h1: [5000, 1] })],
      hosts,
      window,
    );
    expect(acc.hosts.map((h) => [h.host, h.source, h.joules])).toEqual([
      ['h1', 'rapl:package', 5000],
      ['h2', 'model', 8000],
    ]);
    expect(acc.totalJoules).toBe(13000);
    expect(acc.meanWatts).toBe(130);
    expect(acc.sources).toEqual(['rapl:package', 'model']);
    expect(acc.hosts[1]!.kind).toBe('estimated');
    expect(acc.hosts[1]!.alternatives).toEqual([{ source: 'rapl:package', joules: null, fraction: 0, note: 'no series' }]);
  });

  it('prefers a well-covered lower-priority source over a poorly covered one', async () => {
    const acc = await energyAccount([table('scaphandre', 10, { h1: [100, 0.3], h2: [100, 0.3] }), table('rapl:package', 30, { h1: [5000, 0.95] })], hosts, window);
    expect(acc.hosts[0]!.source).toBe('rapl:package');
    // h2: only the partial figure exists: used, and flagged.
    expect(acc.hosts[1]!.source).toBe('scaphandre');
    expect(acc.hosts[1]!.note).toMatch(/partial coverage: 30 % of the window/);
  });

  it('keeps going when a source fails as a whole, and records why', async () => {
    const acc = await energyAccount([failing, table('rapl:package', 30, { h1: [10, 1], h2: [20, 1] })], hosts, window);
    expect(acc.totalJoules).toBe(30);
    expect(acc.errors).toEqual({ kwollect: 'api.grid5000.fr unreachable' });
  });

  it('gives no total when a host has no figure at all (a partial sum would mislead)', async () => {
    const acc = await energyAccount([table('rapl:package', 30, { h1: [10, 1] })], hosts, window);
    expect(acc.totalJoules).toBeNull();
    expect(acc.hosts[1]!.source).toBe('none');
    expect(acc.hosts[1]!.note).toBe('no source has data: rapl:package: no series');
  });

  it('subtracts the idle baseline for dynamic energy, per host', async () => {
    const src = table('rapl:package', 30, { h1: [6000, 1], h2: [4000, 1] });
    const idle = await energyAccount([table('rapl:package', 30, { h1: [3000, 1], h2: [2500, 1] })], hosts, { start: 0, end: 100 });
    const baseline = baselineFromAccount('exp', idle, '2026-01-01T00:00:00Z');
    expect(baseline.hosts).toEqual({
      h1: { watts: 30, source: 'rapl:package', kind: 'measured', coverage: 1 },
      h2: { watts: 25, source: 'rapl:package', kind: 'measured', coverage: 1 },
    });
    const acc = await energyAccount([src], hosts, window, { baseline });
    expect(acc.hosts.map((h) => h.dynamicJoules)).toEqual([3000, 1500]);
    expect(acc.dynamicJoules).toBe(4500);
    const fig = toEnergyFigure(acc);
    expect(fig).toMatchObject({ totalJoules: 10000, dynamicJoules: 4500, sources: ['rapl:package'] });
    expect(fig.perHost[0]).toEqual({ host: 'h1', joules: 6000, source: 'rapl:package', samples: 50, gaps: 0 });
  });

  it('says when the baseline and the figure come from different sources', async () => {
    const baseline = { schema: 'greenrace.baseline/1' as const, experiment: 'e', measuredAt: '', window, hosts: { h1: { watts: 10, source: 'model', kind: 'estimated' as const, coverage: 1 } } };
    const acc = await energyAccount([table('rapl:package', 30, { h1: [5000, 1], h2: [1, 1] })], hosts, window, { baseline });
    expect(acc.hosts[0]!.note).toBe('idle baseline came from model, this figure from rapl:package');
    expect(acc.dynamicJoules).toBeNull(); // h2 has no baseline
  });
});
