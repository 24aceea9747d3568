/**
 * A kept-up generator (`loadgen --plan <file> --serve`, issue 17): it runs its first plan like any
 * generator, then stays up with its connections and its control port and runs each next plan it is
 * handed, until it is stopped (SIGTERM/SIGINT: the same stop as any generator). Each run starts from
 * nothing: a fresh metrics registry, latency histogram, start trigger and token; the driver keeps only
 * its connections (when they fit the next plan, else a new driver is made). Each run's summary is
 * written where its plan says, as a single generator writes it.
 *
 * With no plan within SERVE_IDLE_MS (5 min) of its last run it ends by itself (a controller that
 * died leaves nothing running for long).
 *
 * Routes added to the control server (src/loadgen/control.ts):
 *   POST /plan   body `{"plan": <a plan file's JSON>, "instance": "<id>", "summary": "<file>"?}`;
 *                needs `Authorization: Bearer <the first plan's token>` (403 without); 409 while a run
 *                is in progress or when the entry's control address/port is not this generator's;
 *                400 for a plan that does not validate (the message says the key); 202 `{"run": n}`.
 *   GET  /run    `{"runs": <runs finished>, "running": bool, "run": <current or last run number>,
 *                "status": <last finished run's status>}`: a run's summary is on disk once `runs`
 *                reaches its number and `running` is false.
 * Between runs `/ready` answers 503 and `/start` 409: a start can only go to a run handed over.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { ExitCode, GreenraceError, UsageError, errorMessage } from '../core/errors.js';
import { serveControl, StartTrigger, tokenMatches, type ControlServerOptions } from './control.js';
import { runGenerator, type LoadDriver, type RunIO } from './driver.js';
import { instanceSettings, parsePlan, START_TOKEN_HEADER, START_TOKEN_SCHEME, type GeneratorSettings } from './plan.js';
import type { LoadgenStatus, LoadgenSummary } from './summary.js';

/** Largest plan body taken by POST /plan. */
const MAX_PLAN_BYTES = 1024 * 1024;

/** A kept-up generator ends when no plan comes within this long after its last run (default). */
export const SERVE_IDLE_MS = 300_000;

export interface ServeIO extends Omit<RunIO, 'served'> {
  /** Called as each run begins (1 = the first plan's), before its first log line. */
  onRun?: (settings: GeneratorSettings, run: number) => void;
  /** Idle limit between runs, ms (default SERVE_IDLE_MS). */
  idleMs?: number;
  /** Each run's summary, with the settings it ran (the app writes it where they say). */
  finished: (summary: LoadgenSummary, settings: GeneratorSettings) => void;
}

export interface Served {
  runs: number;
  /** Status of the last run (undefined: none finished). */
  last?: LoadgenStatus;
  /** Stopped while a run was in progress. */
  stoppedInRun: boolean;
}

/**
 * Serve runs until `io.signal` aborts: the first from `first`, each next from POST /plan.
 * `makeDriver` makes a driver for a run's settings (when the kept one does not fit them).
 */
