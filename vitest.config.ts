import { defineConfig } from 'vitest/config';
import K8sLastSequencer from './test/support/k8s-sequencer.js';

export default defineConfig({
  test: {
    // The k8s integration files after every other file, k8s-cluster.test.ts last (test/support/k8s-sequencer.ts).
    sequence: { sequencer: K8sLastSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One real cluster at a time on a 2-core machine: files run one after another.
          fileParallelism: false,
          // One Kubernetes cluster shared by the k8s files, brought down at the end of the run (test/integration/k8s-shared.ts).
          globalSetup: ['test/integration/k8s-global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
