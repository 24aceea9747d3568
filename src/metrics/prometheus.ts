/**
 * A small Prometheus HTTP API client: instant and range queries, raw samples over a window, target
 * health, readiness. Every failure is a RunError that names the query (or endpoint) and says why:
 * unreachable, timed out, HTTP status, or Prometheus' own error type and message.
 */
import { RunError } from '../core/errors.js';
import type { Sample } from './energy/integrate.js';

export type Labels = Record<string, string>;

export interface VectorItem {
  metric: Labels;
  /** [epoch seconds, value] */
  value: Sample;
}

export interface MatrixItem {
  metric: Labels;
  values: Sample[];
}

export type QueryResult =
  | { resultType: 'vector'; result: VectorItem[] }
  | { resultType: 'matrix'; result: MatrixItem[] }
  | { resultType: 'scalar'; result: Sample }
  | { resultType: 'string'; result: [number, string] };

export interface TargetHealth {
  job: string;
  /** host:port scraped. */
  instance: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
  labels: Labels;
}

export interface PrometheusClientOptions {
  /** Per-request timeout, ms (default 10 000). */
  timeoutMs?: number;
}

interface ApiEnvelope<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

const parseValue = (v: string): number => {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
};

const toSample = (p: [number, string]): Sample => [p[0], parseValue(p[1])];

