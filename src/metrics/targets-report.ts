/**
 * Scrape-target health for `status`: each target Prometheus scrapes, up or not (with its last
 * error), and the Prometheus URL. Returns the plain section shape the status command prints.
 */
import { errorMessage } from '../core/errors.js';
import { PrometheusClient, type TargetHealth } from './prometheus.js';

export interface TargetsSection {
  title: string;
  lines: string[];
  data: { prometheus_url: string; reachable: boolean; error?: string; targets: TargetHealth[] };
  problem?: boolean;
}

export async function targetsSection(endpoints: Record<string, string>, timeoutMs = 5000): Promise<TargetsSection | undefined> {
  const url = endpoints.prometheus_url;
  if (!url) return undefined;
  const prom = new PrometheusClient(url, { timeoutMs });
  try {
    const targets = (await prom.targets()).sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
    const down = targets.filter((t) => t.health !== 'up');
    const lines = [
      `Prometheus ${url}: ${targets.length - down.length}/${targets.length} targets up`,
      ...targets.map((t) => `${t.health === 'up' ? 'up  ' : t.health.padEnd(4)}  ${t.job.padEnd(12)} ${t.instance}${t.lastError ? `  (${t.lastError})` : ''}`),
    ];
    return { title: 'scrape targets', lines, data: { prometheus_url: url, reachable: true, targets }, problem: down.length > 0 || targets.length === 0 };
  } catch (e) {
    return {
      title: 'scrape targets',
      lines: [`Prometheus ${url}: not reachable (${errorMessage(e)})`],
      data: { prometheus_url: url, reachable: false, error: errorMessage(e), targets: [] },
      problem: true,
    };
  }
}
