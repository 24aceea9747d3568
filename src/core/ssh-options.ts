/**
 * A host's ssh options as Ansible uses them (`ansible_ssh_common_args`): what the platform gave,
 * plus the helper variables a platform may set instead, `gr_known_hosts` (a known_hosts file,
 * checked strictly) and `gr_jump` (`user@host:port` of a jump host, e.g. access.grid5000.fr).
 * The inventory writes this string; the SSH stack (src/remote) passes the same options to ssh.
 */
import { shq } from './shell.js';
import type { Host } from './types.js';

export function sshCommonArgs(host: Host): string | undefined {
  const v = host.vars ?? {};
  const parts: string[] = [];
  const given = v.ansible_ssh_common_args;
  if (typeof given === 'string' && given.trim() !== '') parts.push(given.trim());
  const kh = v.gr_known_hosts;
  if (typeof kh === 'string' && kh !== '' && !/UserKnownHostsFile/.test(parts.join(' '))) {
    parts.push(`-o UserKnownHostsFile=${shq(kh)} -o StrictHostKeyChecking=yes`);
  }
  const jump = v.gr_jump;
  if (typeof jump === 'string' && jump !== '' && !/ProxyJump|ProxyCommand/.test(parts.join(' '))) {
    parts.push(`-o ProxyJump=${shq(jump)}`);
  }
  return parts.length ? parts.join(' ') : undefined;
}
