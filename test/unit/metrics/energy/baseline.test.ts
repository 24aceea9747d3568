import { describe, expect, it } from 'vitest';
import { baselineAge, baselineFromMachines, dynamicJoules, idleJoules, normalizeBaseline } from '../../../../src/metrics/energy/baseline.js';
import { hostShares } from '../../../../src/metrics/energy/attribution.js';
import { groupByMachine, machineOf } from '../../../../src/metrics/energy/machines.js';
import { dropRepeatedReadings } from '../../../../src/metrics/energy/scaphandre.js';
import { RunError } from '../../../../src/core/errors.js';

describe('idle and dynamic energy', () => {
  it('idle joules are the idle watts times the window length', () => {
    expect(idleJoules(31.6, { start: 100, end: 160 })).toBeCloseTo(1896, 9);
  });
  it('dynamic joules are total minus idle, and unknown when either is', () => {
    expect(dynamicJoules(5000, 1896)).toBe(3104);
    expect(dynamicJoules(1000, 1896)).toBe(-896); // below idle: shown, not clamped
    expect(dynamicJoules(null, 1896)).toBeNull();
    expect(dynamicJoules(5000, null)).toBeNull();
  });
});

describe('baseline age', () => {
  const b = { measuredAt: '2026-03-01T10:00:00.000Z' };
  it('is stale when measured before the last setup', () => {
    const a = baselineAge(b, '2026-03-01T11:00:00Z');
    expect(a.stale).toBe(true);
    expect(a.note).toMatch(/older than the last setup/);
  });
  it('is fresh when measured after the last setup, with its age at the run', () => {
    const setup = Date.parse('2026-03-01T09:00:00Z') / 1000; // epoch seconds work too
    const a = baselineAge(b, setup, Date.parse('2026-03-01T10:10:00Z') / 1000);
    expect(a).toEqual({ stale: false, ageSeconds: 600 });
  });
  it('is stale when its date is not a date', () => {
    expect(baselineAge({ measuredAt: 'yesterday' }).stale).toBe(true);
  });
});

describe('baseline file', () => {
  it('is written per machine with the hosts it covers', () => {
    const b = baselineFromMachines('e', { start: 0, end: 50 }, [
      { machine: 'box', hosts: ['a', 'b'], joules: 1000, source: 'scaphandre', kind: 'measured', coverage: { fraction: 0.98 } },
      { machine: 'gone', hosts: ['c'], joules: null, source: 'none', kind: 'measured', coverage: { fraction: 0 } },
    ]);
    expect(b.machines).toEqual({ box: { watts: 20, source: 'scaphandre', kind: 'measured', coverage: 0.98, hosts: ['a', 'b'] } });
    expect(b.hosts).toEqual({ a: 'box', b: 'box' });
    expect(b.measuredAt).toBe('1970-01-01T00:00:50.000Z');
  });
  it('rejects files it cannot read, naming the file and what is wrong', () => {
    const e = (() => {
      try {
        normalizeBaseline({ schema: 'greenrace.baseline/9', measuredAt: 'x', window: { start: 0, end: 1 } }, [], '/s/baseline.json');
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(RunError);
    expect((e as RunError).code).toBe('energy.baseline.invalid');
    expect((e as RunError).message).toBe('/s/baseline.json: unknown schema "greenrace.baseline/9"; measure it again with `entrypoint baseline <experiment>`');
    expect(() => normalizeBaseline({ schema: 'greenrace.baseline/2', measuredAt: 'x', window: { start: 0, end: 1 }, machines: { m: { watts: 'a' } }, hosts: {} })).toThrow(/machine m has no watts/);
  });
  it('converts a per-host file: hosts of one machine keep the best-covered copy', () => {
    const b = normalizeBaseline(
      {
        schema: 'greenrace.baseline/1',
        experiment: 'e',
        measuredAt: '2026-01-01T00:00:00Z',
        window: { start: 0, end: 10 },
        hosts: { a: { watts: 30, source: 'rapl:package', kind: 'measured', coverage: 0.7 }, b: { watts: 31, source: 'rapl:package', kind: 'measured', coverage: 1 }, c: { watts: 9, source: 'model', kind: 'estimated', coverage: 1 } },
      },
      [
        { name: 'a', address: '1', machine: 'box' },
        { name: 'b', address: '2', machine: 'box' },
        { name: 'c', address: '3' },
      ],
    );
    expect(b.machines.box).toEqual({ watts: 31, source: 'rapl:package', kind: 'measured', coverage: 1, hosts: ['a', 'b'] });
    expect(b.machines.c!.watts).toBe(9);
    expect(b.hosts).toEqual({ a: 'box', b: 'box', c: 'c' });
  });
});

describe('machines and shares', () => {
  it('a host without a machine is its own machine', () => {
    expect(machineOf({ name: 'n1' })).toBe('n1');
    expect(machineOf({ name: 'n1', machine: 'taurus-3.lyon.grid5000.fr' })).toBe('taurus-3.lyon.grid5000.fr');
    expect(groupByMachine([{ name: 'a', address: '', machine: 'x' }, { name: 'b', address: '' }, { name: 'c', address: '', machine: 'x' }]).map((m) => [m.id, m.hosts.map((h) => h.name)])).toEqual([
      ['x', ['a', 'c']],
      ['b', ['b']],
    ]);
  });
  it('shares follow CPU time and add up to 1; equal without CPU time for every host', () => {
    const s = hostShares(['a', 'b', 'c'], { a: 1, b: 1, c: 2 });
    expect(s.map((x) => x.share)).toEqual([0.25, 0.25, 0.5]);
    expect(hostShares(['a', 'b'], { a: 3 }).map((x) => [x.share, x.basis])).toEqual([
      [0.5, 'equal'],
      [0.5, 'equal'],
    ]);
    expect(hostShares(['a', 'b'], { a: 0, b: 0 })[0]!.basis).toBe('equal');
    expect(hostShares(['solo'])).toEqual([{ host: 'solo', share: 1, basis: 'machine' }]);
  });
});

describe('Scaphandre repeated readings', () => {
  it('drops the readings Scaphandre served again between refreshes (older values stamped late)', () => {
    const item = { metric: { instance: 'x:8080' }, values: [[0, 100], [2, 100], [4, 300], [6, 300], [8, 500]] as Array<[number, number]> };
    expect(dropRepeatedReadings(item)).toEqual({ item: { ...item, values: [[0, 100], [4, 300], [8, 500]] }, dropped: 2 });
  });
  it('keeps the ends of a counter that stood still (0 J, not no data)', () => {
    const item = { metric: {}, values: [[0, 7], [3, 7], [6, 7]] as Array<[number, number]> };
    expect(dropRepeatedReadings(item).item.values).toEqual([
      [0, 7],
      [6, 7],
    ]);
  });
});
