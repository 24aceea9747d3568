/**
 * The integration project's global setup: a folder for this run where the shared Kubernetes
 * cluster is recorded (k8s-shared.ts), and, at the end of the run whatever happened, that cluster
 * brought down (killjob) and checked to leave nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bringDown, type SharedRecord } from './k8s-shared.js';
import { existsSync, readFileSync } from 'node:fs';

export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gr-it-run-'));
  const file = join(dir, 'k8s-shared.json');
  project.provide('k8sSharedRecord', file);
  return async () => {
    try {
      if (existsSync(file)) {
        const r = JSON.parse(readFileSync(file, 'utf8')) as SharedRecord;
        process.stderr.write(`[k8s-shared] bringing down ${r.exp} (${r.home})${r.released ? ': released by the tests, checking leftovers' : ''}\n`);
        await bringDown(r);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
