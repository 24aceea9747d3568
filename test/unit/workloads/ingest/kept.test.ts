/**
 * The controller's side of a kept-up generator (src/workloads/ingest/kept.ts) against a real one
 * (src/loadgen/serve.ts, scripted driver): the hand-over of a run's plan, the wait for that run's end
 * on GET /run (not the previous run's), a refused hand-over, and a generator gone mid-wait.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { DriverContext, DriverFigures, LoadDriver } from '../../../../src/loadgen/driver.js';
import { LOADGEN_PLAN_SCHEMA, instanceSettings, parsePlan } from '../../../../src/loadgen/plan.js';
import { serveGenerator } from '../../../../src/loadgen/serve.js';
import type { LoadgenSummary } from '../../../../src/loadgen/summary.js';
import { controlBase, handOver, waitServed, type KeptGenerator } from '../../../../src/workloads/ingest/kept.js';
import type { GeneratorPlan } from '../../../../src/workloads/ingest/plan.js';
import { fakeDriverFigures } from '../../../support/fake-driver-figures.js';

const FIRST = 'kept-token-first-0123456789';
const SECOND = 'kept-token-second-0123456789';

/** Runs until its schedule's end, counting `rate` acked messages. */
class Timed implements LoadDriver {
  readonly name = 'native' as const;
  private acked = 0;
  reusableFor(): boolean {
    return true;
  }
  async prepare(): Promise<string> {
    this.acked = 0;
    return 'connected';
  }
  async run(ctx: DriverContext): Promise<void> {
    this.acked += ctx.settings.rate;
    await new Promise((r) => setTimeout(r, 150));
  }
  figures(): DriverFigures {
    return fakeDriverFigures('timed', undefined, this.acked);
  }
  async close(): Promise<void> {}
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

const planOf = (token: string, rate: number, port: number) => ({
  schema: LOADGEN_PLAN_SCHEMA,
  shared: { bootstrap: '127.0.0.1:1', topic: 't', durationS: 0.1, control: { token } },
  generators: [{ id: 'w-0', rate, control: { address: '127.0.0.1', port } }],
});

describe('kept-up generators from the controller', () => {
  it('hands a run over, waits for that run (not the one before), and refuses what the generator refuses', async () => {
    const port = await freePort();
    const g: GeneratorPlan = { id: 'w-0', host: 'worker-1', address: '127.0.0.1', rate: 10, metricsPort: port };
    const summaries: LoadgenSummary[] = [];
    const ac = new AbortController();
    const serving = serveGenerator(instanceSettings(parsePlan(planOf(FIRST, 10, port), 'test'), 'w-0'), async () => new Timed(), { signal: ac.signal, finished: (s) => summaries.push(s) });
    const k: KeptGenerator = { started: { host: g.host, name: 'loadgen-w-0' } as KeptGenerator['started'], base: controlBase(g), serveToken: FIRST };
    while ((await fetch(`${k.base}/ready`).catch(() => undefined))?.status !== 200) await new Promise((r) => setTimeout(r, 10));
    await fetch(`${k.base}/start?at=${Date.now() + 10}`, { method: 'POST', headers: { Authorization: `Bearer ${FIRST}` } });
    expect(await waitServed([{ g, kept: k, run: 1 }], { timeoutMs: 10_000, pollMs: 10 })).toBe(true);
    expect(summaries.map((s) => s.counts.acked)).toEqual([10]);

    expect(await handOver({ ...k, serveToken: SECOND }, planOf(SECOND, 4, port), g, '/tmp/x.json')).toEqual({ refused: expect.stringMatching(/^HTTP 403/) });
    const r = await handOver(k, planOf(SECOND, 4, port), g, '/tmp/unused-by-the-callback.json');
    expect(r).toEqual({ run: 2 });
    // Run 1 is over, run 2 not started: the wait for run 2 does not end on run 1's end.
    const waiting = waitServed([{ g, kept: k, run: 2 }], { timeoutMs: 10_000, pollMs: 10 });
    let over = false;
    void waiting.then(() => (over = true));
    while ((await fetch(`${k.base}/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 10));
    expect(over).toBe(false);
    await fetch(`${k.base}/start?at=${Date.now() + 10}`, { method: 'POST', headers: { Authorization: `Bearer ${SECOND}` } });
    expect(await waiting).toBe(true);
    expect(summaries.map((s) => s.counts.acked)).toEqual([10, 4]);

    // Gone: a refused hand-over; a wait that had an answer ends when it goes.
    ac.abort();
    await serving;
    expect(await handOver(k, planOf(SECOND, 4, port), g, '/tmp/x.json')).toEqual({ refused: expect.any(String) });
    expect(await waitServed([{ g, kept: k, run: 3, answered: true }], { timeoutMs: 10_000, pollMs: 10 })).toBe(true);
    expect(await waitServed([{ g, kept: k, run: 3 }], { timeoutMs: 100, pollMs: 10 })).toBe(false);
  });
});
