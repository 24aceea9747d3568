/** The order of the integration files: the k8s files on the shared cluster after all others, k8s-cluster last. */
import { describe, expect, it } from 'vitest';
import { k8sLast, k8sRank } from '../../support/k8s-sequencer.js';

describe('k8sLast', () => {
  it('keeps vitest order for other files, then the k8s files with their own cluster, then those on the shared cluster, k8s-cluster.test.ts last', () => {
    const files = [
      '/r/test/integration/k8s-cluster.test.ts',
      '/r/test/integration/net-matrix.test.ts',
      '/r/test/integration/k8s-workloads.test.ts',
      '/r/test/unit/runtimes/k8s-manifests.test.ts',
      '/r/test/integration/k8s-services.test.ts',
      '/r/test/integration/k3s-role.test.ts',
      '/r/test/integration/repl-shell.test.ts',
    ];
    expect(k8sLast(files, (f) => f)).toEqual([
      '/r/test/integration/net-matrix.test.ts',
      '/r/test/unit/runtimes/k8s-manifests.test.ts',
      '/r/test/integration/k3s-role.test.ts',
      '/r/test/integration/repl-shell.test.ts',
      '/r/test/integration/k8s-services.test.ts',
      '/r/test/integration/k8s-workloads.test.ts',
      '/r/test/integration/k8s-cluster.test.ts',
    ]);
  });

  it('ranks only the integration files named k8s-*.test.ts (not their helpers)', () => {
    expect(k8sRank('/r/test/integration/k8s-support.ts')).toBe(0);
    expect(k8sRank('/r/test/integration/k8s-shared.ts')).toBe(0);
    expect(k8sRank('/r/test/integration/k8s-services.test.ts')).toBe(1);
    expect(k8sRank('/r/test/integration/k8s-workloads.test.ts')).toBe(2);
    expect(k8sRank('/r/test/integration/k8s-cluster.test.ts')).toBe(3);
  });
});
