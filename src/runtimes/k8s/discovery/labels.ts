/**
 * The target groups Prometheus' kubernetes_sd would give for pods and nodes, as file_sd groups
 * (`{targets, labels}`), with the same `__meta_kubernetes_*` labels (the mapping of Prometheus'
 * discovery/kubernetes pod.go and node.go, read at v0.316.0), so the scrape jobs' relabel_configs are
 * the ones a kubernetes_sd user writes. file_sd has one label set per group, so each kubernetes_sd
 * target (a pod's container port; a node) becomes its own group carrying the pod's (node's) labels
 * and the target's own. Debian's Prometheus is built without kubernetes_sd; the discovery sidecar
 * (./watch.ts) writes these groups for it.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';

export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

const META = '__meta_kubernetes_';

/** Prometheus' strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes `_`. */
export const sanitizeLabelName = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

/** net.JoinHostPort: IPv6 addresses in brackets. */
const joinHostPort = (host: string, port: string | number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** addObjectMetaLabels: `<role>_name`, `<role>_label_<x>`, `<role>_labelpresent_<x>`, `<role>_annotation_<x>`, `<role>_annotationpresent_<x>`. */
function objectMetaLabels(out: Record<string, string>, meta: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> } | undefined, role: 'pod' | 'node'): void {
  out[`${META}${role}_name`] = meta?.name ?? '';
  for (const [k, v] of Object.entries(meta?.labels ?? {})) {
    out[`${META}${role}_label_${sanitizeLabelName(k)}`] = v;
    out[`${META}${role}_labelpresent_${sanitizeLabelName(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries(meta?.annotations ?? {})) {
    out[`${META}${role}_annotation_${sanitizeLabelName(k)}`] = v;
    out[`${META}${role}_annotationpresent_${sanitizeLabelName(k)}`] = 'true';
  }
}

/**
 * A pod's groups (kubernetes_sd role pod, with `attach_metadata: {node: true}` when `node` is given):
 * none while the pod has no IP yet; else one per container port (address podIP:port) and one per
 * container without ports (address podIP), init containers included (pod_container_init true).
 */
export function podGroups(pod: V1Pod, node?: V1Node): FileSdGroup[] {
  const ip = pod.status?.podIP ?? '';
  if (!ip) return [];
  const base: Record<string, string> = {
    [`${META}pod_ip`]: ip,
    [`${META}pod_ready`]: (pod.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown').toLowerCase(),
    [`${META}pod_phase`]: pod.status?.phase ?? '',
    [`${META}pod_node_name`]: pod.spec?.nodeName ?? '',
    [`${META}pod_host_ip`]: pod.status?.hostIP ?? '',
    [`${META}pod_uid`]: pod.metadata?.uid ?? '',
  };
  objectMetaLabels(base, pod.metadata, 'pod');
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (owner?.kind) base[`${META}pod_controller_kind`] = owner.kind;
  if (owner?.name) base[`${META}pod_controller_name`] = owner.name;
  base[`${META}namespace`] = pod.metadata?.namespace ?? '';
  if (node) objectMetaLabels(base, node.metadata, 'node');

  const groups: FileSdGroup[] = [];
  const containers = [...(pod.spec?.containers ?? []).map((c) => ({ c, init: false })), ...(pod.spec?.initContainers ?? []).map((c) => ({ c, init: true }))];
  for (const { c, init } of containers) {
    const statuses = (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? [];
    const container: Record<string, string> = {
      [`${META}pod_container_name`]: c.name,
      [`${META}pod_container_id`]: statuses.find((s) => s.name === c.name)?.containerID ?? '',
      [`${META}pod_container_image`]: c.image ?? '',
      [`${META}pod_container_init`]: String(init),
    };
    if (!c.ports?.length) {
      groups.push({ targets: [ip], labels: { ...base, ...container } });
      continue;
    }
    for (const p of c.ports) {
      groups.push({
        targets: [joinHostPort(ip, p.containerPort)],
        labels: {
          ...base,
          ...container,
          [`${META}pod_container_port_number`]: String(p.containerPort),
          [`${META}pod_container_port_name`]: p.name ?? '',
          [`${META}pod_container_port_protocol`]: p.protocol ?? '',
        },
      });
    }
  }
  return groups;
}

const ADDRESS_ORDER = ['InternalIP', 'InternalDNS', 'ExternalIP', 'ExternalDNS', 'LegacyHostIP', 'Hostname'];

/**
 * A node's group (kubernetes_sd role node): address = its first address by InternalIP, InternalDNS,
 * ExternalIP, ExternalDNS, LegacyHostIP, Hostname, with the kubelet's port; `instance` = the node's
 * name; node_address_<type> = the first address of each type; node_condition_<type>; none when the
 * node has no address.
 */
export function nodeGroups(node: V1Node): FileSdGroup[] {
  const labels: Record<string, string> = { [`${META}node_provider_id`]: node.spec?.providerID ?? '' };
  for (const c of node.status?.conditions ?? []) labels[`${META}node_condition_${sanitizeLabelName(c.type.toLowerCase())}`] = c.status.toLowerCase();
  objectMetaLabels(labels, node.metadata, 'node');
  const byType = new Map<string, string>();
  for (const a of node.status?.addresses ?? []) if (!byType.has(a.type)) byType.set(a.type, a.address);
  const type = ADDRESS_ORDER.find((t) => byType.has(t));
  if (!type) return [];
  for (const [t, a] of byType) labels[sanitizeLabelName(`${META}node_address_${t}`)] = a;
  labels.instance = node.metadata?.name ?? '';
  return [{ targets: [joinHostPort(byType.get(type)!, node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0)], labels }];
}

/** Groups in a stable order (by first target, then pod/node name), so an unchanged cluster writes identical files. */
export function sortGroups(groups: FileSdGroup[]): FileSdGroup[] {
  const key = (g: FileSdGroup): string => `${g.labels[`${META}namespace`] ?? ''}/${g.labels[`${META}pod_name`] ?? g.labels[`${META}node_name`] ?? ''}/${g.labels[`${META}pod_container_name`] ?? ''}/${g.targets[0] ?? ''}`;
  return [...groups].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
