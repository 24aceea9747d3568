/**
 * What the controller does while the generators run: the shared start (once every generator
 * answers /ready, all get the same `POST /start?at=` with the run's token), progress from their
 * own metrics, and a broker watchdog (a broker that stops answering ends the run).
 */
import { START_TOKEN_HEADER, START_TOKEN_SCHEME } from '../../loadgen/plan.js';
import type { GeneratorPlan, IngestPlan } from './plan.js';
import { tcpAnswers } from '../../core/tcp.js';

/** Sum of a counter family in a Prometheus text exposition (optionally one label value). */
export function sumMetric(text: string, name: string, label?: [string, string]): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+eE\d.]+|NaN)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (label && !(m[2] ?? '').includes(`${label[0]}="${label[1]}"`)) continue;
    total += Number(m[3]);
  }
  return total;
}

async function scrape(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

export function tcpAlive(hostPort: string, timeoutMs: number): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(i + 1));
  return tcpAnswers(host, port, timeoutMs);
}

const url = (g: GeneratorPlan, path: string): string => `http://${g.address.includes(':') ? `[${g.address}]` : g.address}:${g.metricsPort}${path}`;

export interface Watch {
  /** The shared start once sent, epoch ms. */
  readonly sharedStart: number | undefined;
  stop(): void;
}

/** One generator's answer to `POST /start`: accepted, or why not (HTTP status and body, or the network error). */
async function postStart(g: GeneratorPlan, at: number, headers: Record<string, string>): Promise<{ id: string; ok: true } | { id: string; ok: false; why: string }> {
  try {
    const r = await fetch(url(g, `/start?at=${at}`), { method: 'POST', headers, signal: AbortSignal.timeout(1500) });
    if (r.ok) return { id: g.id, ok: true };
    const body = (await r.text().catch(() => '')).trim().split('\n')[0]?.slice(0, 200) ?? '';
    return { id: g.id, ok: false, why: `HTTP ${r.status}${body ? ` ${body}` : ''}` };
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string }; message?: string };
    return { id: g.id, ok: false, why: err.name === 'TimeoutError' ? 'no answer within 1.5 s' : (err.cause?.code ?? err.message ?? String(e)) };
  }
}

/**
 * How far ahead of now the shared start is set, from the round trip of the readiness poll that found
 * every generator ready (ms, all of them asked side by side): the start reaches each in one more
 * round trip, so three of them plus 100 ms, at least 250 ms, at most the 2 s it used to be fixed at.
 */
export function startLeadMs(readyRoundTripMs: number): number {
  return Math.round(Math.min(2000, Math.max(250, 3 * Math.max(0, readyRoundTripMs) + 100)));
}

/**
 * Every 250 ms (the first at once): once all generators are ready, send each the same start time
 * (now + startLeadMs of the readiness round trip), once.
 * A generator that does not accept it (a wrong token, already started, unreachable) ends the run
 * through `refused`, naming each one and why: those that accepted would otherwise load the brokers
 * alone, and a second trigger would reach them twice.
 */
function startTrigger(
  plan: IngestPlan,
  token: string,
  stop: AbortSignal,
  progress: (l: string) => void,
  refused: (message: string) => void,
  state: { sharedStart?: number; sent?: boolean },
  gate?: Promise<boolean>,
): NodeJS.Timeout {
  let busy = false;
  let gateOpen = gate === undefined;
  void gate?.then(
    (open) => (gateOpen = open),
    () => undefined,
  );
  const poll = (): void => {
    if (!gateOpen || busy || state.sent || stop.aborted) return;
    busy = true;
    const asked = Date.now();
    void Promise.all(plan.generators.map((g) => scrape(url(g, '/ready'), 1000)))
      .then(async (ready) => {
        if (ready.some((x) => x === undefined) || state.sent || stop.aborted) return;
        state.sent = true;
        const at = Date.now() + startLeadMs(Date.now() - asked);
        const headers = { [START_TOKEN_HEADER]: `${START_TOKEN_SCHEME} ${token}` };
        const answers = await Promise.all(plan.generators.map((g) => postStart(g, at, headers)));
        const no = answers.filter((a): a is Extract<typeof a, { ok: false }> => !a.ok);
        if (no.length === 0) {
          state.sharedStart = at;
          progress(`all ${plan.generators.length} generators ready: shared start ${new Date(at).toISOString()}`);
          return;
        }
        const yes = answers.filter((a) => a.ok).map((a) => a.id);
        refused(
          `the start trigger was refused by ${no.length} of ${plan.generators.length} generators (${no.map((a) => `${a.id}: ${a.why}`).join('; ')})` +
            (yes.length ? `; ${yes.join(', ')} accepted it and are stopped` : ''),
        );
      })
      .finally(() => (busy = false));
  };
  setImmediate(poll);
  return setInterval(poll, 250);
}

