/**
 * The order of the test files: vitest's own, except that the integration files on the shared
 * Kubernetes cluster (test/integration/k8s-*.test.ts) come after every other file — the cluster is
 * brought up by the first of them, so no other file runs beside an idle cluster (the latency
 * matrices would read its load) — and k8s-cluster.test.ts comes last of them: it brings the shared
 * cluster down and asserts that killjob leaves nothing.
 */
import { basename } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const K8S = /^k8s-.*\.test\.ts$/;
const LAST = 'k8s-cluster.test.ts';

/** The rank of a file: 0 others, 1 the k8s files, 2 the one that brings the cluster down. */
export function k8sRank(path: string): number {
  const b = basename(path);
  if (!path.includes('/test/integration/') || !K8S.test(b)) return 0;
  return b === LAST ? 2 : 1;
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
