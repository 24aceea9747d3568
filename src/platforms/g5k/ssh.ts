import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** How to reach one node over SSH (the same options go into the inventory). */
export interface SshTarget {
  address: string;
  user: string;
  /** `user@access.grid5000.fr`, or undefined inside Grid'5000 (or for a node mapped by address_map). */
  jump?: string;
  keyFile?: string;
  /**
   * Folder for the connection-sharing socket (the experiment's control folder, which `killjob`
   * closes). Without it, or when the socket path would be too long, each call connects on its own.
   */
  controlDir?: string;
}

/**
 * Host options for freshly deployed nodes: Kadeploy gives a node a new host key at every deployment,
 * so known_hosts cannot be kept (EnOSlib and execo do the same).
 */
export const SSH_HOST_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];

/** A Unix socket path holds 107 bytes; ssh adds `.` + 16 characters while binding; %C is 40 hex. */
const MAX_SOCKET = 107;

/** The connection-sharing options for `controlDir` (the access gateway allows few parallel connections). */
export function controlOptions(controlDir: string | undefined): string[] {
  if (!controlDir) return [];
  const path = join(controlDir, 'g5k-%C');
  if (Buffer.byteLength(controlDir) + '/g5k-'.length + 40 + 17 > MAX_SOCKET) return [];
  try {
    mkdirSync(controlDir, { recursive: true, mode: 0o700 });
  } catch {
    return [];
  }
  return ['-o', 'ControlMaster=auto', '-o', 'ControlPersist=120s', '-o', `ControlPath=${path}`];
}

/**
 * The `ansible_ssh_common_args` for a target: host-key options and the jump host. Connection sharing
 * (ControlMaster, ControlPersist, the control folder in the state folder) comes from the
 * experiment's ansible.cfg, so `killjob` finds and closes those connections.
 */
export function sshCommonArgs(t: Pick<SshTarget, 'jump'>): string {
  const opts = [...SSH_HOST_OPTIONS];
  if (t.jump) opts.push('-o', `ProxyJump=${t.jump}`);
  return opts.join(' ');
}

/** The ssh arguments for running `command` on a target. */
export function sshArgs(t: SshTarget, command: string, timeoutSeconds = 10): string[] {
  const args = [...SSH_HOST_OPTIONS, '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${timeoutSeconds}`, ...controlOptions(t.controlDir)];
  if (t.jump) args.push('-o', `ProxyJump=${t.jump}`);
  if (t.keyFile) args.push('-i', t.keyFile, '-o', 'IdentitiesOnly=yes');
  args.push(`${t.user}@${t.address}`, command);
  return args;
}

/** Run a command on a node with the ssh binary; resolves to its exit code (255: could not connect). */
export function sshRun(t: SshTarget, command: string, timeoutSeconds = 10): Promise<number> {
  const args = sshArgs(t, command, timeoutSeconds);
  return new Promise((resolve) => {
    execFile('ssh', args, { timeout: (timeoutSeconds + 20) * 1000 }, (err) => {
      if (!err) return resolve(0);
      const code = (err as { code?: unknown }).code;
      resolve(typeof code === 'number' ? code : 255);
    });
  });
}

/**
 * Kadeploy puts deployed images on partition 3: a node whose / is on /dev/...3 is already deployed
 * (the execo/EnOSlib check). Nodes we cannot log into as root are not.
 */
export async function isDeployed(t: SshTarget): Promise<boolean> {
  return (await sshRun({ ...t, user: 'root' }, "mount | grep -q '^/dev/.*3 on / '", 8)) === 0;
}
