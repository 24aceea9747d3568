/**
 * One interface for every load driver, and the start-up every driver shares, written once:
 * the control/metrics server (bound to the plan's address, the start token checked), reaching the
 * brokers before the start (bounded), reporting ready, waiting for the controller's shared start
 * (`POST /start?at=`, bounded) or the plan's fixed start, refusing a start it is too late for
 * (max-late check), waiting until the start, running, and the summary (also when stopped or failed).
 * Every failure is a GreenraceError with a stable code; the summary carries it.
 */
import { hostname } from 'node:os';
import { ExitCode, GreenraceError, RunError, errorMessage } from '../core/errors.js';
import { serveControl, StartTrigger, type ControlServerOptions } from './control.js';
import { LatencyHistogram } from './histogram.js';
import { createLoadgenMetrics, type LoadgenMetrics } from './metrics.js';
import type { DriverName, GeneratorSettings } from './plan.js';
import { Schedule, nowMs } from './schedule.js';
import { summaryHead, type LoadgenStatus, type LoadgenSummary } from './summary.js';

/** What a driver is given. */
export interface DriverContext {
  settings: GeneratorSettings;
  metrics: LoadgenMetrics;
  /** The latency histogram the metrics server reads (drivers with exact latencies record here). */
  histogram: LatencyHistogram;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** The figures a driver reports: the summary without the fields the runner fills. */
export type DriverFigures = Omit<LoadgenSummary, 'schema' | 'driver' | 'instance' | 'host' | 'status' | 'error' | 'config'>;

export interface LoadDriver {
  readonly name: DriverName;
  /** Reach the brokers / check the tool before the start; a line for the log. Bounded by the runner. */
  prepare(ctx: DriverContext): Promise<string>;
  /**
   * Produce on `schedule` (its start is the shared start; the runner has waited for it). Resolves
   * when the run is over or stopped (`ctx.signal`); throws a GreenraceError when it fails.
   */
  run(ctx: DriverContext, schedule: Schedule): Promise<void>;
  /** The figures so far (also after a failure or a stop; `schedule` undefined: never started). */
  figures(schedule: Schedule | undefined, end: { status: LoadgenStatus; stoppedAt?: number }): DriverFigures;
  /** Keys the driver really sent with (perf-test: none). */
  keys?(settings: GeneratorSettings): string;
  /** Release connections/processes. Bounded, never throws. */
  close(): Promise<void>;
  /**
   * A kept-up generator's next run (loadgen/serve.ts): true when the connections this driver holds
   * fit `next` (then its prepare() keeps them and only checks the topic); false or absent: the
   * runner closes it and makes a new one. Nothing of the previous run's figures is kept either way.
   */
  reusableFor?(next: GeneratorSettings): boolean;
}

export interface RunIO {
  signal?: AbortSignal;
  /** Progress lines (one a second) and notable events. */
  log?: (line: string) => void;
  /** Called once the control/metrics server listens (tests use the port). */
  onListening?: (port: number) => void;
  /**
   * A kept-up generator (loadgen/serve.ts): its control server, already listening; the run puts its
   * own metrics registry, start trigger and token on `options` and neither closes the server nor
   * the driver at its end.
   */
  served?: { options: ControlServerOptions };
}

/** Reject with a GreenraceError when `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, code: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new RunError(code, `${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

function abortable<T>(p: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new GreenraceError('loadgen.aborted', `stopped ${what}`, { exitCode: ExitCode.interrupted }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new GreenraceError('loadgen.aborted', `stopped ${what}`, { exitCode: ExitCode.interrupted }));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const sleepUntil = (t: number, signal: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    const wait = t - nowMs();
    if (wait <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, wait);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Run one generator instance with `driver`: the shared start-up, the driver's run, the summary.
 * Never throws for a run that went wrong: the summary says `failed` (with the error) or `aborted`.
 */
export async function runGenerator(s: GeneratorSettings, driver: LoadDriver, io: RunIO = {}): Promise<LoadgenSummary> {
  const log = io.log ?? (() => {});
  const ac = new AbortController();
  const onOuterAbort = (): void => ac.abort();
  io.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (io.signal?.aborted) ac.abort();
  const histogram = new LatencyHistogram();
  const metrics = createLoadgenMetrics({ instance_id: s.instance, topic: s.topic }, () => histogram);
  metrics.targetRate.set(s.rate);
  const ctx: DriverContext = { settings: s, metrics, histogram, signal: ac.signal, log };
  const trigger = s.startAt === undefined ? new StartTrigger() : undefined;
  let startAt = s.startAt;
  let schedule: Schedule | undefined;
  let status: LoadgenStatus = 'completed';
  let failure: { code: string; message: string } | undefined;
  let stoppedAt: number | undefined;
  let server: Awaited<ReturnType<typeof serveControl>>['server'] | undefined;
  try {
    if (io.served) {
      // A kept-up generator: this run's figures, trigger and token from now on (a fresh registry:
      // nothing of the previous run is counted).
      const opts = io.served.options;
      opts.registry = metrics.registry;
      if (trigger) opts.trigger = trigger;
      else delete opts.trigger;
      if (s.control?.token !== undefined) opts.token = s.control.token;
    } else if (s.control) {
      if (trigger && s.control.token === undefined)
        log('warning: POST /start is not authenticated (no start token); plans written by greenrace always carry one');
      const c = await serveControl({ registry: metrics.registry, address: s.control.address, port: s.control.port, ...(trigger ? { trigger } : {}), ...(s.control.token ? { token: s.control.token } : {}) });
      server = c.server;
      io.onListening?.(c.port);
    } else if (trigger) throw new RunError('loadgen.usage', 'waiting for the start trigger needs a control port', { exitCode: ExitCode.usage });

    // 1. Reach the brokers (or the tool) before the start.
    const ready = await abortable(withTimeout(driver.prepare(ctx), s.timeouts.connectMs, 'loadgen.connect', `reaching ${s.bootstrap.join(',')}`), ac.signal, 'before the start');
    // 2. The shared start: the plan's, or the controller's POST /start.
    if (trigger) {
      trigger.ready = true;
      log(`${ready}; ready, waiting up to ${s.timeouts.startMs} ms for POST /start`);
      startAt = await abortable(
        withTimeout(trigger.at, s.timeouts.startMs, 'loadgen.no_start', 'waiting for the start trigger (POST /start?at=)'),
        ac.signal,
        'before the start',
      );
    }
    log(`${ready}; start at ${new Date(startAt!).toISOString()}`);
    schedule = new Schedule({ startAt: startAt!, rate: s.rate, warmupS: s.warmupS, durationS: s.durationS, ...(s.steps ? { steps: s.steps } : {}) });
    // 3. Too late for the shared start: its backlog would burst at once. Refuse.
    const late = nowMs() - startAt!;
    if (late > s.timeouts.maxLateMs)
      throw new RunError('loadgen.late_start', `ready ${Math.round(late)} ms after the shared start time (allowed ${s.timeouts.maxLateMs} ms): start the generators earlier (a longer lead)`);
    await sleepUntil(startAt!, ac.signal);
    if (ac.signal.aborted) throw new GreenraceError('loadgen.aborted', 'stopped before the start', { exitCode: ExitCode.interrupted });
    // 4. Run.
    await driver.run(ctx, schedule);
    if (ac.signal.aborted) {
      status = 'aborted';
      stoppedAt ??= nowMs();
    }
  } catch (e) {
    stoppedAt ??= nowMs();
    if (ac.signal.aborted || (e instanceof GreenraceError && e.code === 'loadgen.aborted')) status = 'aborted';
    else {
      status = 'failed';
      failure = e instanceof GreenraceError ? { code: e.code, message: e.message } : { code: 'loadgen.error', message: errorMessage(e) };
    }
  } finally {
    if (!io.served) await driver.close().catch(() => undefined);
    io.signal?.removeEventListener('abort', onOuterAbort);
  }
  log(`finished: ${status}${failure ? ` (${failure.code}: ${failure.message})` : ''}`);
  const summary: LoadgenSummary = {
    ...summaryHead(driver.name, s, {
      status,
      ...(failure ? { failure } : {}),
      startAt: startAt ?? 0,
      host: hostname(),
      ...(driver.keys ? { keys: driver.keys(s) } : {}),
    }),
    ...driver.figures(schedule, { status, ...(stoppedAt !== undefined ? { stoppedAt } : {}) }),
  };
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  return summary;
}
