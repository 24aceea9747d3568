/** The local platform's handle: what a reservation hands out, rebuilt from an allocation. */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PlatformError } from '../../core/errors.js';
import { shq } from '../../core/shell.js';
import type { Host, RoleSizes } from '../../core/types.js';
import type { PlatformHandle } from '../platform.js';
import { sshPaths } from './keys.js';
import { addressOf, BRIDGE_OCTET, MAX_LOCAL_HOSTS, subnetOf, totalHosts, type LocalAllocation, type LocalHostSlot } from './names.js';

/** What a local handle keeps in `data` (JSON, no secrets: paths to keys, never keys). */
export interface LocalHandleData {
  experiment: string;
  stateDir: string;
  tag: string;
  bridge: string;
  prefix: string;
  subnet: string;
  slots: LocalHostSlot[];
  sshDir: string;
  knownHosts: string;
}

/** Every namespace host runs on this machine: one `machine` for all of them, this machine's name. */
export const thisMachine = (): string => hostname();

export function roleCounts(slots: LocalHostSlot[]): RoleSizes {
  const c: RoleSizes = { control: 0, broker: 0, worker: 0 };
  for (const s of slots) c[s.role]++;
  return c;
}

export function allocationFromHandle(h: PlatformHandle | undefined): LocalAllocation | undefined {
  if (!h || h.kind !== 'local') return undefined;
  const d = h.data as Partial<LocalHandleData>;
  if (!d.tag || !d.bridge || !d.prefix || !Array.isArray(d.slots) || !d.stateDir) return undefined;
  return { experiment: d.experiment ?? '', stateDir: d.stateDir, tag: d.tag, bridge: d.bridge, prefix: d.prefix, hosts: d.slots };
}

export function requireRoot(action: string): void {
  if (process.getuid && process.getuid() !== 0) {
    throw new PlatformError(
      'platform.local.not_root',
      `the local platform needs root to ${action} (network namespaces, a bridge and sshd); run as root, or use platform.kind: static`,
    );
  }
}

export function checkRoles(roles: RoleSizes): void {
  const n = totalHosts(roles);
  if (n < 1) throw new PlatformError('platform.local.no_hosts', 'the experiment asks for no hosts (roles.control + roles.broker + roles.worker = 0)');
  if (n > MAX_LOCAL_HOSTS) {
    throw new PlatformError('platform.local.too_many_hosts', `the local platform fits at most ${MAX_LOCAL_HOSTS} hosts in its /24; the experiment asks for ${n}`);
  }
}

export function handleOf(a: LocalAllocation): PlatformHandle {
  const ssh = sshPaths(a.stateDir);
  const machine = thisMachine();
  const commonArgs = `-o UserKnownHostsFile=${shq(ssh.knownHosts)} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`;
  const hosts: Host[] = a.hosts.map((s) => ({
    name: s.name,
    address: addressOf(a.prefix, s.octet),
    port: 22,
    user: 'root',
    keyFile: ssh.clientKey,
    roles: [s.role],
    machine,
    vars: { ansible_ssh_common_args: commonArgs, ansible_python_interpreter: '/usr/bin/python3', gr_netns: s.ns },
  }));
  const data: LocalHandleData = {
    experiment: a.experiment,
    stateDir: a.stateDir,
    tag: a.tag,
    bridge: a.bridge,
    prefix: a.prefix,
    subnet: subnetOf(a.prefix),
    slots: a.hosts,
    sshDir: ssh.dir,
    knownHosts: ssh.knownHosts,
  };
  return {
    kind: 'local',
    data: data as unknown as Record<string, unknown>,
    hosts,
    controllerAddress: addressOf(a.prefix, BRIDGE_OCTET),
    dataDirs: Object.fromEntries(a.hosts.map((s) => [s.name, join(a.stateDir, 'hosts', s.name)])),
    sharedFilesystem: true,
  };
}
