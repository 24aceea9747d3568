/**
 * A kept-up generator (src/loadgen/serve.ts) over its real control server: the plan hand-over on
 * POST /plan (token, validation, its own address/port only), each run from nothing (metrics, start
 * trigger and token of its own), the driver's connections kept when they fit, the stop between runs
 * and during one. The driver is scripted: it counts what its run is told to count.
 */
import { describe, expect, it } from 'vitest';
import type { DriverContext, DriverFigures, LoadDriver } from '../../../src/loadgen/driver.js';
import { connectionKey, NativeDriver } from '../../../src/loadgen/native/driver.js';
import { LOADGEN_PLAN_SCHEMA, instanceSettings, parsePlan, type GeneratorSettings } from '../../../src/loadgen/plan.js';
import type { Schedule } from '../../../src/loadgen/schedule.js';
import { serveGenerator } from '../../../src/loadgen/serve.js';
import type { LoadgenSummary } from '../../../src/loadgen/summary.js';
import { fakeDriverFigures } from '../../support/fake-driver-figures.js';

const FIRST = 'serve-token-first-0123456789';
const auth = (t: string) => ({ Authorization: `Bearer ${t}` });

function planJson(o: { topic: string; token: string; rate: number; port: number; bootstrap?: string }): Record<string, unknown> {
  return {
    schema: LOADGEN_PLAN_SCHEMA,
    shared: { bootstrap: o.bootstrap ?? '127.0.0.1:1', topic: o.topic, durationS: 0.1, control: { token: o.token } },
    generators: [{ id: 'g', rate: o.rate, control: { address: '127.0.0.1', port: o.port } }],
  };
}
const settingsOf = (o: Parameters<typeof planJson>[0]): GeneratorSettings => instanceSettings(parsePlan(planJson(o), 'test'), 'g');

