/**
 * The latency matrix on Kubernetes (seed 004, k8s-netperf): the latency tool's server as a
 * DaemonSet on the pod network or on the host network, one pod per node of the matrix; the
 * schedule's rounds measured by exec'ing the client in the origin node's pod against the
 * destination node's pod IP. Rows are named by node (origin/destination = node names, as the
 * seed's CSV). The DaemonSet is deleted by the run's label whatever happens.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { InterruptedError, RunError, UsageError } from '../../core/errors.js';
import type { WorkHost } from '../../core/types.js';
import type { K8sExecutor } from '../../runtimes/k8s/executor.js';
import { selector } from '../../runtimes/k8s/manifests.js';
import type { NetParams, NetToolDef } from '../net/tools/driver.js';
import type { MatrixRow } from './report.js';
import { measureRound, roundRows } from './round.js';
import type { MatrixOutcome } from './run.js';
import { isConflictFree, schedule, type MatrixMode } from './schedule.js';

export interface K8sMatrixOptions {
  mode: MatrixMode;
  network: 'pod' | 'host';
  /** Node roles of the matrix (empty: every node). */
  roles: string[];
  runId: string;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

/** The server pod of each node, from the DaemonSet's ready pods. */
export function podsByNode(pods: V1Pod[]): Map<string, { name: string; ip: string }> {
  const out = new Map<string, { name: string; ip: string }>();
  for (const p of pods) if (p.spec?.nodeName && p.metadata?.name && p.status?.podIP) out.set(p.spec.nodeName, { name: p.metadata.name, ip: p.status.podIP });
  return out;
}

export interface K8sMatrixOutcome extends MatrixOutcome {
  /** The latency server pod of each node. */
  pods: Record<string, { pod: string; ip: string }>;
  /** What cleanup deleted. */
  deleted: string[];
}

export async function measureMatrixK8s(ex: K8sExecutor, hosts: WorkHost[], t: NetToolDef, p: NetParams, o: K8sMatrixOptions): Promise<K8sMatrixOutcome> {
  const d = t.driver;
  const server = t.pod && 'server' in t.pod ? t.pod.server(p) : undefined;
  if (!d || !server) throw new UsageError('net.matrix.k8s_tool', `${t.name} cannot serve the latency matrix on runtime k3s${t.pod && 'unavailable' in t.pod ? `: ${t.pod.unavailable}` : ''}`);
  if (hosts.length < 2) throw new UsageError('net.matrix.too_few_hosts', `the latency matrix needs at least 2 nodes (got ${hosts.length})`);
  const sig = o.signal ? { signal: o.signal } : {};
  const start = Date.now() / 1000;
  const rows: MatrixRow[] = [];
  const raw: Record<string, string> = {};
  let rounds = 0;
  let pods: Map<string, { name: string; ip: string }> = new Map();
  let failure: unknown;
  try {
    o.progress?.(`${t.name}-${o.network} DaemonSet (${o.network} network) on ${hosts.length} nodes`);
    await ex.applyTemplate('latency-daemonsets.yaml.njk', { tool: t.name, image: ex.images.tools, command: server, port: p.port, roles: o.roles, networks: [o.network] }, o.runId);
    const ready = await ex.kube.waitReady(ex.namespace, selector({ 'greenrace.io/run': o.runId, 'greenrace.io/part': 'latency-server' }), hosts.length, { timeoutMs: 240_000, what: `${t.name}-${o.network} DaemonSet`, ...sig });
    pods = podsByNode(ready);
    const missing = hosts.filter((h) => !pods.has(h.name));
    if (missing.length) throw new RunError('net.matrix.k8s_nodes', `no ${t.name} pod on ${missing.map((h) => h.name).join(', ')} (the DaemonSet ran on ${[...pods.keys()].join(', ')}): are the experiment's hosts the cluster's nodes?`);
    const names = hosts.map((h) => h.name);
    const plan = schedule(names, o.mode);
    if (!isConflictFree(plan)) throw new Error('internal: latency matrix schedule has a node twice in a round');
    rounds = plan.length;
    const byName = new Map(hosts.map((h) => [h.name, h]));
    for (const [i, round] of plan.entries()) {
      if (o.signal?.aborted) throw new InterruptedError('latency matrix interrupted');
      o.progress?.(`round ${i + 1}/${plan.length}: ${round.map((x) => `${x.origin}→${x.destination}`).join(' ')}`);
      const results = await measureRound(
        round,
        async (pair) => {
          const from = pods.get(pair.origin)!;
          const to = pods.get(pair.destination)!;
          const limit = Math.ceil(p.duration) + 30;
          const where = `${t.name} ${pair.origin} → ${pair.destination} (${o.network} network)`;
          const cmd = `timeout -k 5 ${limit} ${d.clientCommand(p, { server: byName.get(pair.destination)!, client: byName.get(pair.origin)!, serverAddress: to.ip, clientDir: '/tmp' })}`;
          const r = await ex.exec(from.name, cmd, { timeoutMs: (limit + 15) * 1000, ...sig });
          if (r.error) throw new RunError('net.k8s.exec_failed', `${where}: ${r.error}`);
          if (r.code === 124 || r.timedOut) throw new RunError('net.client_timeout', `${where}: the client did not finish within ${limit} s`);
          const stdout = r.stdout.toString();
          try {
            return { stdout, result: d.parse(stdout, p, where) };
          } catch (e) {
            throw new RunError((e as RunError).code ?? 'net.parse', `${(e as Error).message}${r.stderr.length ? `: ${r.stderr.toString().trim().split('\n').slice(-3).join(' ')}` : ''}`);
          }
        },
        o.signal,
      );
      if (o.signal?.aborted) throw new InterruptedError('latency matrix interrupted');
      roundRows(t, round, results, raw, rows);
    }
    if (rows.every((r) => !r.latency)) throw new RunError('net.matrix.all_failed', 'every latency measurement failed', { details: rows.map((r) => `${r.origin}→${r.destination}: ${r.error}`) });
  } catch (e) {
    failure = e;
  }
  const deleted = await ex.cleanup(o.runId).catch((e: Error) => [`cleanup failed: ${e.message}`]);
  if (failure) throw failure;
  return { rows, rounds, pairs: rows.length, start, end: Date.now() / 1000, raw, pods: Object.fromEntries([...pods].map(([n, x]) => [n, { pod: x.name, ip: x.ip }])), deleted };
}
