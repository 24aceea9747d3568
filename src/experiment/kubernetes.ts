/**
 * The cluster of `runtime: k3s` as an experiment asks for it: the distribution (the platform's
 * default when not given) and the variables of ansible/playbooks/kubernetes.yml. Undefined on
 * `runtime: host`.
 */
import { isAbsolute, resolve } from 'node:path';
import type { K8sDistribution } from '../config/schema/kubernetes.js';
import { kubernetesSchema } from '../config/schema/kubernetes.js';
import { platformKubernetes } from '../platforms/section.js';
import type { Experiment } from './schema.js';

export interface ClusterSpec {
  distribution: K8sDistribution;
  /** Extra-vars of kubernetes.yml (gr_k8s_distribution and the role's own variables). */
  vars: Record<string, unknown>;
}

type ClusterExperiment = Pick<Experiment, 'runtime' | 'kubernetes' | 'platform'>;

/** The distribution of an experiment's cluster (undefined on runtime: host). */
export function distributionOf(e: ClusterExperiment): K8sDistribution | undefined {
  if (e.runtime !== 'k3s') return undefined;
  return e.kubernetes?.distribution ?? platformKubernetes(e.platform.kind)[0];
}

/**
 * What kubernetes.yml needs to bring the cluster up or down. `baseDir`: where relative file paths of
 * the section (k3s airgap files) are resolved (the experiment file's folder).
 */
export function clusterSpec(e: ClusterExperiment, baseDir = process.cwd()): ClusterSpec | undefined {
  const distribution = distributionOf(e);
  if (!distribution) return undefined;
  const k = e.kubernetes ?? kubernetesSchema.parse({});
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const vars: Record<string, unknown> = { gr_k8s_distribution: distribution };
  if (distribution === 'upstream') {
    Object.assign(vars, { k8s_schedule_on_control: k.schedule_on_control, k8s_coredns_replicas: k.coredns_replicas });
  } else {
    const k3 = k.k3s;
    Object.assign(vars, {
      k3s_version: k3.version ?? '',
      k3s_flannel_backend: k3.flannel_backend,
      k3s_schedule_on_control: k.schedule_on_control,
      ...(k3.sha256 ? { k3s_sha256: k3.sha256 } : {}),
      ...(k3.release_url ? { k3s_release_url: k3.release_url } : {}),
      ...(k3.airgap
        ? {
            k3s_airgap_binary: abs(k3.airgap.binary),
            k3s_airgap_install_script: abs(k3.airgap.install_script),
            ...(k3.airgap.images ? { k3s_airgap_images: abs(k3.airgap.images) } : {}),
          }
        : {}),
      ...(k3.registries ? { k3s_registries: k3.registries } : {}),
    });
  }
  return { distribution, vars };
}
