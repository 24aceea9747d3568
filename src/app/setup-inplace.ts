/**
 * setup's "already in place" check. A setup that changes nothing still costs a full setup.yml (every
 * task of every role run on every host, each answering `ok`). setup skips the playbook when the last
 * setup finished `ready` with the same inputs — the fingerprint below: the greenrace version, the
 * experiment as loaded (every section, with its --set and flag overrides), setup.yml's variables, the
 * hosts (the platform's handle), the services, and every file under ansible/ — and when every host
 * still answers on its SSH port (probed before the platform reattaches and repairs) and every service
 * that answered on its main port after that setup still does. Anything else (an edited role or
 * experiment, a host that died, a service that stopped, a Kubernetes cluster, `deploy` or a playbook
 * run in between, `setup --converge`) runs the playbook as before.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT, assetPath } from '../core/paths.js';
import type { Host, ServiceName } from '../core/types.js';
import { tcpAnswers } from '../core/tcp.js';
import type { ServicePlan } from '../services/registry.js';
import type { ExperimentState } from './state.js';

/** Files under ansible/ that runs create (Python caches, retry files) are no input. */
const notInput = (name: string): boolean => name === '__pycache__' || name.endsWith('.pyc') || name.endsWith('.retry');

function hashTree(h: ReturnType<typeof createHash>, root: string, dir = root): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (notInput(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) hashTree(h, root, p);
    else if (e.isFile()) {
      h.update(`${relative(root, p)}\0`);
      h.update(readFileSync(p));
      h.update('\0');
    }
  }
}

/** JSON with object keys sorted at every level, so that the order keys were set in is no input. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

/** What setup.yml is given and what it runs with; any change in one of them makes setup run it. */
export interface SetupInputs {
  /** greenrace's version (package.json). */
  greenrace: string;
  /** The experiment as loaded and validated (overrides applied). */
  experiment: unknown;
  /** setup.yml's extra-vars, without the SSH wait (`--connect-timeout` changes no host). */
  extraVars: Record<string, unknown>;
  /** The platform's handle: hosts, addresses, data folders. */
  handle: unknown;
  services: readonly string[];
}

/** A digest of the inputs (canonical JSON) and of the Ansible content itself (ansible/, or `ansibleDir`). */
export function setupFingerprint(inputs: SetupInputs, ansibleDir = assetPath('ansible')): string {
  const h = createHash('sha256');
  h.update(canonicalJson(inputs));
  h.update('\0');
  hashTree(h, ansibleDir);
  return h.digest('hex').slice(0, 32);
}

let version: string | undefined;
/** greenrace's version, from its package.json. */
export function greenraceVersion(): string {
  version ??= (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}


/** The hosts whose SSH port does not accept a connection from here (`host (address:port)`). */
export async function silentHosts(hosts: Host[], timeoutMs = 1500): Promise<string[]> {
  const r = await Promise.all(hosts.map(async (h) => ((await tcpAnswers(h.address, h.port, timeoutMs)) ? undefined : `${h.name} (${h.address}:${h.port})`)));
  return r.filter((x): x is string => x !== undefined);
}

/** Each deployed service's main port on each of its hosts that does not accept a connection from here (`service on host (address:port)`). */
export async function silentServices(plan: Pick<ServicePlan, 'services' | 'hosts' | 'ports'>, hosts: Host[], timeoutMs = 1500): Promise<string[]> {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const checks: Array<Promise<string | undefined>> = [];
  for (const svc of plan.services) {
    const port = Object.values(plan.ports[svc] ?? {})[0];
    if (port === undefined) continue;
    for (const name of plan.hosts[svc] ?? []) {
      const h = byName.get(name);
      const where = `${svc} on ${name} (${h?.address ?? '?'}:${port})`;
      checks.push(h ? tcpAnswers(h.address, port, timeoutMs).then((ok) => (ok ? undefined : where)) : Promise.resolve(where));
    }
  }
  return (await Promise.all(checks)).filter((x): x is string => x !== undefined);
}

export type PrevSetup = Pick<ExperimentState, 'phase' | 'setupFingerprint' | 'setupSilent' | 'setupFinishedAt'>;

/**
 * Why setup.yml must run, judged from the state alone (undefined: it may be skipped if the hosts and
 * services still answer). `undefined` prev is a first setup (no reason worth printing: '').
 */
export function mustRun(prev: PrevSetup | undefined, fingerprint: string, o: { converge?: boolean; dropped: readonly ServiceName[]; cluster: boolean }): string | undefined {
  if (!prev) return '';
  if (o.converge) return '--converge';
  if (prev.phase !== 'ready') return 'the last setup did not finish';
  if (!prev.setupFingerprint || !prev.setupSilent) return 'no record of what the last setup deployed (an earlier version, or `deploy`/a playbook ran since)';
  if (o.cluster) return 'runtime k3s: the playbook checks the Kubernetes cluster';
  if (o.dropped.length) return `services no longer listed: ${o.dropped.join(', ')}`;
  if (prev.setupFingerprint !== fingerprint) return 'the experiment, its hosts, the Ansible files or greenrace changed since the last setup';
  return undefined;
}

/** The new silent services that were answering after the last setup (a service that never answered here, e.g. Scaphandre without energy counters, stays allowed). */
export const stoppedSince = (silentNow: readonly string[], silentThen: readonly string[]): string[] => silentNow.filter((x) => !silentThen.includes(x));

/** The line setup prints when it skips setup.yml. */
export function skipLine(prev: PrevSetup): string {
  return `setup.yml skipped: nothing changed since the setup of ${prev.setupFinishedAt ?? 'an earlier run'}; ports answer; \`setup --converge\` to run it anyway`;
}
