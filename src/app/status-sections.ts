/**
 * Extra sections of `status`, after hosts, services and endpoints. A provider gets the state and
 * returns a titled section (lines for the terminal, data for `--json`), or undefined to stay out.
 * To add one: write the provider in your area and append it to STATUS_SECTIONS (one line).
 */
import type { Host } from '../core/types.js';
import type { ExperimentState } from './state.js';

export interface StatusContext {
  experiment: string;
  stateDir: string;
  state: ExperimentState;
  hosts: Host[];
}

export interface StatusSection {
  /** Heading on the terminal; key under `sections` in `--json`. */
  title: string;
  lines: string[];
  data: unknown;
  /** True when the section found a problem (status then exits 1 after printing everything). */
  problem?: boolean;
}

export type StatusSectionProvider = (ctx: StatusContext) => Promise<StatusSection | undefined>;

export const STATUS_SECTIONS: StatusSectionProvider[] = [
  // The Kubernetes cluster of runtime k3s: nodes (Ready, role, kubelet, pod CIDR), CoreDNS, kubeconfig (./kubernetes.ts).
  async (ctx) => (await import('./kubernetes.js')).clusterSection(ctx),
  // Scrape-target health and the Prometheus URL (src/metrics/targets-report.ts).
  async (ctx) => (await import('../metrics/targets-report.js')).targetsSection(ctx.state.endpoints, { expected: ctx.state.scrapeTargets ?? [] }),
];
