import type { Host } from '../core/types.js';
import { splitArgs } from '../core/shell.js';
import { sshCommonArgs } from '../core/ssh-options.js';

/** Where and how to reach one host over SSH. */
export interface SshTarget {
  /** Inventory name, used in messages and results. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** Private key file; without it, ssh tries the agent and ~/.ssh/id_* as usual. */
  keyFile?: string;
  /**
   * known_hosts file the server key must be listed in. Without it, ~/.ssh/known_hosts is used and an
   * unlisted host is accepted (`StrictHostKeyChecking=accept-new`), as the static platform's probe does.
   */
  knownHostsFile?: string;
  /** Refuse hosts missing from `knownHostsFile` (default true when a file is given). */
  strictHostKeyChecking?: boolean;
  /** Reach this host through another one, e.g. access.grid5000.fr (a ProxyCommand with the jump's own options). */
  jump?: SshTarget;
  /**
   * The host's own ssh options, passed to ssh verbatim and in Ansible's order (its
   * `ansible_ssh_common_args`: ProxyJump, known_hosts, ...). They win over the fields above.
   */
  options?: string[];
}

export interface TargetDefaults {
  /** known_hosts to use when the host does not name one (e.g. `<stateDir>/ssh/known_hosts`). */
  knownHostsFile?: string;
}

/** `-o Key=Value`, `-oKey=Value`, `-o Key Value` options from ssh arguments, keys lower-cased; plus `-J`. */
export function sshOptions(args: string[]): Map<string, string> {
  const opts = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let kv: string | undefined;
    if (a === '-o') kv = args[++i];
    else if (a.startsWith('-o')) kv = a.slice(2);
    else if (a === '-J') {
      const v = args[++i];
      if (v) opts.set('proxyjump', v);
      continue;
    } else if (a.startsWith('-J')) {
      opts.set('proxyjump', a.slice(2));
      continue;
    }
    if (!kv) continue;
    const m = /^([A-Za-z]+)\s*[= ]\s*(.*)$/.exec(kv);
    if (m && !opts.has(m[1]!.toLowerCase())) opts.set(m[1]!.toLowerCase(), m[2]!);
  }
  return opts;
}

/** Parse `[user@]host[:port]` (the first hop only, when a comma-separated chain is given). */
export function parseJumpSpec(spec: string, defaults: { user: string; keyFile?: string }): SshTarget {
  const first = spec.split(',')[0]!.trim();
  const at = first.lastIndexOf('@');
  const user = at >= 0 ? first.slice(0, at) : defaults.user;
  let rest = at >= 0 ? first.slice(at + 1) : first;
  let port = 22;
  const bracket = /^\[(.+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > 0 && /^\d+$/.test(rest.slice(colon + 1))) {
      port = Number(rest.slice(colon + 1));
      rest = rest.slice(0, colon);
    }
  }
  const t: SshTarget = { name: rest, address: rest, port, user };
  if (defaults.keyFile) t.keyFile = defaults.keyFile;
  return t;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The SSH target for an inventory host: address, port, user and key from the host, its ssh options
 * exactly as the inventory gives them to Ansible, and what those options say (known_hosts, strict
 * checking, jump host) for messages.
 */
export function targetFromHost(host: Host, defaults: TargetDefaults = {}): SshTarget {
  const vars = host.vars ?? {};
  const t: SshTarget = { name: host.name, address: host.address, port: host.port || 22, user: host.user || 'root' };
  const key = host.keyFile ?? str(vars.ansible_ssh_private_key_file);
  if (key) t.keyFile = key;
  const options = splitArgs(sshCommonArgs(host) ?? '');
  if (options.length) t.options = options;
  const opts = sshOptions(options);
  const khf = opts.get('userknownhostsfile');
  const known = khf && khf !== '/dev/null' ? khf.split(/\s+/)[0] : defaults.knownHostsFile;
  if (khf === '/dev/null') t.strictHostKeyChecking = false;
  else if (known) t.knownHostsFile = known;
  const strict = opts.get('stricthostkeychecking')?.toLowerCase();
  if (strict === 'no' || strict === 'off' || strict === 'accept-new') t.strictHostKeyChecking = false;
  else if (strict === 'yes') t.strictHostKeyChecking = true;
  const jump = opts.get('proxyjump');
  if (jump && jump.toLowerCase() !== 'none') t.jump = parseJumpSpec(jump, { user: process.env.USER ?? 'root' });
  return t;
}
