/**
 * Choosing a tag and a /24 for a new local reservation: the deterministic candidates of names.ts,
 * skipping any that another experiment (a registry claim, a live link or namespace, an address or
 * route of this machine) already uses.
 */
import { PlatformError } from '../../core/errors.js';
import type { RoleSizes } from '../../core/types.js';
import {
  bridgeName,
  inPrefix,
  layoutHosts,
  parseSubnet,
  prefixOf,
  subnetCandidates,
  subnetOf,
  tagFor,
  type LocalAllocation,
} from './names.js';
import { listLinks, listNamespaces, rootIpv4Usage } from './network.js';
import { claim, holderOf, type Claim } from './claims.js';

const TAG_ATTEMPTS = 64;

export interface AllocateOptions {
  experiment: string;
  stateDir: string;
  roles: RoleSizes;
  /** `platform.local.subnet`, when set: used as is, an error if taken. */
  subnet?: string;
  /** false for `plan()`: look, claim nothing. */
  claim: boolean;
}

export async function allocate(o: AllocateOptions): Promise<LocalAllocation> {
  const [links, namespaces, usage] = await Promise.all([listLinks(), listNamespaces(), rootIpv4Usage()]);
  const linkNames = new Set(links.keys());
  const owner = (tag: string, prefix: string): Claim => ({ experiment: o.experiment, stateDir: o.stateDir, tag, prefix, bridge: bridgeName(tag) });

  let tag: string | undefined;
  for (let attempt = 0; attempt < TAG_ATTEMPTS && !tag; attempt++) {
    const t = tagFor(o.experiment, attempt);
    const liveClash =
      [...linkNames].some((l) => l === bridgeName(t) || l.startsWith(`${t}h`)) || [...namespaces].some((n) => n.startsWith(`${t}-`));
    if (liveClash) continue;
    if (o.claim ? !claim('tag', t, owner(t, ''), linkNames) : holderOf('tag', t, o.stateDir, linkNames)) continue;
    tag = t;
  }
  if (!tag) throw new PlatformError('platform.local.no_free_name', `no free interface names for experiment ${o.experiment} after ${TAG_ATTEMPTS} tries`);

  const override = o.subnet === undefined ? undefined : parseSubnet(o.subnet);
  if (o.subnet !== undefined && !override) {
    throw new PlatformError('platform.local.bad_subnet', `platform.local.subnet: "${o.subnet}" is not a /24 in 10.0.0.0/8 like 10.77.3.0/24`);
  }
  const candidates = override ? [override] : subnetCandidates(o.experiment).map((x) => prefixOf(x));
  let prefix: string | undefined;
  let why = '';
  for (const p of candidates) {
    const used = usage.find((u) => inPrefix(u.address, p));
    if (used) {
      why = `${subnetOf(p)} is in use on this machine (${used.kind === 'addr' ? 'address' : 'route'} ${used.address}${used.ifname ? ` on ${used.ifname}` : ''})`;
      continue;
    }
    const holder = holderOf('net', p, o.stateDir, linkNames);
    if (holder) {
      why = `${subnetOf(p)} is reserved by experiment ${holder.experiment} (${holder.stateDir})`;
      continue;
    }
    if (o.claim && !claim('net', p, owner(tag, p), linkNames)) {
      why = `${subnetOf(p)} was just reserved by another experiment`;
      continue;
    }
    prefix = p;
    break;
  }
  if (!prefix) {
    throw new PlatformError(
      override ? 'platform.local.subnet_in_use' : 'platform.local.no_free_subnet',
      override ? `platform.local.subnet: ${why}; choose another /24 or run killjob on the experiment using it` : `no free /24 left in 10.77.0.0/16 (${why})`,
    );
  }
  if (o.claim) claim('tag', tag, owner(tag, prefix), linkNames);
  return { experiment: o.experiment, stateDir: o.stateDir, tag, bridge: bridgeName(tag), prefix, hosts: layoutHosts(tag, o.roles) };
}
