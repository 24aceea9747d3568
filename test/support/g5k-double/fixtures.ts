/**
 * The double's reference data: a few sites and clusters shaped like the reference API. Node counts
 * are small; `wattmetre` clusters expose wattmetre_power_watt in Kwollect, all expose bmc_node_power_watt.
 */
export interface DoubleCluster {
  uid: string;
  site: string;
  nodes: number;
  wattmetre: boolean;
  exotic: boolean;
  queues: string[];
  cores: number;
}

export const DEFAULT_CLUSTERS: DoubleCluster[] = [
  { uid: 'paravance', site: 'rennes', nodes: 8, wattmetre: false, exotic: false, queues: ['default', 'admin'], cores: 16 },
  { uid: 'paradoxe', site: 'rennes', nodes: 8, wattmetre: true, exotic: false, queues: ['default', 'admin'], cores: 52 },
  { uid: 'gros', site: 'nancy', nodes: 8, wattmetre: true, exotic: false, queues: ['default', 'admin'], cores: 18 },
  // not in the client's presets: found through the reference API
  { uid: 'grappe', site: 'nancy', nodes: 4, wattmetre: true, exotic: false, queues: ['production', 'admin'], cores: 20 },
  { uid: 'nova', site: 'lyon', nodes: 6, wattmetre: true, exotic: false, queues: ['default', 'admin'], cores: 16 },
  { uid: 'yeti', site: 'grenoble', nodes: 4, wattmetre: true, exotic: true, queues: ['default', 'admin'], cores: 64 },
  { uid: 'ecotype', site: 'nantes', nodes: 6, wattmetre: false, exotic: false, queues: ['default', 'admin'], cores: 20 },
];

export const METRIC_PERIOD_MS = { wattmetre_power_watt: 1000, bmc_node_power_watt: 5000 } as const;
export type DoubleMetric = keyof typeof METRIC_PERIOD_MS;

/** The known power curve: P(t) = base + amp·sin(2πt/T + phase), per node; the BMC reads 4 W more. */
export const CURVE_PERIOD_S = 600;
export function curve(nodeIndex: number, metric: DoubleMetric): { base: number; amp: number; phase: number } {
  return { base: 100 + 10 * nodeIndex + (metric === 'bmc_node_power_watt' ? 4 : 0), amp: 30, phase: nodeIndex * 0.7 };
}

export function powerAt(nodeIndex: number, metric: DoubleMetric, t: number): number {
  const c = curve(nodeIndex, metric);
  return c.base + c.amp * Math.sin((2 * Math.PI * t) / CURVE_PERIOD_S + c.phase);
}

/** ∫ P dt over [a, b], exactly. */
export function energyBetween(nodeIndex: number, metric: DoubleMetric, a: number, b: number): number {
  const c = curve(nodeIndex, metric);
  const w = (2 * Math.PI) / CURVE_PERIOD_S;
  return c.base * (b - a) - (c.amp / w) * (Math.cos(w * b + c.phase) - Math.cos(w * a + c.phase));
}
