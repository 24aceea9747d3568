/**
 * A node's metadata as the API server knows it (the Arcaflow workflows' metadata plugin, per node):
 * kernel, OS, CPU and memory capacity, kubelet and container runtime versions, and its labels.
 */
import type { V1Node } from '@kubernetes/client-node';

export interface NodeFacts {
  name: string;
  kernel: string | null;
  osImage: string | null;
  architecture: string | null;
  kubelet: string | null;
  containerRuntime: string | null;
  /** CPUs the kubelet reports (capacity), whole or fractional. */
  cpus: number | null;
  /** Memory capacity in bytes. */
  memoryBytes: number | null;
  labels: Record<string, string>;
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  m: 1e-3,
};

/** A Kubernetes quantity ("24567892Ki", "2", "500m", "1e3") as a number; null when it is not one. */
export function quantity(q: string | undefined): number | null {
  if (q === undefined) return null;
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]{0,2})$/.exec(q.trim());
  if (!m) return null;
  const unit = UNITS[m[2]!];
  return unit === undefined ? null : Number(m[1]) * unit;
}

export function nodeFacts(node: V1Node): NodeFacts {
  const info = node.status?.nodeInfo;
  const cap = node.status?.capacity ?? {};
  return {
    name: node.metadata?.name ?? '?',
    kernel: info?.kernelVersion ?? null,
    osImage: info?.osImage ?? null,
    architecture: info?.architecture ?? null,
    kubelet: info?.kubeletVersion ?? null,
    containerRuntime: info?.containerRuntimeVersion ?? null,
    cpus: quantity(cap.cpu),
    memoryBytes: quantity(cap.memory),
    labels: { ...(node.metadata?.labels ?? {}) },
  };
}
