/**
 * Scrape-target health: for `status`, each target Prometheus scrapes (up, not scraped yet, or
 * down with its last error) and the Prometheus URL; for `setup`, a bounded wait until every
 * expected target is up. "Not scraped yet" is a target Prometheus has not scraped once (health
 * `unknown`, right after a (re)start or a reload) or one it does not list yet; only "down" (a
 * scrape that failed) is a problem.
 */
import { InterruptedError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/sleep.js';
import { PrometheusClient, type TargetHealth } from './prometheus.js';

/** A target that should be scraped (the services registry computes them; see `expectedTargets`). */
export interface ExpectedTarget {
  job: string;
  instance: string;
  host: string;
}

export type TargetState = 'up' | 'not scraped yet' | 'down';

export interface TargetRow {
  job: string;
  instance: string;
  state: TargetState;
  /** Prometheus' last scrape error (down targets). */
  lastError?: string;
  /** Expected, but Prometheus does not list it (yet). */
  unlisted?: boolean;
}

export interface TargetsSection {
  title: string;
  lines: string[];
  data: { prometheus_url: string; reachable: boolean; error?: string; targets: TargetHealth[]; rows: TargetRow[] };
  problem?: boolean;
}

/** Every listed target with its state, plus the expected ones Prometheus does not list yet. */
export function classifyTargets(listed: TargetHealth[], expected: ExpectedTarget[] = []): TargetRow[] {
  const rows: TargetRow[] = listed.map((t) => ({
    job: t.job,
    instance: t.instance,
    state: t.health === 'up' ? 'up' : t.health === 'down' ? 'down' : 'not scraped yet',
    ...(t.health === 'down' && t.lastError ? { lastError: t.lastError } : {}),
  }));
  const seen = new Set(listed.map((t) => `${t.job} ${t.instance}`));
  for (const e of expected) if (!seen.has(`${e.job} ${e.instance}`)) rows.push({ job: e.job, instance: e.instance, state: 'not scraped yet', unlisted: true });
  return rows.sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
}

const rowLine = (r: TargetRow): string =>
  `${r.state.padEnd(15)} ${r.job.padEnd(12)} ${r.instance}${r.lastError ? `  (${r.lastError})` : ''}${r.unlisted ? '  (not listed by Prometheus yet)' : ''}`;

const countLine = (rows: TargetRow[]): string => {
  const n = (s: TargetState): number => rows.filter((r) => r.state === s).length;
  const pending = n('not scraped yet');
  const down = n('down');
  return `${n('up')}/${rows.length} targets up${pending ? `, ${pending} not scraped yet` : ''}${down ? `, ${down} down` : ''}`;
};

export async function targetsSection(endpoints: Record<string, string>, opts: { expected?: ExpectedTarget[]; timeoutMs?: number } = {}): Promise<TargetsSection | undefined> {
  const url = endpoints.prometheus_url;
  if (!url) return undefined;
  const prom = new PrometheusClient(url, { timeoutMs: opts.timeoutMs ?? 5000 });
  try {
    const targets = (await prom.targets()).sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
    const rows = classifyTargets(targets, opts.expected);
    const down = rows.filter((r) => r.state === 'down');
    const pending = rows.some((r) => r.state === 'not scraped yet');
    const lines = [
      `Prometheus ${url}: ${countLine(rows)}`,
      ...rows.map(rowLine),
      ...(pending ? ['(not scraped yet: Prometheus has not scraped these once since it (re)loaded; they are not down)'] : []),
    ];
    return { title: 'scrape targets', lines, data: { prometheus_url: url, reachable: true, targets, rows }, problem: down.length > 0 };
  } catch (e) {
    return {
      title: 'scrape targets',
      lines: [`Prometheus ${url}: not reachable (${errorMessage(e)})`],
      data: { prometheus_url: url, reachable: false, error: errorMessage(e), targets: [], rows: [] },
      problem: true,
    };
  }
}

export interface TargetsWait {
  /** Every expected (and every listed) target up. */
  allUp: boolean;
  rows: TargetRow[];
  elapsedMs: number;
  /** Prometheus' last error when it could not be asked at the end. */
  error?: string;
}

/**
 * Wait until Prometheus reports every expected target up (and every target it lists), at most
 * `timeoutMs`; a progress line when the count changes. Returns what stays down or unscraped
 * rather than throwing: the caller names them. Ctrl-C (signal) throws InterruptedError.
 */
export async function waitForTargetsUp(
  url: string,
  expected: ExpectedTarget[],
  opts: { timeoutMs: number; intervalMs?: number; progress?: (line: string) => void; signal?: AbortSignal },
): Promise<TargetsWait> {
  const started = Date.now();
  const prom = new PrometheusClient(url, { timeoutMs: 5000 });
  let rows: TargetRow[] = [];
  let error: string | undefined;
  let said = '';
  for (;;) {
    if (opts.signal?.aborted) throw new InterruptedError('interrupted while waiting for the Prometheus targets');
    try {
      rows = classifyTargets(await prom.targets(), expected);
      error = undefined;
    } catch (e) {
      error = errorMessage(e);
    }
    const allUp = !error && rows.length > 0 && rows.every((r) => r.state === 'up');
    const line = error ? `Prometheus ${url}: not answering yet (${error})` : `Prometheus ${url}: ${countLine(rows)}`;
    if (line !== said) {
      opts.progress?.(`waiting for the scrape targets: ${line}`);
      said = line;
    }
    if (allUp || Date.now() - started >= opts.timeoutMs) return { allUp, rows, elapsedMs: Date.now() - started, ...(error ? { error } : {}) };
    await sleep(opts.intervalMs ?? 1000, opts.signal, () => new InterruptedError('interrupted while waiting for the Prometheus targets'));
  }
}

/** The targets that did not come up, one line each (for a warning). */
export const notUpLines = (rows: TargetRow[]): string[] => rows.filter((r) => r.state !== 'up').map(rowLine);
