/**
 * How greenrace runs `ssh`: the options in Ansible's order, and the connection sharing. A session
 * owns a control folder: with an experiment's Ansible control folder (`control_path_dir` of its
 * ansible.cfg) the sockets are named as Ansible's ssh plugin names them, so a command reuses the
 * connection a play just opened (and a play reuses ours); otherwise a private folder, whose
 * masters `close()` stops.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shJoin } from '../core/shell.js';
import { sshOptions, type SshTarget } from './target.js';

export interface SessionOptions {
  /**
   * An experiment's Ansible control folder (ansible/config.ts `controlPathDir`): sockets shared with
   * Ansible, left open for it (they expire after ControlPersist; `killjob` closes them).
   */
  ansibleControlDir?: string;
  /** Seconds a connection stays open after its last command (Ansible's ansible.cfg says 60). */
  persistSeconds?: number;
  /** ssh's connect timeout in seconds (default 10, as ansible.cfg). */
  connectTimeoutS?: number;
}

/** The socket name Ansible's ssh connection plugin uses: sha1("host-port-user")[:10] in control_path_dir. */
export function ansibleControlPath(dir: string, t: Pick<SshTarget, 'address' | 'port' | 'user'>): string {
  return join(dir, createHash('sha1').update(`${t.address}-${t.port}-${t.user}`).digest('hex').slice(0, 10));
}

/** The arguments for a jump host: its own key, known_hosts and port (ProxyJump would not carry them). */
function jumpCommand(j: SshTarget): string {
  return shJoin(['ssh', ...baseArgs(j, 10), ...hostKeyArgs(j, []), '-W', '[%h]:%p', j.address]);
}

function baseArgs(t: SshTarget, connectTimeoutS: number): string[] {
  const a = ['-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', `Port=${t.port}`];
  if (t.keyFile) a.push('-o', `IdentityFile=${t.keyFile}`);
  a.push('-o', `User=${t.user}`, '-o', `ConnectTimeout=${connectTimeoutS}`);
  return a;
}

function hostKeyArgs(t: SshTarget, given: string[]): string[] {
  const o = sshOptions(given);
  const a: string[] = [];
  if (!o.has('userknownhostsfile') && t.knownHostsFile) a.push('-o', `UserKnownHostsFile=${t.knownHostsFile}`);
  if (!o.has('stricthostkeychecking')) {
    const strict = t.strictHostKeyChecking ?? t.knownHostsFile !== undefined;
    a.push('-o', `StrictHostKeyChecking=${strict ? 'yes' : 'accept-new'}`);
  }
  return a;
}

export class SshSession {
  readonly controlDir: string;
  private readonly ansible: boolean;
  private readonly persist: number;
  private readonly connectTimeoutS: number;

  constructor(opts: SessionOptions = {}) {
    this.ansible = opts.ansibleControlDir !== undefined;
    // Control sockets need a short path (sun_path is 108 bytes): a private folder lives in /tmp.
    this.controlDir = opts.ansibleControlDir ?? mkdtempSync(join(tmpdir(), 'grs-'));
    mkdirSync(this.controlDir, { recursive: true, mode: 0o700 });
    this.persist = opts.persistSeconds ?? 60;
    this.connectTimeoutS = opts.connectTimeoutS ?? 10;
    this.before = new Set(this.ansible ? this.sockets() : []);
  }

  private sockets(): string[] {
    try {
      return readdirSync(this.controlDir, { withFileTypes: true })
        .filter((d) => d.isSocket() || !this.ansible)
        .map((d) => join(this.controlDir, d.name));
    } catch {
      return [];
    }
  }

  private readonly opened = new Map<string, Promise<void>>();
  /** Shared (Ansible) sockets that were open before this session: left open by close(). */
  private readonly before: Set<string>;

  /**
   * The first command to a host opens its shared connection; commands to the same host that start
   * meanwhile wait for it (instead of racing to be the master). Returns `opened`, which the first
   * command calls once its connection is up (or has failed).
   */
  async firstUse(t: SshTarget): Promise<() => void> {
    const key = `${t.user}@${t.address}:${t.port}`;
    const p = this.opened.get(key);
    if (p) {
      await p;
      return () => undefined;
    }
    let done!: () => void;
    this.opened.set(key, new Promise<void>((r) => (done = r)));
    return done;
  }

  controlPath(t: SshTarget): string {
    return this.ansible ? ansibleControlPath(this.controlDir, t) : join(this.controlDir, '%C');
  }

  /** The ssh argv (without the program) that runs `remote` on `t`, options in Ansible's order. */
  argv(t: SshTarget, remote: string): string[] {
    const given = t.options ?? [];
    const o = sshOptions(given);
    const a = ['-o', 'ControlMaster=auto', '-o', `ControlPersist=${this.persist}s`, '-o', 'ServerAliveInterval=15', ...baseArgs(t, this.connectTimeoutS), ...given];
    a.push(...hostKeyArgs(t, given));
    if (t.jump && !o.has('proxyjump') && !o.has('proxycommand')) a.push('-o', `ProxyCommand=${jumpCommand(t.jump)}`);
    if (!o.has('controlpath')) a.push('-o', `ControlPath=${this.controlPath(t)}`);
    a.push('-T', t.address, '--', remote);
    return a;
  }

  /**
   * Stop the connections opened while this session was in use, by its commands or by the plays
   * they ran (no SSH connection outlives the command); those open before are left to their owner
   * (they expire after ControlPersist; `killjob` closes them).
   */
  async close(): Promise<void> {
    const socks = this.sockets().filter((s) => !this.before.has(s));
    await Promise.all(
      socks.map(
        (s) =>
          new Promise<void>((resolve) => {
            execFile('ssh', ['-o', `ControlPath=${s}`, '-O', 'exit', 'greenrace'], { timeout: 5000 }, () => resolve());
          }),
      ),
    );
    this.opened.clear();
    if (!this.ansible) rmSync(this.controlDir, { recursive: true, force: true });
  }
}