export async function serveGenerator(first: GeneratorSettings, makeDriver: (s: GeneratorSettings) => Promise<LoadDriver>, io: ServeIO): Promise<Served> {
  const log = (l: string): void => io.log?.(l);
  const control = first.control;
  if (!control || first.startAt !== undefined || control.token === undefined)
    throw new UsageError('loadgen.serve_usage', 'a kept-up generator (--serve) needs a plan whose generator has a control port and whose shared start comes from POST /start (shared.control.token, no shared.startAt)');
  const serveToken = control.token;
  let running = true;
  let run = 1;
  let runs = 0;
  let last: LoadgenStatus | undefined;
  let next: GeneratorSettings | undefined;
  let wake: (() => void) | undefined;
  const signal = io.signal;
  const idleMs = io.idleMs ?? SERVE_IDLE_MS;

  const json = (res: ServerResponse, code: number, body: unknown): void => void res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
  const takePlan = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end('POST only\n');
    if (!tokenMatches(req.headers[START_TOKEN_HEADER.toLowerCase()] as string | undefined, serveToken))
      return void res.writeHead(403).end(`missing or wrong token (${START_TOKEN_HEADER}: ${START_TOKEN_SCHEME} <the first plan's token>)\n`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_PLAN_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_PLAN_BYTES) return void res.writeHead(413).end(`a plan of at most ${MAX_PLAN_BYTES} bytes\n`);
      if (running || next) return void res.writeHead(409).end(`run ${run} is in progress\n`);
      let s: GeneratorSettings;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { plan?: unknown; instance?: unknown; summary?: unknown };
        if (typeof body !== 'object' || body === null || typeof body.instance !== 'string') throw new UsageError('loadgen.plan_invalid', 'POST /plan: the body is {"plan": {...}, "instance": "<id>", "summary": "<file>"?}');
        s = instanceSettings(parsePlan(body.plan, 'POST /plan'), body.instance, 'POST /plan');
        if (typeof body.summary === 'string' && body.summary) s.summary = body.summary;
      } catch (e) {
        return void res.writeHead(400).end(`${errorMessage(e)}\n`);
      }
      if (s.instance !== first.instance) return void res.writeHead(409).end(`this generator is ${first.instance}, not ${s.instance}\n`);
      if (s.startAt !== undefined || !s.control || s.control.address !== control.address || s.control.port !== control.port)
        return void res.writeHead(409).end(`this generator serves ${control.address}:${control.port} and waits for POST /start: the plan must say the same\n`);
      next = s;
      run += 1;
      // From the hand-over on, nothing of the previous run is on /metrics (the run puts its own registry).
      options.registry = new Registry();
      json(res, 202, { run });
      wake?.();
    });
  };
  const options: ControlServerOptions = {
    registry: new Registry(),
    address: control.address,
    port: control.port,
    token: serveToken,
    routes: (req, res, url) => {
      if (url.pathname === '/plan') return takePlan(req, res), true;
      if (url.pathname === '/run') return json(res, 200, { runs, running: running || next !== undefined, run, ...(last ? { status: last } : {}) }), true;
      return false;
    },
  };
  const { server, port } = await serveControl(options);
  io.onListening?.(port);
  let driver: LoadDriver | undefined;
  let stoppedInRun = false;
  try {
    let s: GeneratorSettings | undefined = first;
    while (s) {
      if (driver && !(driver.reusableFor?.(s) ?? false)) {
        await driver.close().catch(() => undefined);
        driver = undefined;
      }
      driver ??= await makeDriver(s);
      running = true;
      next = undefined;
      io.onRun?.(s, run);
      log(`run ${run}: topic ${s.topic}, ${s.rate} msg/s`);
      const summary = await runGenerator(s, driver, { ...io, served: { options } });
      // Between runs: not ready, no start, the serve token; the last run's figures stay readable.
      options.trigger = new StartTrigger();
      options.token = serveToken;
      if (summary.status !== 'completed') {
        await driver.close().catch(() => undefined);
        driver = undefined;
      }
      io.finished(summary, s);
      last = summary.status;
      runs += 1;
      running = false;
      if (signal?.aborted) {
        stoppedInRun = summary.status === 'aborted';
        break;
      }
      s = await new Promise<GeneratorSettings | undefined>((resolve) => {
        // Nothing left running when the controller is gone: no plan within the idle limit, it ends.
        const idle = setTimeout(() => {
          log(`no plan within ${Math.round(idleMs / 1000)} s: ending`);
          done();
        }, idleMs);
        const done = (): void => {
          clearTimeout(idle);
          signal?.removeEventListener('abort', onAbort);
          wake = undefined;
          resolve(signal?.aborted ? undefined : next);
        };
        const onAbort = (): void => done();
        wake = done;
        if (next || signal?.aborted) return done();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  } catch (e) {
    throw e instanceof GreenraceError ? e : new GreenraceError('loadgen.serve', `kept-up generator: ${errorMessage(e)}`, { exitCode: ExitCode.run });
  } finally {
    await driver?.close().catch(() => undefined);
    await new Promise<void>((r) => server.close(() => r()));
  }
  return { runs, ...(last ? { last } : {}), stoppedInRun };
}
