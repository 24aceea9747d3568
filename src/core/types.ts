/** Nouns shared by every layer. */

export const ROLES = ['control', 'broker', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export const SERVICES = [
  'node_exporter',
  'prometheus',
  'pushgateway',
  'scaphandre',
  'kafka',
  'redpanda',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** One machine the experiment runs on, as Ansible reaches it. */
export interface Host {
  /** Inventory name (unique in the experiment), e.g. `gr3f-1`. */
  name: string;
  /** Address Ansible and services use to reach it. */
  address: string;
  /** SSH port (default 22). */
  port: number;
  /** SSH user. */
  user: string;
  /** Private key file, if not the user's default. */
  keyFile?: string;
  /** Roles this host plays. */
  roles: Role[];
  /** Extra per-host inventory variables (ansible_ssh_common_args, jump host, ...). */
  vars?: Record<string, string | number | boolean>;
  /**
   * The physical machine this host runs on (set by the platform): hosts with the same value share
   * one set of energy counters and are accounted once (local: one id for every namespace host;
   * static: the `machine:` key or the address; g5k: the node FQDN). Absent: the host is its own machine.
   */
  machine?: string;
}

/** Hosts grouped by role. */
export interface Cluster {
  hosts: Host[];
}

/** The hosts of a role, of the cluster's own host type (a WorkHost list gives WorkHosts). */
export function hostsInRole<H extends Host>(cluster: { hosts: readonly H[] }, role: Role): H[] {
  return cluster.hosts.filter((h) => h.roles.includes(role));
}

export type RoleSizes = Record<Role, number>;

/**
 * A host as runs use it: its inventory entry plus its own folder for pidfiles, logs and outputs
 * (`gr_data_dir`; unique per host, also on hosts that share a filesystem).
 */
export interface WorkHost extends Host {
  dataDir: string;
}

/** The measurement window of a run, epoch seconds; queries select exactly [start, end]. */
export interface RunWindow {
  start: number;
  end: number;
  /** Warm-up before `start`, excluded from measurement. */
  warmupStart?: number;
}

/**
 * The Prometheus job of the load generators: its targets are a file_sd file the prometheus role
 * creates empty and each ingest run fills with its generators (and empties at its end).
 */
export const LOADGEN_SCRAPE_JOB = 'greenrace_loadgen';
