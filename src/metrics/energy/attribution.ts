/**
 * Per-host shares of a machine's energy. They are an attribution, not measurements: the machine is
 * measured once and its joules are split among its hosts by the CPU time each used in the window,
 * so the shares add up to the machine's figure. A machine with one host gives it everything.
 */

/** How a host's share was decided. */
export type AttributionBasis = 'machine' | 'cpu' | 'equal';

export interface HostShare {
  host: string;
  /** Fraction of the machine's figure, 0..1; the shares of a machine add up to 1. */
  share: number;
  basis: AttributionBasis;
}

export const ATTRIBUTION_NOTES: Record<AttributionBasis, string> = {
  machine: 'the host is the whole machine',
  cpu: "share of the machine's energy by the CPU time of the host's processes in the window",
  equal: "equal share of the machine's energy (no per-host CPU time was given)",
};

/**
 * The shares of a machine's hosts. `cpuSeconds` (host → CPU seconds used in the window, e.g. summed
 * utime+stime of the processes in each namespace) splits by CPU time; without it for every host, or
 * when none used any, the split is equal and says so.
 */
export function hostShares(hosts: readonly string[], cpuSeconds?: Readonly<Record<string, number>>): HostShare[] {
  if (hosts.length === 1) return [{ host: hosts[0]!, share: 1, basis: 'machine' }];
  const cpu = hosts.map((h) => cpuSeconds?.[h]);
  const known = cpu.every((c): c is number => typeof c === 'number' && Number.isFinite(c) && c >= 0);
  const sum = known ? cpu.reduce<number>((s, c) => s + (c ?? 0), 0) : 0;
  if (known && sum > 0) return hosts.map((host, i) => ({ host, share: cpu[i]! / sum, basis: 'cpu' }));
  return hosts.map((host) => ({ host, share: 1 / hosts.length, basis: 'equal' }));
}
