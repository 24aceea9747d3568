/**
 * The `kubernetes` section: how the cluster of `runtime: k3s` is made (docs/k8s.md). Owned by no
 * plug-in: the runtime is a base section. Absent on `runtime: host` (giving it there is an error);
 * on `runtime: k3s` every key has a default but `k3s.version` when the distribution is k3s.
 */
import { z } from 'zod';

/**
 * `upstream`: Kubernetes built here from its Go module with Debian's etcd/containerd/runc/CNI
 * (ansible/roles/k8s); `k3s`: the official k3s binary, pinned (ansible/roles/k3s).
 */
export const K8S_DISTRIBUTIONS = ['upstream', 'k3s'] as const;
export type K8sDistribution = (typeof K8S_DISTRIBUTIONS)[number];

/** A pinned k3s release of the Kubernetes minor greenrace supports: `v1.34.<patch>+k3s<n>`. */
export const K3S_VERSION_RE = /^v1\.34\.\d+\+k3s\d+$/;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits (a SHA-256)');
const file = z.string().min(1);

export const k3sSchema = z
  .strictObject({
    /** Required when the distribution is k3s: a pinned release, never a channel. */
    version: z
      .string()
      .regex(K3S_VERSION_RE, 'a pinned k3s release of Kubernetes 1.34, like "v1.34.2+k3s1" (channels such as "stable" are refused)')
      .optional(),
    /** The binary's SHA-256 (default: checked against the release's sha256sum file). */
    sha256: sha256.optional(),
    /** Where releases are downloaded from (a mirror of the GitHub releases). */
    release_url: z.string().url().optional(),
    flannel_backend: z.enum(['vxlan', 'host-gw', 'wireguard-native', 'ipsec', 'none']).default('vxlan'),
    /** Airgap: files on this machine; nothing is downloaded. */
    airgap: z
      .strictObject({
        binary: file,
        install_script: file,
        images: file.optional(),
      })
      .optional(),
    /** registries.yaml (mirrors, configs), written only when given; no registry host is built in. */
    registries: z.record(z.string(), z.unknown()).optional(),
  })
  .prefault({});

export const kubernetesSchema = z.strictObject({
  /** Default: the platform's first (local: upstream; static, g5k: k3s). */
  distribution: z.enum(K8S_DISTRIBUTIONS).optional(),
  /** Let pods run on the control host too (it is tainted NoSchedule otherwise). */
  schedule_on_control: z.boolean().default(false),
  coredns_replicas: z.number().int().min(1).max(10).default(1),
  k3s: k3sSchema,
});

export type KubernetesConfig = z.output<typeof kubernetesSchema>;
