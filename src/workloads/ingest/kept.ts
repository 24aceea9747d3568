/**
 * Generators kept up between the runs of one campaign (issue 17): the first run starts each with
 * `loadgen --serve` (the same start, process supervision and stop as any generator); a later run on
 * the same host, generator id and control port hands its plan over (`POST /plan`, src/loadgen/serve.ts)
 * instead of starting a process, and waits for the run's end on `GET /run` instead of the process's
 * exit. The campaign releases them (executor stop: SIGTERM, then SIGKILL after the grace) at its end,
 * on an error or Ctrl-C, and before a setup between groups; a run that did not end completed stops
 * the ones it used.
 */
import { START_TOKEN_HEADER, START_TOKEN_SCHEME, type LoadgenPlanInput } from '../../loadgen/plan.js';
import type { Executor, Started } from '../../runtimes/executor.js';
import type { GeneratorPlan } from './plan.js';

export interface KeptGenerator {
  started: Started;
  /** http://address:port of its control server. */
  base: string;
  /** The token of the plan it was started with: it authenticates each hand-over. */
  serveToken: string;
}

/** One generator of one run on a kept-up process: the run number it is serving for this run. */
export interface Served {
  g: GeneratorPlan;
  kept: KeptGenerator;
  run: number;
  /** It answered GET /run at least once (a refused connection after that: it is gone). */
  answered?: boolean;
}

export const controlBase = (g: GeneratorPlan): string => `http://${g.address.includes(':') ? `[${g.address}]` : g.address}:${g.metricsPort}`;
const keyOf = (g: GeneratorPlan): string => `${g.host}|${g.id}|${controlBase(g)}`;

export class KeptGenerators {
  private readonly byKey = new Map<string, KeptGenerator>();
  /** The executor that started them (the campaign's shared one): it stops them. */
  private executor: Executor | undefined;

  get size(): number {
    return this.byKey.size;
  }

  get(g: GeneratorPlan, executor: Executor): KeptGenerator | undefined {
    return this.executor === executor ? this.byKey.get(keyOf(g)) : undefined;
  }

  add(g: GeneratorPlan, executor: Executor, kept: KeptGenerator): void {
    this.executor = executor;
    this.byKey.set(keyOf(g), kept);
  }

  /** Stop the given ones (a run that did not end completed) and forget them. Bounded, never throws. */
  async drop(which: KeptGenerator[], graceSeconds = 10): Promise<void> {
    const ex = this.executor;
    for (const [k, v] of this.byKey) if (which.includes(v)) this.byKey.delete(k);
    if (ex && which.length) await ex.stop(which.map((k) => k.started), { graceSeconds }).catch(() => undefined);
  }

  /** Stop every kept generator (the campaign's end, an error, Ctrl-C, a setup between groups). */
  async release(): Promise<void> {
    await this.drop([...this.byKey.values()]);
    this.executor = undefined;
  }
}

/**
 * Hand a run's plan to a kept generator: the run number it will serve, or undefined when it does
 * not take it (gone, busy or refusing: the caller starts a new one after stopping it).
 */
export async function handOver(k: KeptGenerator, plan: LoadgenPlanInput, g: GeneratorPlan, summary: string): Promise<{ run: number } | { refused: string }> {
  try {
    const r = await fetch(`${k.base}/plan`, {
      method: 'POST',
      headers: { [START_TOKEN_HEADER]: `${START_TOKEN_SCHEME} ${k.serveToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ plan, instance: g.id, summary }),
      signal: AbortSignal.timeout(3000),
    });
    const text = await r.text();
    if (r.status !== 202) return { refused: `HTTP ${r.status}: ${text.trim()}` };
    return { run: (JSON.parse(text) as { run: number }).run };
  } catch (e) {
    return { refused: (e as Error).message };
  }
}

const refused = (e: unknown): boolean => {
  const cause = (e as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
};

/**
 * Wait until every served generator's run is over and its summary written (`GET /run`: `runs` has
 * reached the run's number and nothing is running), or one is gone (its connection refused after it
 * answered once: its summary is missing, which the results say; a timed-out answer is not that), or the timeout or the signal.
 * True when every one has ended.
 */
export async function waitServed(served: Served[], o: { timeoutMs: number; signal?: AbortSignal; pollMs?: number }): Promise<boolean> {
  const until = Date.now() + o.timeoutMs;
  const pending = new Set(served);
  while (pending.size) {
    if (o.signal?.aborted || Date.now() > until) return false;
    await Promise.all(
      [...pending].map(async (s) => {
        try {
          const r = await fetch(`${s.kept.base}/run`, { signal: AbortSignal.timeout(2000) });
          const st = (await r.json()) as { runs: number; running: boolean };
          s.answered = true;
          if (st.runs >= s.run && !st.running) pending.delete(s);
        } catch (e) {
          // Gone only when its port refuses after it answered once; a slow answer (a busy host) is not.
          if (s.answered && refused(e)) pending.delete(s);
        }
      }),
    );
    if (pending.size) await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
  }
  return true;
}
