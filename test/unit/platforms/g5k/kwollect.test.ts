import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrate, kwollectEnergy, parseKwollectTime } from '../../../../src/platforms/g5k/kwollect.js';
import { startDouble } from '../../../support/g5k-double/index.js';
import type { G5kDouble } from '../../../support/g5k-double/index.js';
import { api } from './helpers.js';

describe('Kwollect energy', () => {
  let d: G5kDouble;
  beforeAll(async () => {
    d = await startDouble({ users: { alice: 'pw-Zq8!never-print-me' } });
  });
  afterAll(() => d.stop());

  it('parses Kwollect timestamps with offsets and microseconds', () => {
    expect(parseKwollectTime('2025-04-18T18:55:33.754307+02:00')).toBeCloseTo(Date.UTC(2025, 3, 18, 16, 55, 33) / 1000 + 0.754307, 6);
    expect(parseKwollectTime('2025-04-18T16:55:33Z')).toBe(Date.UTC(2025, 3, 18, 16, 55, 33) / 1000);
  });

  it('trapezoid over a constant is exact; gaps lower the coverage', () => {
    const s = Array.from({ length: 101 }, (_, i) => ({ t: i, w: 50 }));
    expect(integrate(s, 0, 100)).toEqual({ joules: 5000, coverage: 1, gaps: 0, coveredSeconds: 100 });
    const holed = s.filter((x) => x.t < 20 || x.t > 60);
    const r = integrate(holed, 0, 100);
    expect(r.joules).toBe(5000);
    // samples at 19 and 61: the 42 s between them are uncovered
    expect(r.coverage).toBeCloseTo(1 - 42 / 100, 5);
  });

  it('wattmetre energy equals the double\'s known integral within 0.5 %, in chunks, with source and coverage', async () => {
    const start = d.clock.now() - 3 * 3600 + 0.37;
    const end = start + 2 * 3600 + 13.4;
    const a = api(d);
    const before = d.count('GET /sites/{site}/metrics');
    const hosts = [
      { host: 'gros-1', fqdn: 'gros-1.nancy.grid5000.fr' },
      { host: 'gros-2', fqdn: 'gros-2.nancy.grid5000.fr' },
      { host: 'nova-3', fqdn: 'nova-3.lyon.grid5000.fr' },
      { host: 'paravance-4', fqdn: 'paravance-4.rennes.grid5000.fr' },
    ];
    const got = await kwollectEnergy(a, hosts, start, end, { chunkSeconds: 1800 });
    for (const h of got) {
      const metric = h.host.startsWith('paravance') ? 'bmc_node_power_watt' : 'wattmetre_power_watt';
      const expected = d.energy(h.host, metric, start, end);
      expect(h.source).toBe(`kwollect:${metric}`);
      expect(Math.abs(h.joules - expected) / expected).toBeLessThan(0.005);
      expect(h.coverage).toBe(1);
    }
    // 3 sites; gros and nova are wattmetre clusters (1 node group each), paravance bmc; 2 h 13 s → 5 chunks of 30 min
    expect(d.count('GET /sites/{site}/metrics') - before).toBe(3 * 5);
  });

  it('a window partly in the future is covered only up to now', async () => {
    const now = d.clock.now();
    const [h] = await kwollectEnergy(api(d), [{ host: 'gros-3', fqdn: 'gros-3.nancy.grid5000.fr' }], now - 600, now + 600, { metric: 'wattmetre_power_watt' });
    expect(h!.coverage).toBeGreaterThan(0.49);
    expect(h!.coverage).toBeLessThan(0.51);
  });
});

describe('KwollectSource (EnergySource)', () => {
  let d: G5kDouble;
  beforeAll(async () => {
    d = await startDouble({ users: { alice: 'pw-Zq8!never-print-me' } });
  });
  afterAll(() => d.stop());

  it('answers one entry per host: measured for g5k nodes (address mapped), no data for others', async () => {
    const { KwollectSource } = await import('../../../../src/platforms/g5k/energy.js');
    const src = new KwollectSource(api(d));
    const start = d.clock.now() - 1200;
    const end = start + 900;
    const r = await src.measure({
      hosts: [
        { name: 'gros-5', address: '10.84.0.15', attributes: { g5k_fqdn: 'gros-5.nancy.grid5000.fr' } },
        { name: 'laptop', address: '127.0.0.1' },
      ],
      window: { start, end },
    });
    expect(r[0]!.source).toBe('kwollect:wattmetre_power_watt');
    expect(r[0]!.kind).toBe('measured');
    expect(Math.abs(r[0]!.joules! - d.energy('gros-5', 'wattmetre_power_watt', start, end)) / r[0]!.joules!).toBeLessThan(0.005);
    expect(r[0]!.coverage.fraction).toBe(1);
    // 1 Hz samples at both ends of the 900 s window
    expect(r[0]!.coverage.samples).toBe(901);
    expect(r[1]).toMatchObject({ host: 'laptop', joules: null });
  });
});
