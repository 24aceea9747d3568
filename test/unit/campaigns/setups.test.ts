import { describe, expect, it } from 'vitest';
import { expandGrid, scheduleRuns, type Factor } from '../../../src/campaigns/grid.js';
import { changedPaths, deployedKey, isSetupPath, needsRecreate, servicesForBroker, setupGroups, setupKey, setupLabel } from '../../../src/campaigns/setups.js';

const f = (path: string, values: Array<string | number | boolean>): Factor => ({ path, values, from: 'test' });

describe('setup factors', () => {
  it('every path outside the workload section, and its broker kind, needs a setup', () => {
    expect(isSetupPath('roles.broker', 'ingest')).toBe(true);
    expect(isSetupPath('kafka.heap', 'ingest')).toBe(true);
    expect(isSetupPath('runtime', 'ingest')).toBe(true);
    expect(isSetupPath('ingest.broker', 'ingest')).toBe(true);
    expect(isSetupPath('ingest.partitions', 'ingest')).toBe(false);
  });
  it('roles and platform changes make the hosts again; service settings are set up again in place', () => {
    expect(needsRecreate(['roles.broker'])).toBe(true);
    expect(needsRecreate(['kafka.heap', 'runtime', 'services'])).toBe(false);
  });
  it('the broker kind swaps the broker service in place', () => {
    expect(servicesForBroker(['node_exporter', 'kafka', 'prometheus'], 'redpanda')).toEqual(['node_exporter', 'redpanda', 'prometheus']);
    expect(servicesForBroker(['node_exporter', 'kafka'], 'kafka')).toEqual(['node_exporter', 'kafka']);
    expect(servicesForBroker(['node_exporter'], 'kafka')).toEqual(['node_exporter', 'kafka']);
  });
  it('compares a group with what is deployed', () => {
    const snap = { roles: { broker: 1, worker: 1 }, kafka: { heap: '512m' }, runtime: 'host', services: ['kafka'] };
    expect(changedPaths(snap, { 'roles.broker': 2, 'kafka.heap': '512m', services: ['kafka'] })).toEqual(['roles.broker']);
    expect(changedPaths(snap, { 'roles.broker': 1 })).toEqual([]);
    expect(deployedKey(snap, ['roles.broker'])).toBe(setupKey({ 'roles.broker': 1 }));
    expect(setupLabel({ 'roles.broker': 2, 'kafka.heap': '1g' })).toBe('roles.broker=2, kafka.heap=1g');
    expect(setupLabel({})).toBe('as set up');
  });
});

describe('setup groups', () => {
  const points = expandGrid([f('ingest.partitions', [1, 3]), f('roles.broker', [1, 2])]);
  it('sequential: the runs of one setup together, in first-appearance order, the deployed one first', () => {
    const runs = scheduleRuns(points, { repetitions: 2, order: 'sequential', seed: 1, setupPaths: ['roles.broker'] });
    const g = setupGroups(runs, ['roles.broker']);
    expect(g.map((x) => x.assignments)).toEqual([{ 'roles.broker': 1 }, { 'roles.broker': 2 }]);
    expect(g.map((x) => x.runs.length)).toEqual([4, 4]);
    expect(g[0]!.runs.map((r) => `${r.point.key}#${r.repetition}`)).toEqual([
      'ingest.partitions=1, roles.broker=1#1',
      'ingest.partitions=1, roles.broker=1#2',
      'ingest.partitions=3, roles.broker=1#1',
      'ingest.partitions=3, roles.broker=1#2',
    ]);
    const first2 = setupGroups(runs, ['roles.broker'], setupKey({ 'roles.broker': 2 }));
    expect(first2.map((x) => x.assignments['roles.broker'])).toEqual([2, 1]);
  });
  it('random: shuffled within each setup (seeded), one setup change at most per setup', () => {
    const runs = scheduleRuns(points, { repetitions: 3, order: 'random', seed: 5, setupPaths: ['roles.broker'] });
    const b = runs.map((r) => r.point.assignments['roles.broker']);
    expect(b.filter((x, i) => i > 0 && x !== b[i - 1])).toHaveLength(1);
    expect(scheduleRuns(points, { repetitions: 3, order: 'random', seed: 5, setupPaths: ['roles.broker'] })).toEqual(runs);
    const g = setupGroups(runs, ['roles.broker']);
    expect(g).toHaveLength(2);
    expect(g.every((x) => x.runs.length === 6)).toBe(true);
  });
  it('without setup factors there is one group', () => {
    const runs = scheduleRuns(expandGrid([f('ingest.partitions', [1, 3])]), { repetitions: 1, order: 'sequential', seed: 1 });
    expect(setupGroups(runs, [])).toHaveLength(1);
  });
});
