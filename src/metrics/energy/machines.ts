/**
 * Hosts grouped by physical machine, and one reading per machine. Hosts on one machine (the local
 * platform's namespace hosts, several inventory entries on one server) read the same energy
 * counters: summing their figures would count the machine once per host. A machine's figure from
 * a source is ONE of its hosts' readings: the best-covered one (the first in host order on a tie).
 */
import type { EnergyHost, HostEnergy } from './source.js';

/** The machine a host runs on: its `machine` when the platform set one, else the host itself. */
export function machineOf(h: Pick<EnergyHost, 'name' | 'machine'>): string {
  return h.machine !== undefined && h.machine.length > 0 ? h.machine : h.name;
}

export interface Machine {
  id: string;
  /** Its hosts, in the order they were given. */
  hosts: EnergyHost[];
}

/** Machines in order of their first host. */
export function groupByMachine(hosts: readonly EnergyHost[]): Machine[] {
  const out = new Map<string, Machine>();
  for (const h of hosts) {
    const id = machineOf(h);
    const m = out.get(id) ?? { id, hosts: [] };
    m.hosts.push(h);
    out.set(id, m);
  }
  return [...out.values()];
}

/** Readings of the same counters that differ by more than this fraction are reported. */
export const READING_AGREEMENT = 0.02;

export interface MachineReading {
  /** The reading used (its `host` is the reader), or undefined when no host of the machine has data. */
  reading: HostEnergy | undefined;
  /** Every host's answer from this source, in host order. */
  answers: HostEnergy[];
  /** Set when the hosts' readings disagree (they should be copies of one counter). */
  note?: string;
}

/**
 * One source's figure for a machine from its hosts' answers (`answers` holds the source's answer for
 * every requested host; those of other machines are ignored): the best-covered reading with data.
 */
export function machineReading(machine: Machine, answers: readonly HostEnergy[]): MachineReading {
  const mine = machine.hosts.map((h) => answers.find((a) => a.host === h.name)).filter((a): a is HostEnergy => a !== undefined);
  const withData = mine.filter((a) => a.joules !== null);
  let best: HostEnergy | undefined;
  for (const a of withData) if (!best || a.coverage.fraction > best.coverage.fraction) best = a;
  const out: MachineReading = { reading: best, answers: mine };
  if (best && withData.length > 1) {
    const ref = best.joules!;
    const off = withData.filter((a) => Math.abs(a.joules! - ref) > READING_AGREEMENT * Math.max(Math.abs(ref), 1e-9));
    if (off.length > 0) {
      out.note =
        `hosts of machine ${machine.id} read different values from ${best.source} ` +
        `(${withData.map((a) => `${a.host} ${a.joules!.toFixed(1)} J`).join(', ')}): the figure is ${best.host}'s; check that they are one machine`;
    }
  }
  return out;
}
