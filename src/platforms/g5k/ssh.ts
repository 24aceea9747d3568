/**
 * SSH to Grid'5000 nodes: the options the inventory gives Ansible for a node, and setup's own checks
 * (already deployed? reachable?) run through the one SSH stack (src/remote) with the same options,
 * sharing connections with Ansible in the experiment's control folder.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { shq, splitArgs } from '../../core/shell.js';
import { execTarget, SshSession, type SshTarget as RemoteTarget } from '../../remote/index.js';

/** How to reach one node over SSH (the same options go into the inventory). */
export interface SshTarget {
  address: string;
  user: string;
  /** `user@access.grid5000.fr`, or undefined inside Grid'5000 (or for a node mapped by address_map). */
  jump?: string;
  keyFile?: string;
  /** The experiment's known_hosts for its nodes (see `knownHostsPath`). */
  knownHosts?: string;
  /**
   * The experiment's Ansible control folder (`controlPathDir`): checks share connections with
   * Ansible there, and `killjob` closes them. Without it, each check connects on its own.
   */
  controlDir?: string;
}

/** The experiment's own known_hosts for its nodes, in its state folder. */
export const knownHostsPath = (stateDir: string): string => join(stateDir, 'g5k_known_hosts');

/**
 * The `ansible_ssh_common_args` for a node: the experiment's known_hosts, where a node's key is
 * recorded the first time (`accept-new`) and must match afterwards (a deployment gives a node a new
 * key: `forgetHostKeys` drops the old one first), and the jump host. Each value is quoted once.
 * Connection sharing comes from the experiment's ansible.cfg, so `killjob` finds and closes it.
 */
export function nodeSshArgs(t: Pick<SshTarget, 'jump' | 'knownHosts'>): string {
  const opts: string[] = [];
  if (t.knownHosts) opts.push('-o', `UserKnownHostsFile=${t.knownHosts}`, '-o', 'StrictHostKeyChecking=accept-new');
  else opts.push('-o', 'StrictHostKeyChecking=accept-new');
  opts.push('-o', 'LogLevel=ERROR');
  if (t.jump) opts.push('-o', `ProxyJump=${t.jump}`);
  return opts.map(shq).join(' ');
}

/** Forget the recorded keys of freshly deployed nodes (Kadeploy gave them new ones). */
export async function forgetHostKeys(knownHosts: string, addresses: string[]): Promise<void> {
  if (!existsSync(knownHosts)) return;
  for (const a of addresses) await execa('ssh-keygen', ['-R', a, '-f', knownHosts], { reject: false, stdin: 'ignore' });
  rmSync(`${knownHosts}.old`, { force: true });
}

/** The node as the SSH stack reaches it: the inventory's options, and only the given key. */
export function remoteTarget(t: SshTarget): RemoteTarget {
  const options = splitArgs(nodeSshArgs(t));
  if (t.keyFile) options.push('-o', 'IdentitiesOnly=yes');
  return { name: t.address, address: t.address, port: 22, user: t.user, options, ...(t.keyFile ? { keyFile: t.keyFile } : {}) };
}

/** Run a command on a node; resolves to its exit code (255: could not connect, or killed after the timeout). */
export async function sshRun(t: SshTarget, command: string, timeoutSeconds = 10): Promise<number> {
  const session = new SshSession({ connectTimeoutS: timeoutSeconds, ...(t.controlDir ? { ansibleControlDir: t.controlDir } : {}) });
  try {
    const r = await execTarget(remoteTarget(t), command, { session, timeoutMs: (timeoutSeconds + 20) * 1000 });
    return r.code ?? 255;
  } finally {
    await session.close();
  }
}

/**
 * Kadeploy puts deployed images on partition 3: a node whose / is on /dev/...3 is already deployed
 * (the execo/EnOSlib check). Nodes we cannot log into as root are not.
 */
export async function isDeployed(t: SshTarget): Promise<boolean> {
  return (await sshRun({ ...t, user: 'root' }, "mount | grep -q '^/dev/.*3 on / '", 8)) === 0;
}
