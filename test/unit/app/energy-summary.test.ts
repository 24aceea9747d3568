/** The energy lines every run's summary prints (ingest, net, matrix, race) from run.json's `energy`. */
import { describe, expect, it } from 'vitest';
import { energySummaryRows } from '../../../src/app/energy-summary.js';
import { toEnergyFigure, unavailableEnergy, type EnergyAccount } from '../../../src/metrics/energy/index.js';
import { energyResults } from '../../../src/workloads/ingest/results.js';
import type { MergedSummary } from '../../../src/loadgen/summary.js';

/** One machine (3 hosts) at 40 W for 30 s, idle 25 W from a baseline. */
function account(o: { baseline: boolean; stale?: boolean }): EnergyAccount {
  const cov = { fraction: 1, samples: 16, gaps: 0, coveredSeconds: 30, resets: 0 };
  return {
    window: { start: 1000, end: 1030 },
    seconds: 30,
    machines: [
      {
        machine: 'box', hosts: ['control-1', 'worker-1', 'worker-2'], reader: 'control-1', joules: 1200, meanWatts: 40, source: 'rapl:package', kind: 'measured', coverage: cov, alternatives: [],
        idle: o.baseline ? { watts: 25, joules: 750, source: 'rapl:package', kind: 'measured' } : null,
        dynamicJoules: o.baseline ? 450 : null,
      },
    ],
    hosts: [],
    totalJoules: 1200,
    meanWatts: 40,
    kind: 'measured',
    coverage: 1,
    idleJoules: o.baseline ? 750 : null,
    dynamicJoules: o.baseline ? 450 : null,
    baseline: o.baseline
      ? { status: 'used', measuredAt: '2026-12-03T06:00:00.000Z', stale: o.stale ?? false, missing: [], notes: [] }
      : { status: 'none', stale: false, missing: [], notes: ['no idle baseline'] },
    attribution: '',
    sources: ['rapl:package'],
    errors: {},
  };
}

const text = (rows: string[][]): string => rows.map((r) => r.join(': ')).join('\n');

describe('energy lines of a run summary', () => {
  it('the total once per machine, with source, kind and coverage; idle = baseline watts × window; dynamic; msg/J both ways', () => {
    const rows = energySummaryRows(toEnergyFigure(account({ baseline: true })), { experiment: 'q', seconds: 30, messages: 9000 });
    const t = text(rows);
    expect(t).toContain('energy (total): 1,200 J over 30.0 s, mean 40 W, measured — 1 machine, each counted once');
    expect(t).toContain('machine box: 1,200 J from rapl:package (measured, coverage 100 %, 16 samples); hosts control-1, worker-1, worker-2');
    expect(t).toContain('idle: 750 J = box 25 W (rapl:package) × 30.0 s (baseline of 2026-12-03T06:00:00.000Z)');
    expect(t).toContain('dynamic: 450 J (total − idle)');
    expect(t).toContain('msg/J: 7.5 per total J, 20 per dynamic J');
    expect(t).not.toMatch(/STALE/);
  });

  it('without a baseline: one line telling how to take one, and no dynamic figure', () => {
    const rows = energySummaryRows(toEnergyFigure(account({ baseline: false })), { experiment: 'q', seconds: 30, messages: 9000 });
    const hints = rows.filter((r) => r.join(' ').includes('entrypoint baseline'));
    expect(hints).toHaveLength(1);
    expect(hints[0]![1]).toBe('— no idle baseline: take one with `entrypoint baseline q` on the idle, set-up experiment');
    expect(rows.some((r) => r[0] === 'dynamic' || r[0] === 'idle')).toBe(false);
    expect(text(rows)).toContain('msg/J: 7.5 per total J, — per dynamic J');
  });

  it('a baseline older than the last setup is flagged stale', () => {
    expect(text(energySummaryRows(toEnergyFigure(account({ baseline: true, stale: true })), { experiment: 'q' }))).toContain('STALE: measured before the last setup');
  });

  it('no account: says why', () => {
    expect(energySummaryRows(unavailableEnergy('no Prometheus in this experiment'), { experiment: 'q' })).toEqual([['energy', 'unavailable: no Prometheus in this experiment']]);
  });

  it('ingest results: msg/J per total and per dynamic joule, idle and dynamic joules, kind and coverage', () => {
    const merged = { counts: { acked: 9000, bytesAcked: 9_000_000 } } as unknown as MergedSummary;
    const acc = account({ baseline: true });
    expect(energyResults(acc, toEnergyFigure(acc), merged)).toMatchObject({
      energy_j: 1200, idle_j: 750, dynamic_j: 450, energy_kind: 'measured', energy_coverage: 1, baseline: 'used', msg_per_j: 7.5, msg_per_dynamic_j: 20,
    });
    expect(energyResults(undefined, unavailableEnergy('no Prometheus'), merged)).toMatchObject({ energy_j: null, msg_per_j: null, msg_per_dynamic_j: null, energy_errors: { account: 'no Prometheus' } });
  });
});
