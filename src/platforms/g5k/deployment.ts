import { PlatformError } from '../../core/errors.js';
import type { G5kApi } from './api.js';
import type { Clock } from './clock.js';
import { shortName } from './presets.js';
import type { Deployment } from './types.js';

export interface DeployOptions {
  api: G5kApi;
  clock: Clock;
  site: string;
  nodes: string[];
  environment: string;
  /** Public key content installed for root. */
  key: string;
  /** True for nodes already running a deployed image (skipped). */
  isDeployed: (fqdn: string) => Promise<boolean>;
  progress: (line: string) => void;
  signal?: AbortSignal;
  maxAttempts?: number;
  pollSeconds?: number;
}

export interface DeployReport {
  skipped: string[];
  deployed: string[];
  attempts: number;
  deployments: string[];
}

/**
 * Deploy `environment` on the nodes that need it: one Kadeploy deployment per attempt for the nodes
 * still to do, polled every 10 s; KO nodes are tried again, at most 3 attempts in all. Nodes that
 * stay KO are named in the error.
 */
export async function deployNodes(o: DeployOptions): Promise<DeployReport> {
  const max = o.maxAttempts ?? 3;
  const checks = await Promise.all(o.nodes.map(async (n) => [n, await o.isDeployed(n)] as const));
  const skipped = checks.filter(([, d]) => d).map(([n]) => n);
  let todo = checks.filter(([, d]) => !d).map(([n]) => n);
  if (skipped.length) o.progress(`already deployed, skipped: ${skipped.map(shortName).join(', ')}`);
  const report: DeployReport = { skipped, deployed: [], attempts: 0, deployments: [] };
  let lastKo: Record<string, string> = {};
  while (todo.length && report.attempts < max) {
    report.attempts++;
    o.progress(`deploying ${o.environment} on ${todo.map(shortName).join(', ')} at ${o.site} (attempt ${report.attempts}/${max})`);
    let d = await o.api.submitDeployment(o.site, { nodes: todo, environment: o.environment, key: o.key });
    report.deployments.push(d.uid);
    let status = d.status;
    while (d.status === 'waiting' || d.status === 'processing') {
      await o.clock.sleep(o.pollSeconds ?? 10, o.signal);
      d = await o.api.getDeployment(o.site, d.uid);
      if (d.status !== status) o.progress(`deployment ${d.uid}: ${d.status}`);
      status = d.status;
    }
    const { ok, ko } = outcome(d, todo);
    report.deployed.push(...ok);
    lastKo = ko;
    todo = Object.keys(ko);
    if (todo.length) o.progress(`deployment ${d.uid}: ${todo.length} node(s) KO: ${todo.map(shortName).join(', ')}`);
  }
  if (todo.length) {
    throw new PlatformError(
      'g5k.deploy.failed',
      `${o.environment} could not be deployed on ${todo.map(shortName).join(', ')} after ${report.attempts} attempts`,
      { hosts: todo, details: todo.map((n) => `${n}: ${lastKo[n] || 'KO'}`) },
    );
  }
  return report;
}

function outcome(d: Deployment, nodes: string[]): { ok: string[]; ko: Record<string, string> } {
  const ok: string[] = [];
  const ko: Record<string, string> = {};
  for (const n of nodes) {
    const r = d.result?.[n];
    if (d.status === 'terminated' && r?.state === 'OK') ok.push(n);
    else ko[n] = d.status !== 'terminated' ? `deployment ${d.status}` : [r?.macro, r?.micro].filter(Boolean).join('/') || 'KO';
  }
  return { ok, ko };
}
