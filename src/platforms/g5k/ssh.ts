import { execFile } from 'node:child_process';

/** How to reach one node over SSH (the same options go into the inventory). */
export interface SshTarget {
  address: string;
  user: string;
  /** `user@access.grid5000.fr`, or undefined inside Grid'5000. */
  jump?: string;
  keyFile?: string;
}

export const SSH_BASE_OPTIONS = [
  '-o', 'StrictHostKeyChecking=no',
  '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'LogLevel=ERROR',
  // The access gateway allows few parallel connections: reuse them.
  '-o', 'ControlMaster=auto',
  '-o', 'ControlPersist=120s',
  '-o', 'ControlPath=~/.ssh/greenrace-%C',
];

/** The `ansible_ssh_common_args` for a target. */
export function sshCommonArgs(t: Pick<SshTarget, 'jump'>): string {
  const opts = [...SSH_BASE_OPTIONS];
  if (t.jump) opts.push('-o', `ProxyJump=${t.jump}`);
  return opts.join(' ');
}

/** Run a command on a node with the ssh binary; resolves to its exit code (255: could not connect). */
export function sshRun(t: SshTarget, command: string, timeoutSeconds = 10): Promise<number> {
  const args = [...SSH_BASE_OPTIONS, '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${timeoutSeconds}`];
  if (t.jump) args.push('-o', `ProxyJump=${t.jump}`);
  if (t.keyFile) args.push('-i', t.keyFile);
  args.push(`${t.user}@${t.address}`, command);
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
