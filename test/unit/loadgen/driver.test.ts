/**
 * The start-up every driver shares (src/loadgen/driver.ts), with a scripted driver: bounded
 * connect, the start trigger with its token, the max-late check, stops and failures that still
 * leave a summary with a stable error code.
 */
import { describe, expect, it } from 'vitest';
import { runGenerator, type DriverContext, type DriverFigures, type LoadDriver } from '../../../src/loadgen/driver.js';
import { LOADGEN_PLAN_SCHEMA, instanceSettings, parsePlan, type GeneratorSettings } from '../../../src/loadgen/plan.js';
import type { Schedule } from '../../../src/loadgen/schedule.js';
import { LOADGEN_SUMMARY_SCHEMA } from '../../../src/loadgen/summary.js';
import { fakeDriverFigures } from '../../support/fake-driver-figures.js';

const TOKEN = 'unit-token-0123456789';

function settings(shared: Record<string, unknown> = {}, control = true): GeneratorSettings {
  const plan = parsePlan(
    {
      schema: LOADGEN_PLAN_SCHEMA,
      shared: { bootstrap: '127.0.0.1:1', topic: 't', durationS: 0.2, control: { token: TOKEN }, ...shared },
      generators: [{ id: 'g', rate: 100, ...(control ? { control: { address: '127.0.0.1', port: 0 } } : {}) }],
    },
    'test',
  );
  return instanceSettings(plan, 'g');
}

class Scripted implements LoadDriver {
  readonly name = 'native' as const;
  ran: Schedule | undefined;
  closed = false;
  constructor(private readonly script: { prepare?: () => Promise<string>; run?: (ctx: DriverContext) => Promise<void> } = {}) {}
  prepare(): Promise<string> {
    return this.script.prepare ? this.script.prepare() : Promise.resolve('connected');
  }
  async run(ctx: DriverContext, s: Schedule): Promise<void> {
    this.ran = s;
    if (this.script.run) await this.script.run(ctx);
  }
  figures(s: Schedule | undefined): DriverFigures {
    return fakeDriverFigures('scripted', { start: s?.measureStart ?? 0, end: s?.end ?? 0 }, 0);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('runGenerator: the shared start-up', () => {
  it('waits for POST /start with the token and runs from the time it gives', async () => {
    const d = new Scripted();
    let port = 0;
    const done = runGenerator(settings(), d, { onListening: (p) => (port = p) });
    const url = (p: string) => `http://127.0.0.1:${port}${p}`;
    while (port === 0 || (await fetch(url('/ready'))).status !== 200) await new Promise((r) => setTimeout(r, 10));
    expect((await fetch(url('/start?at=1'), { method: 'POST' })).status).toBe(403);
    const at = Date.now() + 100;
    expect((await fetch(url(`/start?at=${at}`), { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const s = await done;
    expect(s).toMatchObject({ schema: LOADGEN_SUMMARY_SCHEMA, status: 'completed', instance: 'g', config: { startAt: at, topic: 't', rate: 100 } });
    expect(d.ran?.startAt).toBe(at);
    expect(d.closed).toBe(true);
  });

  it('refuses a shared start it is too late for (max-late), with a summary that says why', async () => {
    const d = new Scripted();
    const s = await runGenerator(settings({ startAt: Date.now() - 5000, timeouts: { maxLateMs: 1000 } }, false), d);
    expect(s.status).toBe('failed');
    expect(s.error).toEqual({ code: 'loadgen.late_start', message: expect.stringMatching(/^ready \d+ ms after the shared start time \(allowed 1000 ms\)/) });
    expect(d.ran).toBeUndefined();
  });

  it('gives up when no start trigger comes, and when the brokers cannot be reached, each with its code', async () => {
    const noStart = await runGenerator(settings({ timeouts: { startMs: 150 } }), new Scripted());
    expect(noStart.error?.code).toBe('loadgen.no_start');
    const hang = new Scripted({ prepare: () => new Promise(() => {}) });
    const noConnect = await runGenerator(settings({ timeouts: { connectMs: 150 } }), hang);
    expect(noConnect).toMatchObject({ status: 'failed', error: { code: 'loadgen.connect', message: 'reaching 127.0.0.1:1 did not finish within 150 ms' } });
    expect(hang.closed).toBe(true);
    const plain = await runGenerator(settings({ startAt: Date.now() + 50 }, false), new Scripted({ run: () => Promise.reject(new Error('boom')) }));
    expect(plain.error).toEqual({ code: 'loadgen.error', message: 'boom' });
  });

  it('a stop before the start leaves an aborted summary; a stop during the run too', async () => {
    const ac = new AbortController();
    const waiting = runGenerator(settings(), new Scripted(), { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    expect(await waiting).toMatchObject({ status: 'aborted' });
    expect((await waiting).error).toBeUndefined();
    const ac2 = new AbortController();
    const running = runGenerator(
      settings({ startAt: Date.now() + 20 }, false),
      new Scripted({ run: (ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => r())) }),
      { signal: ac2.signal },
    );
    setTimeout(() => ac2.abort(), 150);
    expect((await running).status).toBe('aborted');
  });

  it('a control port already taken fails with its own code', async () => {
    const first = new Scripted({ run: () => new Promise((r) => setTimeout(r, 300)) });
    let port = 0;
    const a = runGenerator(settings({ startAt: Date.now() + 20 }), first, { onListening: (p) => (port = p) });
    while (port === 0) await new Promise((r) => setTimeout(r, 5));
    const s = settings({ startAt: Date.now() + 20 });
    const b = await runGenerator({ ...s, control: { ...s.control!, port } }, new Scripted());
    expect(b.error?.code).toBe('loadgen.control_listen');
    await a;
  });
});
