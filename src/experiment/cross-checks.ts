import { baseCrossChecks, failer, type Fail } from '../config/cross-checks.js';
import { crossCheckPlatform, platformKubernetes } from '../platforms/section.js';
import { servicesCrossCheck } from '../services/registry.js';
import type { Workload } from '../workloads/contract.js';
import { WORKLOADS } from '../workloads/registry.js';
import { distributionOf } from './kubernetes.js';
import type { Experiment } from './schema.js';

/** Every check that spans keys: the base ones, the platform's, the services' and each workload's own. */
export function crossChecks(e: Experiment, where: (path: string) => string): void {
  const fail = failer(where);
  baseCrossChecks(e, fail);
  crossCheckPlatform(e.platform, fail);
  servicesCrossCheck(e, fail);
  kubernetesCrossCheck(e, fail);
  for (const w of WORKLOADS as readonly Workload[]) w.crossCheck?.(e, fail);
}

/** `runtime: k3s`: a distribution the platform can serve, and a pinned k3s release when it is k3s. */
function kubernetesCrossCheck(e: Experiment, fail: Fail): void {
  const d = distributionOf(e);
  if (!d) return;
  const kind = e.platform.kind;
  const served = platformKubernetes(kind);
  if (!served.includes(d)) {
    fail('kubernetes.distribution', `the ${kind} platform cannot run ${d}; it can run: ${served.join(', ')} (docs/k8s.md)`);
  }
  if (d === 'k3s' && !e.kubernetes?.k3s.version) {
    fail('kubernetes.k3s.version', 'is required with distribution k3s: a pinned release of Kubernetes 1.34, like "v1.34.2+k3s1"');
  }
  if (d === 'upstream' && e.kubernetes && hasK3sOptions(e.kubernetes.k3s)) {
    fail('kubernetes.k3s', 'applies to distribution k3s only (the distribution is upstream)');
  }
}

const hasK3sOptions = (k: NonNullable<Experiment['kubernetes']>['k3s']): boolean =>
  Boolean(k.version || k.sha256 || k.release_url || k.airgap || k.registries || k.flannel_backend !== 'vxlan');
