/**
 * Energy sources of the static platform: none of its own. Existing hosts are measured by the
 * host-level sources every platform has through Prometheus (RAPL through node_exporter, Scaphandre,
 * the model); hosts that share a physical machine say so with the same `machine:` in the inventory.
 */
import type { EnergySource } from '../../metrics/energy/source.js';

export async function energySources(): Promise<Record<string, EnergySource>> {
  return {};
}