/** Acks `rate` messages in its run (into the run's metrics and its own per-run count). */
class Counting implements LoadDriver {
  readonly name = 'native' as const;
  prepared = 0;
  closed = 0;
  private acked = 0;
  constructor(private readonly opts: { reusable?: boolean; block?: boolean } = {}) {}
  reusableFor(): boolean {
    return this.opts.reusable ?? true;
  }
  async prepare(): Promise<string> {
    this.prepared++;
    this.acked = 0;
    return 'connected';
  }
  async run(ctx: DriverContext): Promise<void> {
    ctx.metrics.acked.inc({ phase: 'measure' }, ctx.settings.rate);
    this.acked += ctx.settings.rate;
    if (this.opts.block) await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
  }
  figures(s: Schedule | undefined): DriverFigures {
    return fakeDriverFigures('counting', { start: s?.measureStart ?? 0, end: s?.end ?? 0 }, this.acked);
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

async function until(f: () => Promise<boolean>): Promise<void> {
  while (!(await f())) await new Promise((r) => setTimeout(r, 10));
}

/** A free port on 127.0.0.1 (the plan must name the port the generator serves). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('serveGenerator: a kept-up generator', () => {
  it('runs the first plan, takes the next on POST /plan with the first token, and counts only each run’s own messages', async () => {
    const port = await freePort();
    const made: Counting[] = [];
    const summaries: LoadgenSummary[] = [];
    const ac = new AbortController();
    const serving = serveGenerator(settingsOf({ topic: 't1', token: FIRST, rate: 100, port }), async () => (made.push(new Counting()), made.at(-1)!), {
      signal: ac.signal,
      finished: (s) => summaries.push(s),
    });
    const url = (p: string) => `http://127.0.0.1:${port}${p}`;
    const runState = async () => (await (await fetch(url('/run'))).json()) as { runs: number; running: boolean; run: number; status?: string };
    await until(async () => (await fetch(url('/ready')).catch(() => undefined))?.status === 200);
    expect((await fetch(url(`/start?at=${Date.now() + 20}`), { method: 'POST', headers: auth(FIRST) })).status).toBe(200);
    await until(async () => (await runState()).runs === 1);
    expect(await runState()).toEqual({ runs: 1, running: false, run: 1, status: 'completed' });
    expect(summaries[0]).toMatchObject({ status: 'completed', config: { topic: 't1', rate: 100 }, counts: { acked: 100 } });
    // Between runs: not ready, no start.
    expect((await fetch(url('/ready'))).status).toBe(503);
    expect((await fetch(url(`/start?at=${Date.now() + 20}`), { method: 'POST', headers: auth(FIRST) })).status).toBe(409);

    const SECOND = 'serve-token-second-0123456789';
    const post = (body: unknown, token = FIRST) => fetch(url('/plan'), { method: 'POST', headers: auth(token), body: JSON.stringify(body) });
    const next = { plan: planJson({ topic: 't2', token: SECOND, rate: 7, port }), instance: 'g' };
    expect((await post(next, SECOND)).status).toBe(403);
    const bad = await post({ plan: { ...planJson({ topic: 't2', token: SECOND, rate: 7, port }), schema: 'nope' }, instance: 'g' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/^POST \/plan: schema/);
    expect((await post({ plan: planJson({ topic: 't2', token: SECOND, rate: 7, port: port + 1 }), instance: 'g' })).status).toBe(409);
    const ok = await post(next);
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ run: 2 });
    expect((await post(next)).status).toBe(409); // one run at a time
    await until(async () => (await fetch(url('/ready'))).status === 200);
    // The first run's token starts nothing any more; the second's does.
    expect((await fetch(url(`/start?at=${Date.now() + 20}`), { method: 'POST', headers: auth(FIRST) })).status).toBe(403);
    expect((await fetch(url(`/start?at=${Date.now() + 20}`), { method: 'POST', headers: auth(SECOND) })).status).toBe(200);
    await until(async () => (await runState()).runs === 2);
    // Known answers: run 2 acked its own 7, not 107, in its summary and on /metrics.
    expect(summaries[1]).toMatchObject({ status: 'completed', config: { topic: 't2', rate: 7 }, counts: { acked: 7 } });
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/greenrace_loadgen_messages_acked_total\{phase="measure",instance_id="g",topic="t2"\} 7\n/);
    expect(metrics).not.toMatch(/topic="t1"/);
    // One driver for both runs (its connections kept), prepared per run, closed once at the stop.
    expect(made.length).toBe(1);
    expect(made[0]!.prepared).toBe(2);
    expect(made[0]!.closed).toBe(0);
    ac.abort();
    expect(await serving).toEqual({ runs: 2, last: 'completed', stoppedInRun: false });
    expect(made[0]!.closed).toBe(1);
    await expect(fetch(url('/run'))).rejects.toThrow(); // nothing left listening
  });

  it('makes a new driver when the kept one does not fit the next plan, and a stop during a run ends it aborted', async () => {
    const port = await freePort();
    const made: Counting[] = [];
    const ac = new AbortController();
    const summaries: LoadgenSummary[] = [];
    const serving = serveGenerator(
      settingsOf({ topic: 't1', token: FIRST, rate: 5, port }),
      async () => (made.push(new Counting({ reusable: false, block: made.length > 0 })), made.at(-1)!),
      { signal: ac.signal, finished: (s) => summaries.push(s) },
    );
    const url = (p: string) => `http://127.0.0.1:${port}${p}`;
    await until(async () => (await fetch(url('/ready')).catch(() => undefined))?.status === 200);
    await fetch(url(`/start?at=${Date.now() + 20}`), { method: 'POST', headers: auth(FIRST) });
    await until(async () => summaries.length === 1);
    const SECOND = 'serve-token-second-0123456789';
    const body = JSON.stringify({ plan: planJson({ topic: 't1', token: SECOND, rate: 5, port }), instance: 'g' });
    expect((await fetch(url('/plan'), { method: 'POST', headers: auth(FIRST), body })).status).toBe(202);
    await until(async () => (await fetch(url('/ready'))).status === 200);
    await fetch(url(`/start?at=${Date.now() + 20}`), { method: 'POST', headers: auth(SECOND) });
    await until(async () => (await (await fetch(url('/metrics'))).text()).includes('acked_total{phase="measure",instance_id="g",topic="t1"} 5'));
    expect(made.map((d) => d.closed)).toEqual([1, 0]); // the first closed before the second was made
    ac.abort();
    expect(await serving).toEqual({ runs: 2, last: 'aborted', stoppedInRun: true });
    expect(summaries.map((s) => s.status)).toEqual(['completed', 'aborted']);
    expect(made.map((d) => d.closed)).toEqual([1, 1]);
  });

  it('refuses a plan it cannot serve: no control port, or a fixed start', async () => {
    const port = await freePort();
    const fixed = instanceSettings(parsePlan({ ...planJson({ topic: 't', token: FIRST, rate: 1, port }), shared: { bootstrap: '127.0.0.1:1', topic: 't', startAt: Date.now() } }, 'test'), 'g');
    await expect(serveGenerator(fixed, async () => new Counting(), { finished: () => {} })).rejects.toMatchObject({ code: 'loadgen.serve_usage' });
  });

  it('ends by itself when no plan comes within its idle limit after a run (nothing left running)', async () => {
    const port = await freePort();
    const d = new Counting();
    const serving = serveGenerator(settingsOf({ topic: 't', token: FIRST, rate: 3, port }), async () => d, { idleMs: 100, finished: () => {} });
    const url = (p: string) => `http://127.0.0.1:${port}${p}`;
    await until(async () => (await fetch(url('/ready')).catch(() => undefined))?.status === 200);
    await fetch(url(`/start?at=${Date.now() + 20}`), { method: 'POST', headers: auth(FIRST) });
    expect(await serving).toEqual({ runs: 1, last: 'completed', stoppedInRun: false });
    expect(d.closed).toBe(1);
    await expect(fetch(url('/run'))).rejects.toThrow();
  });
});

describe('the native driver keeps its connections only for the same connection settings', () => {
  it('connectionKey changes with the brokers, acks or connections, not with the topic or rate', () => {
    const a = settingsOf({ topic: 't1', token: FIRST, rate: 100, port: 1 });
    expect(connectionKey({ ...a, topic: 't2', rate: 5 })).toBe(connectionKey(a));
    expect(connectionKey({ ...a, bootstrap: ['127.0.0.1:2'] })).not.toBe(connectionKey(a));
    expect(connectionKey({ ...a, acks: '1' })).not.toBe(connectionKey(a));
    expect(new NativeDriver().reusableFor(a)).toBe(false); // nothing connected yet
  });
});
