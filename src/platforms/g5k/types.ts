/** JSON shapes of the Grid'5000 API (g5k-api 3.x), as far as this tool reads them. */

export type JobState =
  | 'waiting'
  | 'hold'
  | 'launching'
  | 'running'
  | 'suspended'
  | 'resuming'
  | 'finishing'
  | 'terminated'
  | 'error';

export interface Link {
  rel: string;
  href: string;
  type?: string;
}

export interface Collection<T> {
  total: number;
  offset: number;
  items: T[];
  links?: Link[];
}

export interface Job {
  uid: number;
  user?: string;
  user_uid?: string;
  name?: string | null;
  project?: string | null;
  queue?: string;
  state: JobState;
  types?: string[];
  mode?: string;
  command?: string;
  walltime?: number;
  submitted_at?: number | null;
  scheduled_at?: number | null;
  started_at?: number | null;
  stopped_at?: number | null;
  message?: string | null;
  exit_code?: number | null;
  assigned_nodes?: string[];
  resources_by_type?: { cores?: string[]; vlans?: string[]; subnets?: string[]; disks?: string[] };
  events?: { uid: number; created_at: number; type: string; description: string }[];
  links?: Link[];
}

export interface JobSubmission {
  resources: string;
  command?: string;
  name?: string;
  types?: string[];
  queue?: string;
  project?: string;
  reservation?: string;
}

export type DeploymentStatus = 'waiting' | 'processing' | 'terminated' | 'error' | 'canceled';

export interface Deployment {
  uid: string;
  site_uid?: string;
  user_uid?: string;
  environment: string;
  status: DeploymentStatus;
  nodes: string[];
  result?: Record<string, { macro?: string | null; micro?: string | null; state: 'OK' | 'KO' }>;
  output?: string;
  created_at?: number;
  updated_at?: number;
  links?: Link[];
}

export interface DeploymentSubmission {
  nodes: string[];
  environment: string;
  key?: string;
  version?: number;
}

export interface Site {
  uid: string;
  name?: string;
  links?: Link[];
}

export interface ClusterMetric {
  name: string;
  description?: string;
  period?: number;
  optional_period?: number;
  source?: { protocol: string; port?: number; id?: string };
  labels?: Record<string, string>;
  only_for?: string[];
}

export interface Cluster {
  uid: string;
  exotic?: boolean;
  queues?: string[];
  metrics?: ClusterMetric[];
  links?: Link[];
}

export interface Node {
  uid: string;
  cluster_uid?: string;
  architecture?: { nb_cores?: number; nb_threads?: number };
  main_memory?: { ram_size?: number };
  links?: Link[];
}

export interface ClusterStatus {
  nodes: Record<string, { hard: string; soft: string; reservations?: unknown[] }>;
}

export interface MetricSample {
  timestamp: string;
  device_id: string;
  metric_id: string;
  value: number;
  labels?: Record<string, unknown>;
}
