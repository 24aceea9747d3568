/**
 * The discovery sidecar of Prometheus' pod on the cluster: lists and watches the run's pods and the
 * cluster's nodes through the API (in-cluster, as the pod's ServiceAccount) and keeps two file_sd
 * files in a folder shared with Prometheus: `pods.json` (./labels.ts podGroups, node metadata
 * attached) and `nodes.json` (nodeGroups). Each file is written whole to a temporary name and renamed
 * over the old one (a reader sees the old or the new list, never half), and only when its content
 * changed. Prometheus' file_sd watches the folder; its jobs' relabel_configs are kubernetes_sd's.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Informer, V1Node, V1Pod } from '@kubernetes/client-node';
import { writeFileAtomic } from '../../../core/files.js';
import { nodeGroups, podGroups, sortGroups, type FileSdGroup } from './labels.js';

/** The file names the sidecar writes (Prometheus' file_sd_configs name them). */
export const DISCOVERY_FILES = { pods: 'pods.json', nodes: 'nodes.json' } as const;

/** Write `groups` to `path` (atomically: temporary file + rename) unless the file already holds them; true when written. */
export function writeGroups(path: string, groups: FileSdGroup[]): boolean {
  const text = JSON.stringify(sortGroups(groups), null, 1) + '\n';
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return false;
  writeFileAtomic(path, text);
  return true;
}

/** The files' content from the current pods and nodes. */
export function discoveryGroups(pods: Iterable<V1Pod>, nodes: Iterable<V1Node>): { pods: FileSdGroup[]; nodes: FileSdGroup[] } {
  const byName = new Map<string, V1Node>();
  for (const n of nodes) if (n.metadata?.name) byName.set(n.metadata.name, n);
  const out = { pods: [] as FileSdGroup[], nodes: [] as FileSdGroup[] };
  for (const p of pods) out.pods.push(...podGroups(p, byName.get(p.spec?.nodeName ?? '')));
  for (const n of byName.values()) out.nodes.push(...nodeGroups(n));
  return out;
}

export interface DiscoveryOptions {
  /** The namespace whose pods are listed (the run's). */
  namespace: string;
  /** The folder the files go to (shared with Prometheus). */
  dir: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** Run until `signal` aborts: list + watch pods (namespace) and nodes, rewrite the files on every change. */
export async function runDiscovery(o: DiscoveryOptions): Promise<void> {
  const k = await import('@kubernetes/client-node');
  const config = new k.KubeConfig();
  config.loadFromCluster();
  const core = config.makeApiClient(k.CoreV1Api);
  const pods = k.makeInformer(config, `/api/v1/namespaces/${o.namespace}/pods`, () => core.listNamespacedPod({ namespace: o.namespace }));
  const nodes = k.makeInformer(config, '/api/v1/nodes', () => core.listNode());
  writeGroups(join(o.dir, DISCOVERY_FILES.pods), []);
  writeGroups(join(o.dir, DISCOVERY_FILES.nodes), []);
  let timer: NodeJS.Timeout | undefined;
  const write = (): void => {
    timer = undefined;
    const g = discoveryGroups(pods.list(), nodes.list());
    const wp = writeGroups(join(o.dir, DISCOVERY_FILES.pods), g.pods);
    const wn = writeGroups(join(o.dir, DISCOVERY_FILES.nodes), g.nodes);
    if (wp || wn) o.log(`${g.pods.length} pod target(s), ${g.nodes.length} node target(s)`);
  };
  // Changes come in bursts (a pod's status several times while it starts): one write per 200 ms.
  const changed = (): void => void (timer ??= setTimeout(write, 200));
  const follow = <T extends V1Pod | V1Node>(inf: Informer<T>): void => {
    inf.on('change', changed);
    inf.on('add', changed);
    inf.on('delete', changed);
    inf.on('connect', changed);
    inf.on('error', (e: unknown) => {
      o.log(`watch error: ${e instanceof Error ? e.message : String(e)}; restarting in 2 s`);
      setTimeout(() => void (o.signal.aborted ? undefined : inf.start().catch(() => undefined)), 2000);
    });
  };
  follow(pods);
  follow(nodes);
  await Promise.all([pods.start(), nodes.start()]);
  changed();
  await new Promise<void>((res) => (o.signal.aborted ? res() : o.signal.addEventListener('abort', () => res(), { once: true })));
  if (timer) clearTimeout(timer);
  await Promise.all([pods.stop(), nodes.stop()]);
}
