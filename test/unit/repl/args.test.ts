import { describe, expect, it } from 'vitest';
import { overridesFromObject, diffConfigs } from '../../../src/repl/overrides.js';
import { parseWindow } from '../../../src/repl/helpers/metrics.js';
import { readOnlyView } from '../../../src/repl/readonly.js';
import { renderHelp } from '../../../src/repl/help.js';
import { availableHelpers } from '../../../src/repl/helpers/index.js';

describe('loadConfig overrides', () => {
  it('accepts the CLI short names, key paths and nested objects', () => {
    expect(overridesFromObject({ load: 5000, 'kafka.partitions': 6, ingest: { duration: '1m' } }).map((o) => [o.path, o.value])).toEqual([
      ['ingest.load', 5000],
      ['kafka.partitions', 6],
      ['ingest.duration', '1m'],
    ]);
  });

  it('refuses non-objects and malformed keys with the helper named', () => {
    expect(() => overridesFromObject(5000)).toThrow(/loadConfig\(name\?, overrides\?\): overrides must be an object .*got number 5000/);
    expect(() => overridesFromObject({ 'a b': 1 })).toThrow(/"a b" is not a configuration key path/);
  });

  it('lists what changed between two configurations', () => {
    expect(diffConfigs({ ingest: { load: 1, acks: 'all' } }, { ingest: { load: 2, acks: 'all' }, x: 1 })).toEqual([
      { path: 'ingest.load', from: 1, to: 2 },
      { path: 'x', from: undefined, to: 1 },
    ]);
  });
});

describe('windows for query and energy', () => {
  const now = 1_700_000_000;
  it('reads durations, {start, end} and run records', () => {
    expect(parseWindow('5m', 'energy(window?)', now)).toEqual({ start: now - 300, end: now });
    expect(parseWindow({ start: 10, end: 20 }, 'energy(window?)')).toEqual({ start: 10, end: 20 });
    expect(parseWindow({ schema: 'greenrace.run/1', id: 'r', window: { start: 1, end: 9 } }, 'energy(window?)')).toEqual({ start: 1, end: 9 });
  });
  it('says what is wrong', () => {
    expect(() => parseWindow('soon', 'energy(window?)')).toThrow(/energy\(window\?\): window must be a duration like "5m"/);
    expect(() => parseWindow({ schema: 'greenrace.run/1', id: 'r1', status: 'failed' }, 'energy(window?)')).toThrow(/run r1 has no measurement window \(status failed\)/);
    expect(() => parseWindow({ start: 5, end: 1 }, 'query(promql, range?)')).toThrow(/query\(promql, range\?\)/);
  });
});

describe('cfg is read-only', () => {
  it('refuses writes at any depth and says how to change the configuration', () => {
    const v = readOnlyView({ ingest: { load: 1 } }, 'cfg');
    expect(v.ingest.load).toBe(1);
    expect(() => {
      (v.ingest as { load: number }).load = 2;
    }).toThrow(/cfg is read-only .*loadConfig/);
    expect(() => delete (v as { ingest?: unknown }).ingest).toThrow(/read-only/);
  });
});

describe('help', () => {
  const helpers = availableHelpers();
  it('lists every helper with its signature', () => {
    const text = renderHelp(helpers);
    for (const h of helpers) expect(text).toContain(h.signature);
    expect(text).toMatch(/Ctrl-C cancels/);
  });
  it('documents each helper on its own, by name or by the function', () => {
    for (const h of helpers) {
      const text = renderHelp(helpers, h.name);
      expect(text.startsWith(h.signature)).toBe(true);
      expect(h.details.length).toBeGreaterThan(0);
      expect(h.examples.length).toBeGreaterThan(0);
    }
    expect(renderHelp(helpers, function sh() {})).toMatch(/^sh\(role, command, opts\?\)/);
    expect(() => renderHelp(helpers, 'nope')).toThrow(/no helper named "nope"; helpers: loadConfig/);
  });
});
