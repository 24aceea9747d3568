/**
 * Kadeploy deployments of a reservation: the nodes that need it, at most 3 attempts for KO nodes, a
 * deployment never submitted twice for an unclear answer, and cancelled (DELETE) on Ctrl-C.
 */
import { InterruptedError, PlatformError } from '../../core/errors.js';
import type { G5kApi } from './api.js';
import { G5kApiError } from './api.js';
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
  /** Login the deployments belong to (to find one whose submission got no clear answer). */
  user: string;
  /** True for nodes already running a deployed image (skipped). */
  isDeployed: (fqdn: string) => Promise<boolean>;
  progress: (line: string) => void;
  /** A deployment was created (`uid`) or is over (`undefined`): record it, so killjob can cancel it. */
  onDeployment?: (uid: string | undefined) => void;
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

const IN_FLIGHT = new Set(['waiting', 'processing']);

/**
 * Deploy `environment` on the nodes that need it: one Kadeploy deployment per attempt for the nodes
 * still to do, polled every 10 s; KO nodes are tried again, at most 3 attempts in all. Nodes that
 * stay KO are named in the error. Ctrl-C cancels the deployment in flight (DELETE) and says so.
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
    if (o.signal?.aborted) throw new InterruptedError(`setup interrupted before deploying ${o.environment} at ${o.site}`);
    o.progress(`deploying ${o.environment} on ${todo.map(shortName).join(', ')} at ${o.site} (attempt ${report.attempts}/${max})`);
    let d = await submitOnce(o, todo);
    report.deployments.push(d.uid);
    o.onDeployment?.(d.uid);
    let status = d.status;
    try {
      while (IN_FLIGHT.has(d.status)) {
        await o.clock.sleep(o.pollSeconds ?? 10, o.signal);
        d = await o.api.getDeployment(o.site, d.uid);
        if (d.status !== status) o.progress(`deployment ${d.uid}: ${d.status}`);
        status = d.status;
      }
    } catch (e) {
      if (!o.signal?.aborted && !(e instanceof InterruptedError)) throw e;
      throw await cancelled(o, d.uid);
    }
    o.onDeployment?.(undefined);
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

/** Ctrl-C during a deployment: cancel it at Kadeploy, and say whether that worked. */
async function cancelled(o: DeployOptions, uid: string): Promise<InterruptedError> {
  try {
    await o.api.deleteDeployment(o.site, uid);
    o.onDeployment?.(undefined);
    o.progress(`cancelled deployment ${uid} at ${o.site}`);
    return new InterruptedError(`setup interrupted while deploying ${o.environment} at ${o.site}: deployment ${uid} was cancelled`);
  } catch (e) {
    return new InterruptedError(
      `setup interrupted while deploying ${o.environment} at ${o.site}; cancelling deployment ${uid} failed (${e instanceof Error ? e.message : String(e)}): killjob cancels it`,
    );
  }
}

/**
 * POST a deployment once. When the answer is lost (no answer, a 5xx), the deployment may exist all
 * the same: look for one of the user's deployments of exactly these nodes created since, and only
 * submit again when there is none (at most 3 tries).
 */
async function submitOnce(o: DeployOptions, nodes: string[]): Promise<Deployment> {
  const want = [...nodes].sort().join(',');
  for (let attempt = 1; ; attempt++) {
    try {
      return await o.api.submitDeployment(o.site, { nodes, environment: o.environment, key: o.key });
    } catch (e) {
      if (!(e instanceof G5kApiError) || !(e.status === 0 || e.status >= 500) || attempt >= 3) throw e;
      o.progress(`deployment at ${o.site} got no clear answer (${e.message}); checking whether it exists`);
      await o.clock.sleep(5 * attempt, o.signal);
      // Ours: the user's deployment of exactly these nodes (they are in our job: nobody else deploys
      // them) still in flight, or created in the last few minutes by the server's clock.
      const since = o.api.serverNow() - 300;
      const mine = await o.api.listDeployments(o.site, { user: o.user });
      const found = mine.find(
        (d) => [...d.nodes].sort().join(',') === want && d.environment === o.environment && (IN_FLIGHT.has(d.status) || (d.created_at ?? 0) >= since),
      );
      if (found) {
        o.progress(`deployment ${found.uid} exists: following it`);
        return found;
      }
    }
  }
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
