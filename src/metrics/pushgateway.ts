/**
 * Pushing metrics to the Pushgateway with prom-client. Each push uses its own registry so pushes
 * from one process never mix; a group is identified by the job name and grouping labels (for
 * greenrace: `run_id`), and Prometheus scrapes it with `honor_labels: true` so those labels stay.
 */
import { Gauge, Pushgateway, Registry } from 'prom-client';
import { RunError } from '../core/errors.js';

export interface PushedGauge {
  name: string;
  help: string;
  value: number;
  labels?: Record<string, string>;
}

export interface PushOptions {
  job: string;
  /** Grouping key labels (part of the URL path). */
  groupings?: Record<string, string>;
  /** "add" (POST: replace metrics with the same name in the group) or "replace" (PUT: the whole group). */
  mode?: 'add' | 'replace';
  timeoutMs?: number;
}

export class PushgatewayClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
  }

  /** Push gauges in one request. */
  async push(gauges: PushedGauge[], opts: PushOptions): Promise<void> {
    const registry = new Registry();
    const byName = new Map<string, Gauge<string>>();
    for (const g of gauges) {
      let gauge = byName.get(g.name);
      const labelNames = Object.keys(g.labels ?? {});
      if (!gauge) {
        gauge = new Gauge({ name: g.name, help: g.help, labelNames, registers: [registry] });
        byName.set(g.name, gauge);
      }
      if (labelNames.length > 0) gauge.set(g.labels!, g.value);
      else gauge.set(g.value);
    }
    const gw = new Pushgateway(this.url, { timeout: opts.timeoutMs ?? 10_000 }, registry);
    const params = { jobName: opts.job, groupings: opts.groupings ?? {} };
    await this.call(opts.mode === 'replace' ? 'push' : 'pushAdd', gauges.map((g) => g.name).join(', '), () =>
      opts.mode === 'replace' ? gw.push(params) : gw.pushAdd(params),
    );
  }

  /** Delete a whole group. */
  async delete(opts: Pick<PushOptions, 'job' | 'groupings' | 'timeoutMs'>): Promise<void> {
    const gw = new Pushgateway(this.url, { timeout: opts.timeoutMs ?? 10_000 }, new Registry());
    await this.call('delete', `group ${opts.job}`, () => gw.delete({ jobName: opts.job, groupings: opts.groupings ?? {} }));
  }

  private async call(op: string, what: string, f: () => Promise<{ resp?: unknown; body?: unknown }>): Promise<void> {
    try {
      const r = await f();
      const status = (r.resp as { statusCode?: number } | undefined)?.statusCode;
      if (status !== undefined && (status < 200 || status >= 300))
        throw new RunError('metrics.push', `Pushgateway ${op} of ${what} to ${this.url} failed: HTTP ${status} ${String(r.body ?? '').slice(0, 200)}`);
    } catch (e) {
      if (e instanceof RunError) throw e;
      const msg = (e as Error).message ?? String(e);
      throw new RunError('metrics.push', `Pushgateway ${op} of ${what} to ${this.url} failed: ${msg}`, { cause: e });
    }
  }
}
