/**
 * The cluster of `runtime: k3s` (docs/k8s.md) as the use cases see it: brought up by `setup` (its
 * plays run inside setup.yml, after the hosts and before the services), brought down by `killjob`
 * (kubernetes.yml with gr_k8s_action=destroy, before the hosts are released), `kubectl` with the
 * experiment's kubeconfig, and the `kubernetes` section of `status` (nodes, CoreDNS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { runPlaybook } from '../ansible/runner.js';
import { GreenraceError, InterruptedError, UsageError, errorMessage } from '../core/errors.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import type { Kube } from '../runtimes/k8s/kube.js';
import type { StatusContext, StatusSection } from './status-sections.js';
import { experimentNameOf, readState, type ExperimentState } from './state.js';

/** What setup recorded of the cluster (before deploying it, so that killjob knows after a crash). */
export type ClusterState = NonNullable<ExperimentState['kubernetes']>;

/** The admin kubeconfig the roles write (mode 0600, credentials inline). */
export const kubeconfigPath = (stateDir: string): string => join(stateDir, 'kubeconfig');
/** The roles' summary of the cluster: distribution, version, API server, nodes, images. */
export const clusterJsonPath = (stateDir: string): string => join(stateDir, 'k8s', 'cluster.json');

/** Where setup/install-k8s.sh keeps the Kubernetes build (GREENRACE_K8S_CACHE). */
export const k8sCacheDir = (): string => process.env.GREENRACE_K8S_CACHE ?? '/var/cache/greenrace/k8s';

/** kubectl: the one setup/install.sh --k8s built, else the one on PATH. */
export function kubectlPath(): string {
  const manifest = join(k8sCacheDir(), 'install.json');
  if (existsSync(manifest)) {
    try {
      const bin = join((JSON.parse(readFileSync(manifest, 'utf8')) as { bin_dir: string }).bin_dir, 'kubectl');
      if (existsSync(bin)) return bin;
    } catch {
      // an unreadable manifest: fall back to PATH
    }
  }
  return 'kubectl';
}

/** The state of an experiment whose cluster is up, or a clear error naming what to run. */
export function clusterOf(exp: string): { state: ExperimentState; stateDir: string; kubeconfig: string } {
  const dir = stateDirOf(exp);
  const st = existsSync(dir) ? readState(dir) : undefined;
  if (!st) throw new GreenraceError('experiment.not_ready', `experiment ${exp} is not set up`, { hint: `run \`entrypoint setup ${exp}\`` });
  if (st.experimentSnapshot.runtime !== 'k3s') {
    throw new UsageError('k8s.no_cluster', `experiment ${exp} has no Kubernetes cluster (runtime: ${st.experimentSnapshot.runtime})`, {
      hint: 'set `runtime: k3s` in the experiment file and run setup again',
    });
  }
  const kubeconfig = kubeconfigPath(dir);
  if (!existsSync(kubeconfig)) {
    throw new GreenraceError('experiment.not_ready', `experiment ${exp} has no kubeconfig yet (state: ${st.phase})`, { hint: `run \`entrypoint setup ${exp}\`` });
  }
  return { state: st, stateDir: dir, kubeconfig };
}

/**
 * `entrypoint kubectl <exp> [args…]`: kubectl with the experiment's kubeconfig, its output and exit
 * code passed through. Resolves to kubectl's exit code.
 */
export async function kubectlPassthrough(ref: string, args: string[]): Promise<number> {
  const { kubeconfig } = clusterOf(experimentNameOf(ref));
  const bin = kubectlPath();
  try {
    const r = await execa(bin, args, { env: { KUBECONFIG: kubeconfig }, stdio: 'inherit', reject: false });
    if (r.failed && r.exitCode === undefined) throw r;
    return r.exitCode ?? 1;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new UsageError('k8s.no_kubectl', `kubectl not found (${bin})`, { hint: 'build it with `setup/install.sh --k8s`, or install kubectl 1.34 on PATH' });
    throw new GreenraceError('k8s.kubectl', `kubectl: ${errorMessage(e)}`);
  }
}

