/**
 * Pure naming and addressing rules of the local platform: which tag, bridge, namespaces, veths and
 * /24 an experiment gets. No I/O here, so every rule is unit-tested.
 *
 * - tag: `gr` + 4 base-36 characters of a hash of the experiment name (attempt 0); when that tag is
 *   taken by another experiment, attempt k hashes `<name>#<k>`. Deterministic for a given machine state.
 * - bridge `<tag>br`, veth (root side) `<tag>h<octet>`: at most 10 characters (Linux allows 15).
 * - namespace `<tag>-<host>` (e.g. `gr0k3f-worker-2`); inside it the interface is `eth0`.
 * - subnet: `10.77.X.0/24` with X = hash % 256, then X+1, X+2, ... (mod 256) while taken.
 * - addresses: bridge (controller) `.1`, hosts from `.11` up, default route via `.254` (nobody answers).
 */
import { createHash } from 'node:crypto';
import { ROLES, type Role, type RoleSizes } from '../../core/types.js';

export const DEFAULT_BASE = '10.77';
export const BRIDGE_OCTET = 1;
export const FIRST_HOST_OCTET = 11;
export const LAST_HOST_OCTET = 253;
/** The default route of every host points here; nothing answers, so nothing leaves. */
export const DEAD_GATEWAY_OCTET = 254;
export const MAX_LOCAL_HOSTS = LAST_HOST_OCTET - FIRST_HOST_OCTET + 1;
export const IFNAME_MAX = 15;

export interface LocalHostSlot {
  /** Inventory name and hostname: `<role>-<n>`. */
  name: string;
  role: Role;
  /** 1-based index within the role. */
  index: number;
  /** Last octet of the address. */
  octet: number;
  /** Network namespace name. */
  ns: string;
  /** Root-namespace end of the veth pair. */
  veth: string;
}

export interface LocalAllocation {
  experiment: string;
  /** Absolute state directory that owns this allocation. */
  stateDir: string;
  tag: string;
  bridge: string;
  /** First three octets, e.g. `10.77.5`. */
  prefix: string;
  hosts: LocalHostSlot[];
}

function hash32(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0);
}

/** Tag for an experiment name; `attempt` > 0 gives the deterministic alternatives. */
export function tagFor(experiment: string, attempt = 0): string {
  const h = hash32(attempt === 0 ? experiment : `${experiment}#${attempt}`) % 36 ** 4;
  return 'gr' + h.toString(36).padStart(4, '0');
}

export const bridgeName = (tag: string): string => `${tag}br`;
export const vethName = (tag: string, octet: number): string => `${tag}h${octet}`;
export const nsName = (tag: string, host: string): string => `${tag}-${host}`;

/** Third octets to try for an experiment's default subnet, in order. */
export function subnetCandidates(experiment: string): number[] {
  const start = hash32(`subnet:${experiment}`) % 256;
  return Array.from({ length: 256 }, (_, i) => (start + i) % 256);
}

export const prefixOf = (thirdOctet: number, base = DEFAULT_BASE): string => `${base}.${thirdOctet}`;
export const subnetOf = (prefix: string): string => `${prefix}.0/24`;
export const addressOf = (prefix: string, octet: number): string => `${prefix}.${octet}`;

/** `10.1.2.0/24` → `10.1.2`; undefined when it is not a /24 in 10.0.0.0/8 with octets ≤ 255. */
export function parseSubnet(subnet: string): string | undefined {
  const m = /^10\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet.trim());
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a > 255 || b > 255) return undefined;
  return `10.${a}.${b}`;
}

/** True when `address` (dotted quad) lies in `<prefix>.0/24`. */
export const inPrefix = (address: string, prefix: string): boolean => address.startsWith(prefix + '.') && address.split('.').length === 4;

export const hostName = (role: Role, index: number): string => `${role}-${index}`;

export function totalHosts(roles: RoleSizes): number {
  return ROLES.reduce((n, r) => n + roles[r], 0);
}

/**
 * Host slots for the role sizes. With `existing` slots (a cluster that is up), keeps every existing
 * host that is still wanted with its address and gives new hosts the lowest free octets; hosts no
 * longer wanted (highest indexes first) are left out. Roles are distinct hosts.
 */
export function layoutHosts(tag: string, roles: RoleSizes, existing: LocalHostSlot[] = []): LocalHostSlot[] {
  const n = totalHosts(roles);
  if (n > MAX_LOCAL_HOSTS) {
    throw new RangeError(`the local platform fits at most ${MAX_LOCAL_HOSTS} hosts in one /24 (asked for ${n})`);
  }
  const keep = new Map(existing.map((s) => [s.name, s]));
  const wanted: Array<{ role: Role; index: number; name: string }> = [];
  for (const role of ROLES) for (let i = 1; i <= roles[role]; i++) wanted.push({ role, index: i, name: hostName(role, i) });
  const used = new Set<number>();
  for (const w of wanted) {
    const s = keep.get(w.name);
    if (s) used.add(s.octet);
  }
  let next = FIRST_HOST_OCTET;
  const out: LocalHostSlot[] = [];
  for (const w of wanted) {
    const s = keep.get(w.name);
    if (s) {
      out.push(s);
      continue;
    }
    while (used.has(next)) next++;
    used.add(next);
    out.push({ name: w.name, role: w.role, index: w.index, octet: next, ns: nsName(tag, w.name), veth: vethName(tag, next) });
  }
  return out;
}

/** Everything an allocation will create, for the intent file and for release. */
export function namesOf(a: Pick<LocalAllocation, 'bridge' | 'hosts'>): { bridge: string; namespaces: string[]; veths: string[] } {
  return { bridge: a.bridge, namespaces: a.hosts.map((h) => h.ns), veths: a.hosts.map((h) => h.veth) };
}
