/**
 * Well-known clusters, so `--cluster <name>` is enough. Facts from the Grid'5000 reference API as of
 * 2025 (site, queue, exotic flag, whether Kwollect has wattmetre_power_watt for it); the reference
 * API stays authoritative: unknown clusters are looked up there, and energy `auto` asks it too.
 */
export interface ClusterPreset {
  site: string;
  queue: 'default' | 'production' | 'besteffort' | 'testing';
  /** Default walltime for jobs on this cluster. */
  walltime: string;
  /** Kwollect has wattmetre_power_watt for its nodes (else bmc_node_power_watt is used). */
  wattmetre: boolean;
  exotic: boolean;
}

export const CLUSTER_PRESETS: Readonly<Record<string, ClusterPreset>> = {
  paravance: { site: 'rennes', queue: 'default', walltime: '02:00:00', wattmetre: false, exotic: false },
  parasilo: { site: 'rennes', queue: 'default', walltime: '02:00:00', wattmetre: false, exotic: false },
  paradoxe: { site: 'rennes', queue: 'default', walltime: '02:00:00', wattmetre: true, exotic: false },
  gros: { site: 'nancy', queue: 'default', walltime: '02:00:00', wattmetre: true, exotic: false },
  grvingt: { site: 'nancy', queue: 'production', walltime: '04:00:00', wattmetre: false, exotic: false },
  nova: { site: 'lyon', queue: 'default', walltime: '02:00:00', wattmetre: true, exotic: false },
  taurus: { site: 'lyon', queue: 'default', walltime: '02:00:00', wattmetre: true, exotic: false },
  dahu: { site: 'grenoble', queue: 'default', walltime: '02:00:00', wattmetre: true, exotic: false },
  ecotype: { site: 'nantes', queue: 'default', walltime: '02:00:00', wattmetre: false, exotic: false },
};

export function clusterPreset(name: string): ClusterPreset | undefined {
  return Object.hasOwn(CLUSTER_PRESETS, name) ? CLUSTER_PRESETS[name] : undefined;
}

/** `paravance-12` of `paravance-12.rennes.grid5000.fr` → cluster `paravance`. */
export function clusterOfNode(node: string): string {
  const short = node.split('.')[0]!;
  return short.replace(/-\d+$/, '');
}

/** `paravance-12.rennes.grid5000.fr` → `rennes`; undefined for a short name. */
export function siteOfFqdn(fqdn: string): string | undefined {
  const parts = fqdn.split('.');
  return parts.length >= 4 && parts.slice(-2).join('.') === 'grid5000.fr' ? parts[1] : undefined;
}

export const shortName = (fqdn: string): string => fqdn.split('.')[0]!;
export const fqdnOf = (node: string, site: string): string => (node.includes('.') ? node : `${node}.${site}.grid5000.fr`);
