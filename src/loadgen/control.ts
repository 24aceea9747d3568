/**
 * The generator's control/metrics HTTP server, shared by every driver:
 *   GET  /metrics   Prometheus text (open: read-only figures)
 *   GET  /ready     200 once the driver reached its brokers (or tool), else 503
 *   POST /start?at=<epoch ms>   the controller's shared start; needs the run's token in the
 *                   `Authorization: Bearer <token>` header: missing or wrong → 403, not ready or
 *                   already started → 409, bad `at` → 400
 * It listens on the address the plan gives (the host's experiment address), never a wildcard by
 * default.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { RunError } from '../core/errors.js';
import { START_TOKEN_HEADER, START_TOKEN_SCHEME } from './plan.js';

/** The shared start: set once by `POST /start?at=` (or by the plan's fixed start). */
export class StartTrigger {
  ready = false;
  private resolveAt!: (at: number) => void;
  readonly at: Promise<number> = new Promise((r) => (this.resolveAt = r));
  private fired = false;
  get started(): boolean {
    return this.fired;
  }
  fire(at: number): boolean {
    if (this.fired || !Number.isFinite(at) || at <= 0) return false;
    this.fired = true;
    this.resolveAt(at);
    return true;
  }
}

export interface ControlServerOptions {
  registry: Registry;
  address: string;
  /** 0 = any free port. */
  port: number;
  /** Present when the generator waits for `POST /start`. */
  trigger?: StartTrigger;
  /** Required value of the bearer token on `POST /start`; undefined = not checked (flag form only). */
  token?: string;
  /**
   * More routes (a kept-up generator's, loadgen/serve.ts): true when it answered the request.
   * The fields above are read at each request, so a kept-up generator swaps them per run.
   */
  routes?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
}

export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = new RegExp(`^${START_TOKEN_SCHEME}\\s+(\\S+)$`, 'i').exec(header.trim());
  if (!m) return false;
  const got = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function serveControl(o: ControlServerOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const { trigger } = o;
    if (trigger && url.pathname === '/ready') {
      res.writeHead(trigger.ready ? 200 : 503).end(trigger.ready ? 'ready\n' : 'not ready\n');
      return;
    }
    if (trigger && url.pathname === '/start') {
      if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end('POST only\n');
      if (o.token !== undefined && !tokenMatches(req.headers[START_TOKEN_HEADER.toLowerCase()] as string | undefined, o.token))
        return void res.writeHead(403).end(`missing or wrong start token (${START_TOKEN_HEADER}: ${START_TOKEN_SCHEME} <token>)\n`);
      const at = Number(url.searchParams.get('at'));
      if (!Number.isFinite(at) || at <= 0) return void res.writeHead(400).end('?at=<epoch ms> is required\n');
      if (!trigger.ready) return void res.writeHead(409).end('not ready\n');
      if (!trigger.fire(at)) return void res.writeHead(409).end('already started\n');
      res.writeHead(200).end('started\n');
      return;
    }
    if (o.routes?.(req, res, url)) return;
    if (url.pathname !== '/metrics' && url.pathname !== '/') {
      res.writeHead(404).end('not found\n');
      return;
    }
    o.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': o.registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new RunError('loadgen.control_listen', `cannot listen on ${o.address}:${o.port} for the generator's control/metrics server: ${e.code ?? e.message}`)),
    );
    server.listen(o.port, o.address, () => resolve());
  });
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : o.port };
}
