/**
 * The order of the test files: vitest's own, except that the integration files on the shared
 * Kubernetes cluster (test/integration/k8s-*.test.ts) come after every other file — the cluster is
 * brought up by the first of them, so no other file runs beside an idle cluster (the latency
 * matrices would read its load) — and k8s-cluster.test.ts comes last of them: it brings the shared
 * cluster down and asserts that killjob leaves nothing. A k8s file that brings up a cluster of its own
 * (k8s-services.test.ts: other roles and services than the shared one) runs before the first file on
 * the shared cluster, so that two clusters are never up at once.
 */
import { basename } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const K8S = /^k8s-.*\.test\.ts$/;
const LAST = 'k8s-cluster.test.ts';
/** k8s files with a cluster of their own (they tear it down themselves). */
const OWN_CLUSTER = new Set(['k8s-services.test.ts']);

/**
 * The rank of a file: 0 others, 1 the k8s files with a cluster of their own, 2 the files on the
 * shared cluster, 3 the one that brings the shared cluster down.
 */
export function k8sRank(path: string): number {
  const b = basename(path);
  if (!path.includes('/test/integration/') || !K8S.test(b)) return 0;
  if (OWN_CLUSTER.has(b)) return 1;
  return b === LAST ? 3 : 2;
}

/** Stable: files of one rank keep the order they came in. */
export function k8sLast<T>(files: T[], pathOf: (f: T) => string): T[] {
  return files
    .map((f, i) => [f, i] as const)
    .sort(([a, i], [b, j]) => k8sRank(pathOf(a)) - k8sRank(pathOf(b)) || i - j)
    .map(([f]) => f);
}

export default class K8sLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return k8sLast(await super.sort(files), (f) => f.moduleId);
  }
}
