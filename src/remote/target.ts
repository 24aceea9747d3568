import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../core/types.js';

/** Where and how to reach one host over SSH. */
export interface SshTarget {
  /** Inventory name, used in messages and results. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** Private key file; without it, the SSH agent and then ~/.ssh/id_{ed25519,ecdsa,rsa} are tried. */
  keyFile?: string;
  /**
   * known_hosts file the server key must be listed in. Without it, ~/.ssh/known_hosts is used when it
   * lists the host; an unlisted host is then accepted (as `StrictHostKeyChecking=accept-new`, without writing).
   */
  knownHostsFile?: string;
  /** Refuse hosts missing from `knownHostsFile` (default true when a file is given). */
  strictHostKeyChecking?: boolean;
  /** Reach this host through another one (`ssh -J`), e.g. access.grid5000.fr. */
  jump?: SshTarget;
}

export interface TargetDefaults {
  /** known_hosts to use when the host does not name one (e.g. `<stateDir>/ssh/known_hosts`). */
  knownHostsFile?: string;
}

/** Split a shell-ish argument string (ansible_ssh_common_args) into words, honouring quotes. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  let last = -1;
  while ((m = re.exec(s)) !== null) {
    const word = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? '');
    // Adjacent pieces (`-oFoo="a b"`) join into one word.
    if (last === m.index && out.length) out[out.length - 1] += word;
    else out.push(word);
    last = re.lastIndex;
  }
  return out;
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
    if (m) opts.set(m[1]!.toLowerCase(), m[2]!);
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
 * The SSH target for an inventory host: address, port, user and key from the host, plus what its
 * `ansible_ssh_common_args` say (UserKnownHostsFile, StrictHostKeyChecking, ProxyJump / -J).
 */
export function targetFromHost(host: Host, defaults: TargetDefaults = {}): SshTarget {
  const vars = host.vars ?? {};
  const t: SshTarget = { name: host.name, address: host.address, port: host.port || 22, user: host.user || 'root' };
  const key = host.keyFile ?? str(vars.ansible_ssh_private_key_file);
  if (key) t.keyFile = key;
  const opts = sshOptions(splitArgs(str(vars.ansible_ssh_common_args) ?? ''));
  const khf = opts.get('userknownhostsfile');
  const grKnown = str(vars.gr_known_hosts);
  const known = khf && khf !== '/dev/null' ? khf.split(/\s+/)[0] : (grKnown ?? defaults.knownHostsFile);
  if (!khf && grKnown) t.strictHostKeyChecking = true;
  if (khf === '/dev/null') t.strictHostKeyChecking = false;
  else if (known) t.knownHostsFile = known;
  const strict = opts.get('stricthostkeychecking')?.toLowerCase();
  if (strict === 'no' || strict === 'off' || strict === 'accept-new') t.strictHostKeyChecking = false;
  else if (strict === 'yes') t.strictHostKeyChecking = true;
  const jump = opts.get('proxyjump') ?? str(vars.gr_jump);
  if (jump && jump.toLowerCase() !== 'none') {
    const j = parseJumpSpec(jump, { user: process.env.USER ?? 'root' });
    // The jump host is checked against the user's ~/.ssh/known_hosts when it is listed there.
    j.strictHostKeyChecking = false;
    t.jump = j;
  }
  return t;
}

/** Default private keys, in the order OpenSSH tries them. */
export function defaultKeyFiles(): string[] {
  const d = join(homedir(), '.ssh');
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(d, f)).filter((p) => existsSync(p));
}
