import { describe, expect, it } from 'vitest';
import {
  campaignHash,
  etaSeconds,
  expandGrid,
  formatSeconds,
  mergeFactors,
  parseGridFlag,
  remainingRuns,
  scheduleRuns,
  type Factor,
} from '../../../src/campaigns/grid.js';

const f = (path: string, values: Array<string | number | boolean>): Factor => ({ path, values, from: 'test' });

describe('grid flags', () => {
  it('reads values as YAML scalars', () => {
    expect(parseGridFlag('ingest.message_size=512,4096').values).toEqual([512, 4096]);
    expect(parseGridFlag('ingest.load=max,2000').values).toEqual(['max', 2000]);
    expect(parseGridFlag('runtime.x=true,host').values).toEqual([true, 'host']);
  });
  it('refuses a missing =, an empty grid, an empty value and duplicates with the flag in the message', () => {
    expect(() => parseGridFlag('ingest.load')).toThrow(/--grid ingest.load: expected path=value/);
    expect(() => parseGridFlag('ingest.load=')).toThrow(/has no values \(the grid would be empty\)/);
    expect(() => parseGridFlag('ingest.load=1,,2')).toThrow(/empty value/);
    expect(() => parseGridFlag('ingest.load=1,1')).toThrow(/lists 1 twice/);
    expect(() => parseGridFlag('ingest/load=1,2')).toThrow(/not a config path/);
    expect(parseGridFlag('runtime=host,k3s').values).toEqual(['host', 'k3s']);
  });
  it('a flag replaces the file factor of the same path', () => {
    const m = mergeFactors([f('ingest.load', [1]), f('ingest.partitions', [1, 3])], [f('ingest.load', [5, 6])]);
    expect(m.map((x) => [x.path, x.values])).toEqual([
      ['ingest.partitions', [1, 3]],
      ['ingest.load', [5, 6]],
    ]);
  });
});

describe('expandGrid', () => {
  it('is the cartesian product with stable keys', () => {
    const pts = expandGrid([f('ingest.message_size', [512, 4096]), f('ingest.partitions', [1, 3])]);
    expect(pts.map((p) => p.key)).toEqual([
      'ingest.message_size=512, ingest.partitions=1',
      'ingest.message_size=512, ingest.partitions=3',
      'ingest.message_size=4096, ingest.partitions=1',
      'ingest.message_size=4096, ingest.partitions=3',
    ]);
    expect(pts[3]!.assignments).toEqual({ 'ingest.message_size': 4096, 'ingest.partitions': 3 });
  });
  it('refuses no factors, overlapping paths and duplicates', () => {
    expect(() => expandGrid([])).toThrow(/no factors/);
    expect(() => expandGrid([f('kafka.x', [1]), f('kafka.x.y', [2])])).toThrow(/contains another factor/);
    expect(() => expandGrid([f('kafka.x', [1]), f('kafka.x', [2])])).toThrow(/given twice/);
  });
});

describe('scheduleRuns', () => {
  const pts = expandGrid([f('ingest.message_size', [512, 4096]), f('ingest.partitions', [1, 3])]);
  it('sequential: each point with its repetitions together', () => {
    const s = scheduleRuns(pts, { repetitions: 3, order: 'sequential', seed: 1 });
    expect(s).toHaveLength(12);
    expect(s.slice(0, 3).map((r) => [r.point.index, r.repetition])).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
  });
  it('random: the same seed gives the same order, another seed another; all runs present', () => {
    const a = scheduleRuns(pts, { repetitions: 3, order: 'random', seed: 7 }).map((r) => `${r.point.index}.${r.repetition}`);
    const b = scheduleRuns(pts, { repetitions: 3, order: 'random', seed: 7 }).map((r) => `${r.point.index}.${r.repetition}`);
    const c = scheduleRuns(pts, { repetitions: 3, order: 'random', seed: 8 }).map((r) => `${r.point.index}.${r.repetition}`);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort()).toEqual([...scheduleRuns(pts, { repetitions: 3, order: 'sequential', seed: 0 }).map((r) => `${r.point.index}.${r.repetition}`)].sort());
  });
  it('random keeps runs that share a set-up factor together', () => {
    const s = scheduleRuns(pts, { repetitions: 2, order: 'random', seed: 3, setupPaths: ['ingest.partitions'] });
    const seq = s.map((r) => r.point.assignments['ingest.partitions']);
    const changes = seq.filter((v, i) => i > 0 && v !== seq[i - 1]).length;
    expect(changes).toBe(1);
  });
  it('refuses repetitions < 1', () => {
    expect(() => scheduleRuns(pts, { repetitions: 0, order: 'sequential', seed: 1 })).toThrow(/repetitions must be a whole number ≥ 1 \(got 0\)/);
  });
});

describe('resume', () => {
  const pts = expandGrid([f('ingest.message_size', [512, 4096])]);
  const sched = scheduleRuns(pts, { repetitions: 2, order: 'sequential', seed: 1 });
  it('leaves out the runs already done, matched by point and repetition', () => {
    const done = [
      { pointKey: 'ingest.message_size=512', repetition: 1, runId: 'a', seconds: 30 },
      { pointKey: 'ingest.message_size=512', repetition: 2, runId: 'b', seconds: 50 },
    ];
    const left = remainingRuns(sched, done);
    expect(left.map((r) => `${r.point.key}#${r.repetition}`)).toEqual(['ingest.message_size=4096#1', 'ingest.message_size=4096#2']);
    expect(etaSeconds(left.length, done)).toBe(80);
    expect(etaSeconds(2, [])).toBeNull();
  });
  it('formats durations', () => {
    expect(formatSeconds(35)).toBe('35 s');
    expect(formatSeconds(250)).toBe('4 min 10 s');
    expect(formatSeconds(3720)).toBe('1 h 02 min');
  });
  it('hashes definitions independently of key order', () => {
    expect(campaignHash({ a: 1, b: [1, 2] })).toBe(campaignHash({ b: [1, 2], a: 1 }));
    expect(campaignHash({ a: 1 })).not.toBe(campaignHash({ a: 2 }));
  });
});
