import { describe, expect, it } from 'vitest';
import { parseDuration, promDuration } from '../../../src/core/duration.js';

describe('durations', () => {
  it.each([
    [30, 30],
    ['30', 30],
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['500ms', 0.5],
    ['1d', 86400],
  ])('%s is %s seconds', (input, secs) => {
    expect(parseDuration(input)).toBe(secs);
  });

  it.each(['', 'soon', '5 m', '10x', 's5', '5m3'])('%s is rejected', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });

  it('formats for Prometheus', () => {
    expect(promDuration(2)).toBe('2s');
    expect(promDuration(0.5)).toBe('500ms');
  });
});