/** Escape a label value for a PromQL selector. */
export function promLabelValue(v: string): string {
  return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** `{a="x",b=~"y|z"}` from exact labels; arrays become regex alternatives of escaped literals. */
export function selector(labels: Record<string, string | string[]>): string {
  const parts = Object.entries(labels).map(([k, v]) => {
    if (Array.isArray(v)) return `${k}=~${promLabelValue(v.map(escapeRegex).join('|'))}`;
    return `${k}=${promLabelValue(v)}`;
  });
  return `{${parts.join(',')}}`;
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Format seconds as a PromQL duration (whole milliseconds). */
export function promDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  if (ms <= 0) throw new RunError('metrics.window', `a PromQL range must be positive (got ${seconds} s)`);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export class PrometheusClient {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(url: string, opts: PrometheusClientOptions = {}) {
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Instant query at `time` (epoch seconds; default now). */
  async query(expr: string, time?: number): Promise<QueryResult> {
    const params: Record<string, string> = { query: expr };
    if (time !== undefined) params.time = String(time);
    const data = await this.api<{ resultType: string; result: unknown }>('/api/v1/query', params, expr);
    return normalise(data);
  }

  /** Instant query expected to return a vector. */
  async queryVector(expr: string, time?: number): Promise<VectorItem[]> {
    const r = await this.query(expr, time);
    if (r.resultType === 'vector') return r.result;
    if (r.resultType === 'scalar') return [{ metric: {}, value: r.result }];
    throw new RunError('metrics.query.type', `Prometheus query ${JSON.stringify(expr)} returned a ${r.resultType}, expected a vector`);
  }

  /** One number from an instant query: the single value, or undefined when the result is empty. */
  async queryScalar(expr: string, time?: number): Promise<number | undefined> {
    const v = await this.queryVector(expr, time);
    if (v.length === 0) return undefined;
    if (v.length > 1)
      throw new RunError('metrics.query.cardinality', `Prometheus query ${JSON.stringify(expr)} returned ${v.length} series, expected one`, {
        details: v.slice(0, 5).map((i) => JSON.stringify(i.metric)),
      });
    return v[0]!.value[1];
  }

  /** Range query: evaluated every `step` seconds from start to end. */
  async queryRange(expr: string, start: number, end: number, step: number): Promise<MatrixItem[]> {
    if (!(end >= start)) throw new RunError('metrics.window', `range query ${JSON.stringify(expr)}: end ${end} is before start ${start}`);
    if (!(step > 0)) throw new RunError('metrics.window', `range query ${JSON.stringify(expr)}: step must be positive (got ${step})`);
    const data = await this.api<{ resultType: string; result: unknown }>(
      '/api/v1/query_range',
      { query: expr, start: String(start), end: String(end), step: String(step) },
      expr,
    );
    const r = normalise(data);
    if (r.resultType !== 'matrix') throw new RunError('metrics.query.type', `range query ${JSON.stringify(expr)} returned a ${r.resultType}`);
    return r.result;
  }

  /**
   * The raw samples of a series selector inside [start, end] (both inclusive), as stored: the
   * instant query `sel[D] @ end` with D = end - start (Prometheus' range is left-open, so the start
   * is widened by 1 ms).
   */
  async samples(sel: string, start: number, end: number): Promise<MatrixItem[]> {
    const expr = `${sel}[${promDuration(end - start + 0.001)}] @ ${end.toFixed(3)}`;
    const r = await this.query(expr, end);
    if (r.resultType !== 'matrix') throw new RunError('metrics.query.type', `Prometheus query ${JSON.stringify(expr)} returned a ${r.resultType}, expected a matrix`);
    return r.result;
  }

  /** Active scrape targets and their health. */
  async targets(): Promise<TargetHealth[]> {
    const data = await this.api<{ activeTargets: Array<Record<string, unknown>> }>('/api/v1/targets', { state: 'active' }, 'targets');
    return (data.activeTargets ?? []).map((t) => {
      const labels = (t.labels ?? {}) as Labels;
      const health = String(t.health ?? 'unknown');
      return {
        job: labels.job ?? String(t.scrapePool ?? ''),
        instance: labels.instance ?? '',
        scrapeUrl: String(t.scrapeUrl ?? ''),
        health: health === 'up' || health === 'down' ? health : 'unknown',
        lastError: String(t.lastError ?? ''),
        lastScrape: String(t.lastScrape ?? ''),
        labels,
      };
    });
  }

  /** True when /-/ready answers 200. Never throws. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(this.timeoutMs) });
      return res.ok;
    } catch {
      return false;
    }
  }

  /**
   * Wait until every active target is up (and at least `minTargets` exist). Throws a RunError naming
   * the targets still down, with their last scrape error, when `timeoutMs` passes.
   */
  async waitForTargets(opts: { timeoutMs: number; minTargets?: number; intervalMs?: number }): Promise<TargetHealth[]> {
    const deadline = Date.now() + opts.timeoutMs;
    let last: TargetHealth[] = [];
    let lastErr: unknown;
    for (;;) {
      try {
        last = await this.targets();
        lastErr = undefined;
        if (last.length >= (opts.minTargets ?? 1) && last.every((t) => t.health === 'up')) return last;
      } catch (e) {
        lastErr = e;
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
    }
    if (lastErr) throw lastErr;
    const down = last.filter((t) => t.health !== 'up');
    throw new RunError('metrics.targets.down', `${down.length} of ${last.length} Prometheus targets are not up after ${opts.timeoutMs / 1000} s (${this.url})`, {
      details: down.map((t) => `${t.job} ${t.instance}: ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`),
    });
  }

  private async api<T>(path: string, params: Record<string, string>, what: string): Promise<T> {
    const body = new URLSearchParams(params).toString();
    const label = path === '/api/v1/targets' ? `Prometheus ${path}` : `Prometheus query ${JSON.stringify(what)}`;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}${path === '/api/v1/targets' ? `?${body}` : ''}`, {
        method: path === '/api/v1/targets' ? 'GET' : 'POST',
        headers: path === '/api/v1/targets' ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
        body: path === '/api/v1/targets' ? undefined : body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const why = describeFetchError(e, this.timeoutMs);
      throw new RunError('metrics.unreachable', `${label} failed: ${this.url} ${why}`, { cause: e, hint: 'is Prometheus running? `status <exp>` shows its URL' });
    }
    const text = await res.text();
    let env: ApiEnvelope<T> | undefined;
    try {
      env = JSON.parse(text) as ApiEnvelope<T>;
    } catch {
      env = undefined;
    }
    if (!res.ok || !env || env.status !== 'success') {
      const why = env?.error ? `${env.errorType ?? 'error'}: ${env.error}` : `HTTP ${res.status} ${text.slice(0, 200).trim()}`;
      throw new RunError('metrics.query', `${label} failed: ${why}`, { details: [`Prometheus: ${this.url}`] });
    }
    return env.data as T;
  }
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `did not answer within ${timeoutMs / 1000} s`;
  const code = err?.cause?.code;
  if (code === 'ECONNREFUSED') return 'refused the connection (nothing listens there)';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'is unreachable (no route to host)';
  if (code === 'ENOTFOUND') return 'has a host name that does not resolve';
  return `could not be reached (${err?.cause?.message ?? err?.message ?? String(e)})`;
}

function normalise(data: { resultType: string; result: unknown }): QueryResult {
  switch (data.resultType) {
    case 'vector':
      return {
        resultType: 'vector',
        result: (data.result as Array<{ metric: Labels; value: [number, string] }>).map((i) => ({ metric: i.metric, value: toSample(i.value) })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: (data.result as Array<{ metric: Labels; values: [number, string][] }>).map((i) => ({ metric: i.metric, values: i.values.map(toSample) })),
      };
    case 'scalar':
      return { resultType: 'scalar', result: toSample(data.result as [number, string]) };
    default:
      return { resultType: 'string', result: data.result as [number, string] };
  }
}
