import { describe, expect, it } from 'vitest';
import { avgOver, increaseOver, measurementWindow, promWindow, sliceWindow, validateWindow, RunWindowMarker } from '../../../src/metrics/window.js';
import { promDuration, selector } from '../../../src/metrics/prometheus.js';
import { RunError } from '../../../src/core/errors.js';

describe('run windows', () => {
  it('excludes warm-up and cool-down from the measurement window', () => {
    expect(measurementWindow(1000, 1130, 10, 0)).toEqual({ warmupStart: 1000, start: 1010, end: 1130 });
    expect(measurementWindow(1000, 1130, 10, 20)).toEqual({ warmupStart: 1000, start: 1010, end: 1110 });
    expect(measurementWindow(1000, 1060)).toEqual({ start: 1000, end: 1060 });
  });
  it('refuses a warm-up that leaves no window', () => {
    expect(() => measurementWindow(1000, 1010, 10)).toThrow(/leave no measurement window in a 10 s run/);
  });
  it('validates bounds', () => {
    expect(() => validateWindow({ start: 10, end: 10 })).toThrow(RunError);
    expect(() => validateWindow({ start: 10, end: 20, warmupStart: 15 })).toThrow(/warm-up start 15 is after/);
    expect(validateWindow({ start: 10, end: 20, warmupStart: 5 })).toEqual({ start: 10, end: 20, warmupStart: 5 });
  });
  it('builds PromQL that selects exactly the window', () => {
    const w = { start: 1700000000.25, end: 1700000060.75 };
    expect(promWindow(w)).toEqual({ range: '60500ms', at: '1700000060.750', seconds: 60.5 });
    expect(increaseOver('node_rapl_package_joules_total', { start: 100, end: 160 })).toBe('increase(node_rapl_package_joules_total[60s] @ 160.000)');
    expect(avgOver('x', { start: 0, end: 5 })).toBe('avg_over_time(x[5s] @ 5.000)');
  });
  it('slices a window into sub-windows', () => {
    expect(sliceWindow({ start: 0, end: 25 }, 10)).toEqual([
      { start: 0, end: 10 },
      { start: 10, end: 20 },
      { start: 20, end: 25 },
    ]);
  });
  it('formats durations and escapes label values', () => {
    expect(promDuration(2)).toBe('2s');
    expect(promDuration(0.5)).toBe('500ms');
    expect(() => promDuration(0)).toThrow(/positive/);
    expect(selector({ run_id: 'a"b', instance: ['10.0.0.1:9100', '10.0.0.2:9100'] })).toBe(
      '{run_id="a\\"b",instance=~"10\\\\.0\\\\.0\\\\.1:9100|10\\\\.0\\\\.0\\\\.2:9100"}',
    );
  });
  it('keeps the window in the record when the Pushgateway is down, and says so', async () => {
    const m = new RunWindowMarker({ runId: 'r1', experiment: 'e', kind: 'ingest' }, 'http://127.0.0.1:29998');
    await m.start(100);
    expect(await m.end(160)).toEqual({ start: 100, end: 160 });
    expect(m.pushErrors).toHaveLength(2);
    expect(m.pushErrors[0]).toMatch(/Pushgateway pushAdd of greenrace_run_info, greenrace_run_start_timestamp_seconds to http:\/\/127.0.0.1:29998 failed/);
  });
  it('refuses end() before start()', async () => {
    await expect(new RunWindowMarker({ runId: 'r', experiment: 'e', kind: 'w' }).end(5)).rejects.toThrow(/end\(\) before start\(\)/);
  });
});
