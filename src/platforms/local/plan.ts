/** `setup --dry-run` on the local platform: the hosts, names and addresses a reservation would use. */
import { join, resolve } from 'node:path';
import type { Role } from '../../core/types.js';
import type { PlatformPlan, ReserveRequest } from '../platform.js';
import { allocate } from './allocate.js';
import { checkRoles, handleOf, roleCounts, thisMachine } from './handle.js';
import { readIntent } from './intent.js';
import { addressOf, BRIDGE_OCTET, DEAD_GATEWAY_OCTET, layoutHosts, subnetOf, type LocalAllocation } from './names.js';

function planLines(a: LocalAllocation, note: string): string[] {
  const lines = [
    `platform local: ${a.hosts.length} hosts as network namespaces on this machine${note}`,
    `bridge ${a.bridge}: ${addressOf(a.prefix, BRIDGE_OCTET)}/24 = controller address (subnet ${subnetOf(a.prefix)})`,
    `no route out: hosts' default route goes via ${addressOf(a.prefix, DEAD_GATEWAY_OCTET)}, which nobody answers; ip_forward is not touched`,
    `ssh: root with a key generated under ${join(a.stateDir, 'ssh')}/, one sshd per host, StrictHostKeyChecking=yes`,
  ];
  const w = Math.max(...a.hosts.map((h) => h.name.length));
  for (const h of a.hosts) {
    lines.push(`  ${h.name.padEnd(w)}  ${addressOf(a.prefix, h.octet).padEnd(15)}  role ${h.role.padEnd(7)} netns ${h.ns}  data ${join(a.stateDir, 'hosts', h.name)}`);
  }
  return lines;
}

export async function plan(req: ReserveRequest): Promise<PlatformPlan> {
  checkRoles(req.roles);
  const stateDir = resolve(req.stateDir);
  const intent = readIntent(stateDir);
  let a: LocalAllocation;
  let note: string;
  if (intent) {
    const had = roleCounts(intent.allocation.hosts);
    const changed = (['control', 'broker'] as Role[]).filter((r) => had[r] !== req.roles[r]);
    a = { ...intent.allocation, hosts: layoutHosts(intent.allocation.tag, req.roles, intent.allocation.hosts) };
    note = ' (already reserved: reattaches to the existing namespaces)';
    if (changed.length) note += ` [the running cluster has ${changed.map((r) => `${r}=${had[r]}`).join(', ')}: setup will refuse; killjob first]`;
    else if (had.worker !== req.roles.worker) note += ` [workers ${had.worker} → ${req.roles.worker}]`;
  } else {
    const subnet = req.experiment.platform.local.subnet;
    a = await allocate({ experiment: req.experiment.name, stateDir, roles: req.roles, ...(subnet ? { subnet } : {}), claim: false });
    note = '';
  }
  if (process.getuid && process.getuid() !== 0) note += ' [needs root: setup will fail as this user]';
  const lines = planLines(a, note);
  lines.push(`machine: ${thisMachine()} for every host (they all run on this machine)`);
  return { lines, hosts: handleOf(a).hosts, sharedFilesystem: true };
}
