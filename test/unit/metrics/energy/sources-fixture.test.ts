/**
 * Energy sources against a recorded Prometheus answer (test/fixtures/metrics/prometheus-rapl-wrap-30W.json:
 * real node_exporter RAPL samples at 30 W across counter wraps, and real CPU idle counters), served
 * by a small HTTP server standing in for Prometheus' /api/v1/query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusClient } from '../../../../src/metrics/prometheus.js';
import { RaplSource } from '../../../../src/metrics/energy/rapl.js';
import { ModelSource } from '../../../../src/metrics/energy/model.js';
import { RunError } from '../../../../src/core/errors.js';

const fx = JSON.parse(readFileSync(join(import.meta.dirname, '../../../fixtures/metrics/prometheus-rapl-wrap-30W.json'), 'utf8'));
const window = fx.window as { start: number; end: number };
const hosts = [{ name: 'rec1', address: '127.0.0.1' }];
let server: Server;
let url = '';
let withRange = false;
const queries: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const q = new URLSearchParams(body).get('query') ?? '';
      queries.push(q);
      let answer: unknown;
      let status = 200;
      if (q.startsWith('node_rapl_package_joules_total')) answer = fx.rapl;
      else if (q.startsWith('node_cpu_seconds_total')) answer = fx.cpu_idle;
      else if (q.startsWith('greenrace_rapl_max_energy_range_joules'))
        answer = {
          status: 'success',
          data: {
            resultType: 'matrix',
            result: withRange ? [{ metric: { ...fx.rapl.data.result[0].metric, __name__: 'greenrace_rapl_max_energy_range_joules' }, values: [[window.end, String(fx.max_range_joules)]] }] : [],
          },
        };
      else {
        answer = fx.bad_data;
        status = 400;
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('RAPL source on recorded samples', () => {
  it('matches the joules written within 1 % when the wrap range is published', async () => {
    withRange = true;
    const [h] = await new RaplSource(new PrometheusClient(url), 1).measure({ hosts, window });
    expect(Math.abs(h!.joules! - fx.truth_joules) / fx.truth_joules).toBeLessThan(0.01);
    // 12 s at 30 W over a 100 J range: wraps at +7.4, +10.4, +13.5 s and one between the last sample inside and the first after the end
    expect(h!.coverage.resets).toBe(4);
    expect(h!.note).toBeUndefined();
    expect(queries.some((q) => q.includes('instance=~"(?:127\\\\.0\\\\.0\\\\.1:[0-9]+)"'))).toBe(true);
  });
  it('without the range, treats wraps as resets, says so, and loses at most one interval per wrap', async () => {
    withRange = false;
    const [h] = await new RaplSource(new PrometheusClient(url), 1).measure({ hosts, window });
    expect(h!.joules!).toBeLessThan(fx.truth_joules);
    expect(h!.joules!).toBeGreaterThan(fx.truth_joules - 4 * 30 * 1.1);
    expect(h!.note).toMatch(/treated as a reset/);
  });
});

describe('model source on recorded CPU counters', () => {
  it('computes idle + (max − idle) × utilisation from the idle counters', async () => {
    const [h] = await new ModelSource(new PrometheusClient(url), 1, { default: { idleWatts: 10, maxWatts: 50 } }).measure({ hosts, window });
    // By hand from the fixture: per CPU, idle seconds between the samples bracketing the window.
    const series = fx.cpu_idle.data.result as Array<{ values: [number, string][] }>;
    let idle = 0;
    for (const s of series) {
      const v = s.values.map(([t, x]) => [t, Number(x)] as const);
      const at = (t: number) => {
        const i = v.findIndex(([tt]) => tt >= t);
        const [t1, x1] = v[i]!;
        const [t0, x0] = v[i - 1]!;
        return x0 + ((x1 - x0) * (t - t0)) / (t1 - t0);
      };
      idle += at(window.end) - at(window.start);
    }
    const D = window.end - window.start;
    const u = 1 - idle / (series.length * D);
    expect(h!.joules).toBeCloseTo((10 + 40 * u) * D, 6);
    expect(h!.kind).toBe('estimated');
  });
});

describe('Prometheus client errors', () => {
  it('names the query and gives Prometheus\' reason', async () => {
    const e = await new PrometheusClient(url).query('sum(rate(x[5m]').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunError);
    expect((e as RunError).message).toBe('Prometheus query "sum(rate(x[5m]" failed: bad_data: invalid parameter "query": 1:15: parse error: unclosed left parenthesis');
  });
});
