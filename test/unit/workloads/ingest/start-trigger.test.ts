/**
 * The controller's side of the generators' shared start (issue 13 item 17): the run's token goes
 * with every `POST /start`, and a run where only some generators accept the trigger ends clearly,
 * naming each generator that refused and why. The generators here are the real control servers
 * (src/loadgen/control.ts) on loopback, each checking its own token.
 */
import { Registry } from 'prom-client';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serveControl, StartTrigger } from '../../../../src/loadgen/control.js';
import type { IngestPlan } from '../../../../src/workloads/ingest/plan.js';
import { startLeadMs, watchRun, type Watch } from '../../../../src/workloads/ingest/watch.js';

const TOKEN = 'run-token-0123456789abcdef';
const servers: Server[] = [];
let watch: Watch | undefined;
const stop = new AbortController();

afterEach(() => {
  watch?.stop();
  watch = undefined;
  for (const s of servers.splice(0)) s.close();
});

/** A ready generator whose control server wants `token`. */
async function generator(id: string, token: string): Promise<{ id: string; port: number; trigger: StartTrigger; fired: number[] }> {
  const trigger = new StartTrigger();
  trigger.ready = true;
  const fired: number[] = [];
  const fire = trigger.fire.bind(trigger);
  trigger.fire = (at: number) => {
    fired.push(at);
    return fire(at);
  };
  const { server, port } = await serveControl({ registry: new Registry(), address: '127.0.0.1', port: 0, trigger, token });
  servers.push(server);
  return { id, port, trigger, fired };
}

const planOf = (gens: Array<{ id: string; port: number }>): IngestPlan =>
  ({ load: 100, warmupS: 1, durationS: 1, bootstrap: [], generators: gens.map((g) => ({ id: g.id, host: `w-${g.id}`, address: '127.0.0.1', rate: 50, metricsPort: g.port })) }) as unknown as IngestPlan;

function watchUntil(plan: IngestPlan, gate?: Promise<boolean>): Promise<{ started?: number; refused?: string; lines: string[] }> {
  const lines: string[] = [];
  return new Promise((resolve) => {
    watch = watchRun(plan, {
      token: TOKEN,
      deadlineMs: Date.now() + 60_000,
      stop: stop.signal,
      progress: (l) => {
        lines.push(l);
        if (l.includes('shared start')) resolve({ started: watch!.sharedStart!, lines });
      },
      brokerDown: () => undefined,
      startRefused: (m) => resolve({ refused: m, lines }),
      ...(gate ? { gate } : {}),
    });
  });
}

describe('the shared start', () => {
  it('every generator gets the same start with the run token and accepts it', async () => {
    const gs = [await generator('g0', TOKEN), await generator('g1', TOKEN)];
    const r = await watchUntil(planOf(gs));
    expect(r.refused).toBeUndefined();
    expect(r.started).toBeGreaterThan(0);
    for (const g of gs) expect(g.fired).toEqual([r.started]);
  });

  it('a run where only some generators accept the trigger ends, naming the ones that refused and why', async () => {
    const gs = [await generator('g0', TOKEN), await generator('g1', 'another-run-token-000000'), await generator('g2', TOKEN)];
    const r = await watchUntil(planOf(gs));
    expect(r.started).toBeUndefined();
    expect(r.refused).toBe(
      'the start trigger was refused by 1 of 3 generators (g1: HTTP 403 missing or wrong start token (Authorization: Bearer <token>)); g0, g2 accepted it and are stopped',
    );
    // The trigger is sent once: the generators that accepted are not sent a second start.
    await new Promise((res) => setTimeout(res, 2500));
    expect(gs[0]!.fired).toHaveLength(1);
    expect(gs[1]!.fired).toHaveLength(0);
    expect(watch!.sharedStart).toBeUndefined();
  });

  it('waits for the gate (the run\'s topic created) before the start, with every generator ready', async () => {
    const gs = [await generator('g0', TOKEN)];
    let open!: (v: boolean) => void;
    const gate = new Promise<boolean>((r) => (open = r));
    const started = watchUntil(planOf(gs), gate);
    await new Promise((res) => setTimeout(res, 700)); // a few readiness polls, all ready
    expect(gs[0]!.fired).toHaveLength(0);
    open(true);
    const r = await started;
    expect(gs[0]!.fired).toEqual([r.started]);
  });

  it('never starts when the gate says no (the topic could not be created)', async () => {
    const gs = [await generator('g0', TOKEN)];
    void watchUntil(planOf(gs), Promise.resolve(false));
    await new Promise((res) => setTimeout(res, 700));
    expect(gs[0]!.fired).toHaveLength(0);
    expect(watch!.sharedStart).toBeUndefined();
  });
});

describe('startLeadMs', () => {
  it('is three readiness round trips plus 100 ms', () => {
    expect(startLeadMs(100)).toBe(400);
    expect(startLeadMs(300)).toBe(1000);
  });
  it('is at least 250 ms and at most the 2 s it used to be fixed at', () => {
    expect(startLeadMs(0)).toBe(250);
    expect(startLeadMs(-5)).toBe(250);
    expect(startLeadMs(5000)).toBe(2000);
  });
});
