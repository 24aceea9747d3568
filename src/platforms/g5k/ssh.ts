/**
 * SSH to Grid'5000 nodes: the options the inventory gives Ansible for a node, and setup's own checks
 * (already deployed? reachable?) run through the one SSH stack (src/remote) with the same options,
 * sharing connections with Ansible in the experiment's control folder.
 */
import { splitArgs } from '../../core/shell.js';
import { execTarget, SshSession, type SshTarget as RemoteTarget } from '../../remote/index.js';

/** How to reach one node over SSH (the same options go into the inventory). */
export interface SshTarget {
  address: string;
  user: string;
  /** `user@access.grid5000.fr`, or undefined inside Grid'5000 (or for a node mapped by address_map). */
  jump?: string;
  keyFile?: string;
  /**
   * The experiment's Ansible control folder (`controlPathDir`): checks share connections with
   * Ansible there, and `killjob` closes them. Without it, each check connects on its own.
   */
  controlDir?: string;
}

/**
 * Host options for freshly deployed nodes: Kadeploy gives a node a new host key at every deployment,
 * so known_hosts cannot be kept (EnOSlib and execo do the same).
 */
export const SSH_HOST_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];

/**
 * The `ansible_ssh_common_args` for a node: host-key options and the jump host. Connection sharing
 * (ControlMaster, ControlPersist, the control folder in the state folder) comes from the
 * experiment's ansible.cfg, so `killjob` finds and closes those connections.
 */
export function nodeSshArgs(t: Pick<SshTarget, 'jump'>): string {
  const opts = [...SSH_HOST_OPTIONS];
  if (t.jump) opts.push('-o', `ProxyJump=${t.jump}`);
  return opts.join(' ');
}

/** The node as the SSH stack reaches it: the inventory's options, and only the given key. */
export function remoteTarget(t: SshTarget): RemoteTarget {
  const options = splitArgs(nodeSshArgs(t));
  if (t.keyFile) options.push('-o', 'IdentitiesOnly=yes');
  return { name: t.address, address: t.address, port: 22, user: t.user, options, strictHostKeyChecking: false, ...(t.keyFile ? { keyFile: t.keyFile } : {}) };
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
