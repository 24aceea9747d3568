/**
 * Energy sources of the local platform: none of its own. Its hosts are namespaces of this one
 * machine, measured by the host-level sources every platform has through Prometheus (RAPL through
 * node_exporter, Scaphandre, the model); all hosts carry the same `machine` (this machine's name),
 * which is how energy accounting knows they share one machine's power.
 */
import type { EnergySource } from '../../metrics/energy/source.js';

export async function energySources(): Promise<Record<string, EnergySource>> {
  return {};
}