/** Every 2 s once started: the acked rate from the generators' counters, the phase and the time left.
 *  The rate sums, per generator, the change of its own counter between two answers in a row, so a
 *  generator that stops answering (it ended, or its pod is gone) lowers the total acked it shows but
 *  never turns the rate negative. */
function progressLoop(plan: IngestPlan, stop: AbortSignal, progress: (l: string) => void, state: { sharedStart?: number }): NodeJS.Timeout {
  const last = new Map<string, { acked: number; failed: number; t: number }>();
  const end = (s: number): number => s + (plan.warmupS + plan.durationS) * 1000;
  return setInterval(() => {
    const start = state.sharedStart;
    if (start === undefined || Date.now() < start) return;
    void Promise.all(plan.generators.map((g) => scrape(url(g, '/metrics'), 1500))).then((texts) => {
      if (stop.aborted) return;
      const t = Date.now();
      let delta = 0;
      let span = 0;
      let reporting = 0;
      texts.forEach((text, i) => {
        const id = plan.generators[i]!.id;
        if (text === undefined) return;
        reporting++;
        const now = { acked: sumMetric(text, 'greenrace_loadgen_messages_acked_total'), failed: sumMetric(text, 'greenrace_loadgen_messages_failed_total'), t };
        const before = last.get(id);
        if (before && now.acked >= before.acked) {
          delta += now.acked - before.acked;
          span = Math.max(span, t - before.t);
        }
        last.set(id, now);
      });
      if (!reporting) return;
      const acked = [...last.values()].reduce((a, g) => a + g.acked, 0);
      const failed = [...last.values()].reduce((a, g) => a + g.failed, 0);
      const rate = span > 0 ? (delta * 1000) / span : 0;
      const phase = t < start + plan.warmupS * 1000 ? 'warm-up' : t < end(start) ? 'measure' : 'draining';
      const left = Math.max(0, Math.round((end(start) - t) / 1000));
      progress(`${phase}: ${Math.round(rate)} msg/s acked (target ${plan.load}), ${acked} acked, ${failed} failed, ${reporting}/${plan.generators.length} generators reporting, ${left} s left`);
    });
  }, 2000);
}

/** Every 2 s once started: a broker missing two checks in a row calls `down`. */
function brokerWatchdog(plan: IngestPlan, deadlineMs: number, stop: AbortSignal, down: (message: string) => void, state: { sharedStart?: number }): NodeJS.Timeout {
  const misses = new Map<string, number>();
  return setInterval(() => {
    if (state.sharedStart === undefined || Date.now() > deadlineMs || stop.aborted) return;
    for (const b of plan.bootstrap) {
      void tcpAlive(b, 1500).then((ok) => {
        const n = ok ? 0 : (misses.get(b) ?? 0) + 1;
        misses.set(b, n);
        if (n >= 2 && !stop.aborted) down(`broker ${b} stopped answering during the run`);
      });
    }
  }, 2000);
}

export interface WatchOptions {
  /** The run's start token, sent as `Authorization: Bearer <token>` with `POST /start`. */
  token: string;
  deadlineMs: number;
  stop: AbortSignal;
  progress: (l: string) => void;
  brokerDown: (message: string) => void;
  /** Some generator did not accept the shared start: the run must end (message names each one). */
  startRefused: (message: string) => void;
  /** No shared start before this resolves true (the run's topic exists); false or rejected: never. */
  gate?: Promise<boolean>;
}

export function watchRun(plan: IngestPlan, o: WatchOptions): Watch {
  const state: { sharedStart?: number; sent?: boolean } = {};
  const timers = [startTrigger(plan, o.token, o.stop, o.progress, o.startRefused, state, o.gate), progressLoop(plan, o.stop, o.progress, state), brokerWatchdog(plan, o.deadlineMs, o.stop, o.brokerDown, state)];
  return {
    get sharedStart() {
      return state.sharedStart;
    },
    stop: () => timers.forEach((t) => clearInterval(t)),
  };
}