/** kubectl with a kubeconfig, buffered: stdout, stderr and the exit code. */
export async function kubectlCapture(kubeconfig: string, args: string[], opts: { input?: string; timeoutMs?: number; signal?: AbortSignal } = {}) {
  const r = await execa(kubectlPath(), args, {
    env: { KUBECONFIG: kubeconfig },
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? (r.failed ? 1 : 0), timedOut: r.timedOut };
}

/** The extra-vars that make setup.yml bring the cluster up (its plays select no host without them). */
export const deployVars = (c: ClusterState): Record<string, unknown> => ({ ...c.vars, gr_k8s_action: 'deploy' });

/**
 * Bring the cluster down (kubernetes.yml, gr_k8s_action=destroy): workloads deleted, every program
 * stopped, shims, mounts, CNI links, routes and cgroups removed. Best effort and bounded: failures
 * come back as warnings (the platform's release follows anyway).
 */
export async function destroyCluster(
  stateDir: string,
  cluster: ClusterState,
  opts: { progress?: (line: string) => void; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string[]> {
  opts.progress?.(`destroying the Kubernetes cluster (${cluster.distribution})`);
  const warnings: string[] = [];
  try {
    const r = await runPlaybook({
      stateDir,
      playbook: 'kubernetes',
      extraVars: { ...cluster.vars, gr_k8s_action: 'destroy' },
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      tolerate: 'all',
      timeoutMs: opts.timeoutMs ?? 300_000,
    });
    for (const f of [...r.failures, ...r.ignored]) warnings.push(`${f.host} [${f.task}] ${f.status}: ${f.message.split('\n')[0] ?? ''}`);
  } catch (e) {
    if (e instanceof InterruptedError) throw e;
    warnings.push(`destroying the cluster: ${errorMessage(e)}${e instanceof GreenraceError && e.logFile ? ` (log: ${e.logFile})` : ''}`);
  }
  return warnings;
}

export interface NodeRow {
  name: string;
  ready: boolean;
  /** The Ready condition's message when not Ready. */
  reason?: string;
  role: string;
  kubelet: string;
  podCIDR: string;
  address: string;
}

export interface ClusterReport {
  distribution: string;
  kubeconfig: string;
  apiServer?: string;
  nodes: NodeRow[];
  coredns?: { ready: number; wanted: number };
  /** Why the cluster could not be asked (API down, no kubeconfig). */
  error?: string;
}

export interface NodeJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { podCIDR?: string };
  status?: {
    conditions?: Array<{ type: string; status: string; message?: string }>;
    nodeInfo?: { kubeletVersion?: string };
    addresses?: Array<{ type: string; address: string }>;
  };
}

/** Nodes of `kubectl get nodes -o json` as status rows (pure: tested on recorded output). */
export function nodeRows(json: string, roleLabel = 'greenrace.io/role'): NodeRow[] {
  return nodeRowsOf((JSON.parse(json) as { items: NodeJson[] }).items, roleLabel);
}

/** Nodes (as the API gives them: kubectl's items, or the client's V1Node list) as status rows. */
export function nodeRowsOf(items: NodeJson[], roleLabel = 'greenrace.io/role'): NodeRow[] {
  return items
    .map((n) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      const row: NodeRow = {
        name: n.metadata.name,
        ready: ready?.status === 'True',
        role: n.metadata.labels?.[roleLabel] ?? '',
        kubelet: n.status?.nodeInfo?.kubeletVersion ?? '',
        podCIDR: n.spec?.podCIDR ?? '',
        address: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
      };
      if (ready?.status !== 'True') row.reason = ready?.message ?? 'no Ready condition yet';
      return row;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface PodRow {
  namespace: string;
  name: string;
  /** Ready containers / containers. */
  ready: string;
  /** The phase, or why a container waits or ended (CrashLoopBackOff, ErrImagePull, Completed…), or Terminating. */
  status: string;
  restarts: number;
  node: string;
  ip: string;
}

export interface PodJson {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: unknown };
  spec?: { nodeName?: string; containers?: unknown[] };
  status?: {
    phase?: string;
    podIP?: string;
    containerStatuses?: Array<{ ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }>;
  };
}

/** Pods as kubectl's `get pods` shows them (ready count, status with the waiting/terminated reason), by namespace and name. */
export function podRows(items: PodJson[]): PodRow[] {
  return items
    .map((p) => {
      const cs = p.status?.containerStatuses ?? [];
      const why = cs.map((c) => c.state?.waiting?.reason ?? c.state?.terminated?.reason).find(Boolean);
      return {
        namespace: p.metadata?.namespace ?? '',
        name: p.metadata?.name ?? '',
        ready: `${cs.filter((c) => c.ready).length}/${p.spec?.containers?.length ?? cs.length}`,
        status: p.metadata?.deletionTimestamp ? 'Terminating' : (why ?? p.status?.phase ?? 'Unknown'),
        restarts: cs.reduce((n, c) => n + (c.restartCount ?? 0), 0),
        node: p.spec?.nodeName ?? '',
        ip: p.status?.podIP ?? '',
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/**
 * A client of the experiment's cluster (`@kubernetes/client-node`, through runtimes/k8s/kube.ts)
 * bound to its kubeconfig; the same clear errors as kubectl's when there is no cluster (not set up,
 * runtime host, no kubeconfig yet).
 */
export async function clusterClient(exp: string): Promise<{ kube: Kube; kubeconfig: string }> {
  const { kubeconfig } = clusterOf(exp);
  const { Kube } = await import('../runtimes/k8s/kube.js');
  return { kube: new Kube(kubeconfig), kubeconfig };
}

/** An error of the API server (or of reaching it) as one message naming what was asked and the server. */
export async function clusterApiError(what: string, kube: Kube, e: unknown): Promise<GreenraceError> {
  if (e instanceof GreenraceError) return e;
  const { apiMessage } = await import('../runtimes/k8s/kube.js');
  return new GreenraceError('k8s.api', `${what}: ${apiMessage(e)} (API server ${kube.server})`);
}

/** The live view of an experiment's cluster: nodes and CoreDNS, asked through kubectl. */
export async function clusterReport(stateDir: string, st: ExperimentState): Promise<ClusterReport> {
  const kubeconfig = kubeconfigPath(stateDir);
  const report: ClusterReport = { distribution: st.kubernetes?.distribution ?? '?', kubeconfig, nodes: [] };
  try {
    const c = JSON.parse(readFileSync(clusterJsonPath(stateDir), 'utf8')) as { server?: string; distribution?: string };
    if (c.server) report.apiServer = c.server;
    if (c.distribution) report.distribution = c.distribution;
  } catch {
    // not written yet (setup under way or failed before the control plane)
  }
  if (!existsSync(kubeconfig)) {
    report.error = 'no kubeconfig yet (the cluster is not up)';
    return report;
  }
  const nodes = await kubectlCapture(kubeconfig, ['get', 'nodes', '-o', 'json', '--request-timeout=10s'], { timeoutMs: 20_000 });
  if (nodes.exitCode !== 0) {
    report.error = `the API server did not answer: ${(nodes.stderr.split('\n').find(Boolean) ?? `kubectl exited ${nodes.exitCode}`).trim()}`;
    return report;
  }
  report.nodes = nodeRows(nodes.stdout);
  const dns = await kubectlCapture(kubeconfig, ['-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'json', '--request-timeout=10s'], { timeoutMs: 20_000 });
  if (dns.exitCode === 0) {
    const d = JSON.parse(dns.stdout) as { spec?: { replicas?: number }; status?: { readyReplicas?: number } };
    report.coredns = { ready: d.status?.readyReplicas ?? 0, wanted: d.spec?.replicas ?? 0 };
  }
  return report;
}

/** The `kubernetes` section of `status` (absent on runtime: host). A node not Ready or CoreDNS not ready is a problem. */
export async function clusterSection(ctx: StatusContext): Promise<StatusSection | undefined> {
  if (ctx.state.experimentSnapshot.runtime !== 'k3s') return undefined;
  const r = await clusterReport(ctx.stateDir, ctx.state);
  const lines = [`distribution ${r.distribution}${r.apiServer ? `, API server ${r.apiServer}` : ''}`, `kubeconfig: ${r.kubeconfig}`];
  if (r.error) lines.push(`cluster: ${r.error}`);
  for (const n of r.nodes) {
    lines.push(`${n.name}  ${n.ready ? 'Ready' : `NotReady (${n.reason})`}  role ${n.role || '-'}  ${n.kubelet}  pod CIDR ${n.podCIDR || '-'}  ${n.address}`);
  }
  if (r.coredns) lines.push(`CoreDNS: ${r.coredns.ready}/${r.coredns.wanted} ready`);
  else if (!r.error) lines.push('CoreDNS: not found');
  const problem = Boolean(r.error) || r.nodes.length === 0 || r.nodes.some((n) => !n.ready) || !r.coredns || r.coredns.ready < r.coredns.wanted || r.coredns.wanted === 0;
  return { title: 'kubernetes', lines, data: r, problem };
}
