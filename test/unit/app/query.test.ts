import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_POINTS, energyOver, latestRunRecord, prometheusFor, queryInstant, queryRange, rangeStep } from '../../../src/app/query.js';
import { writeState, type ExperimentState } from '../../../src/app/state.js';
import { experimentSchema } from '../../../src/experiment/schema.js';
import { saveRunRecord, type RunRecord } from '../../../src/runs/record.js';

const root = mkdtempSync(join(tmpdir(), 'gr-app-query-'));
const saved = { state: process.env.GREENRACE_STATE_DIR, results: process.env.GREENRACE_RESULTS_DIR };
process.env.GREENRACE_STATE_DIR = join(root, 'state');
process.env.GREENRACE_RESULTS_DIR = join(root, 'results');

/** A stand-in for Prometheus' HTTP API that records the requests it gets. */
let server: Server;
let promUrl = '';
/** Path and form parameters of each request (the client POSTs its queries). */
const requests: Array<{ pathname: string; searchParams: URLSearchParams }> = [];

function state(exp: string, endpoints: Record<string, string>, phase: ExperimentState['phase'] = 'ready'): void {
  writeState(join(root, 'state', exp), {
    version: 1,
    experiment: exp,
    phase,
    platformKind: 'static',
    platform: { kind: 'static', data: {}, hosts: [{ name: 'h1', address: '127.0.0.1', port: 22, user: 'root', roles: ['control'] }] },
    experimentSnapshot: experimentSchema.parse({ name: exp }),
    files: [],
    services: [],
    endpoints,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    let form = '';
    for await (const c of req) form += String(c);
    requests.push({ pathname: u.pathname, searchParams: new URLSearchParams(form) });
    res.setHeader('content-type', 'application/json');
    const body =
      u.pathname === '/api/v1/query'
        ? { status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'up', instance: 'h1:9100', job: 'node' }, value: [1767225600, '1'] }] } }
        : { status: 'success', data: { resultType: 'matrix', result: [{ metric: { job: 'node' }, values: [[1767225600, '1'], [1767225615, '0.5']] }] } };
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  promUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  state('withprom', { prometheus_url: promUrl });
  state('noprom', {});
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
  for (const [k, v] of [['GREENRACE_STATE_DIR', saved.state], ['GREENRACE_RESULTS_DIR', saved.results]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("PromQL on the experiment's Prometheus", () => {
  it('asks the Prometheus of the state and returns the series', async () => {
    expect((await prometheusFor('withprom')).url).toBe(promUrl);
    const v = await queryInstant('withprom', 'up');
    expect(v).toEqual([{ metric: { __name__: 'up', instance: 'h1:9100', job: 'node' }, value: [1767225600, 1] }]);
    expect(requests.at(-1)!.searchParams.get('query')).toBe('up');
  });

  it('a range query steps by the scrape interval, widened to at most 500 points', async () => {
    const m = await queryRange('withprom', 'up', { start: 1000, end: 1600 }, { scrapeInterval: 15 });
    expect(m[0]!.values).toEqual([[1767225600, 1], [1767225615, 0.5]]);
    const q = requests.at(-1)!;
    expect([q.pathname, q.searchParams.get('start'), q.searchParams.get('end'), q.searchParams.get('step')]).toEqual(['/api/v1/query_range', '1000', '1600', '15']);
    expect(rangeStep({ start: 0, end: 86400 }, 15)).toBe(86400 / MAX_POINTS);
    expect(rangeStep({ start: 0, end: 60 }, 5)).toBe(5);
  });

  it('says what is missing: a cluster, a Prometheus, a valid expression or window', async () => {
    await expect(queryInstant('nothing', 'up')).rejects.toMatchObject({ code: 'query.no_cluster', message: 'experiment nothing has no cluster' });
    await expect(queryInstant('noprom', 'up')).rejects.toMatchObject({ code: 'query.no_prometheus', message: 'experiment noprom has no Prometheus endpoint' });
    await expect(queryInstant('withprom', ' ')).rejects.toMatchObject({ code: 'query.bad_promql' });
    await expect(queryRange('withprom', 'up', { start: 10, end: 10 }, { scrapeInterval: 15 })).rejects.toMatchObject({ code: 'query.bad_window' });
    await expect(queryRange('withprom', 'up', { start: 0, end: 10 }, { scrapeInterval: 0 })).rejects.toMatchObject({ code: 'query.bad_step' });
    await expect(energyOver('withprom', { start: 5, end: 1 })).rejects.toMatchObject({ code: 'query.bad_window' });
  });

  it('energy needs a ready experiment', async () => {
    state('deploying', { prometheus_url: promUrl }, 'deploying');
    await expect(energyOver('deploying', { start: 0, end: 60 })).rejects.toMatchObject({ code: 'state.not_ready' });
  });
});

describe('latest run record', () => {
  const rec = (id: string): RunRecord => ({ schema: 'greenrace.run/1', id, experiment: 'runs', workload: 'ingest', status: 'completed', startedAt: '2026-01-01T00:00:00.000Z', parameters: {} });

  it('is the run.json modified last; folders without one are skipped; none before any run', () => {
    expect(latestRunRecord('runs')).toBeUndefined();
    const older = saveRunRecord(rec('run-b'));
    const newer = saveRunRecord(rec('run-a'));
    utimesSync(older, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    utimesSync(newer, new Date('2026-01-02T00:00:00Z'), new Date('2026-01-02T00:00:00Z'));
    mkdirSync(join(root, 'results', 'runs', 'fetched'), { recursive: true });
    expect(latestRunRecord('runs')?.id).toBe('run-a');
  });
});
