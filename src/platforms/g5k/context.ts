/**
 * What the g5k platform's plan, reserve, status and release share: the options tests inject (an API
 * client on the double, a stepped clock, SSH checks), whether this machine is inside Grid'5000, and
 * the rules that follow from it (which API client, whether to jump through the access gateway).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { G5kApi } from './api.js';
import type { Clock } from './clock.js';
import { insideGrid5000, loadCredentials } from './credentials.js';
import type { SshTarget } from './ssh.js';
import { sshRun } from './ssh.js';

export interface G5kPlatformOptions {
  /** Build the API client (tests give one pointed at the double). */
  api?: (baseUrl: string, timeoutSeconds: number, log: (line: string) => void) => G5kApi;
  clock?: Clock;
  /** Already-deployed check for a node (default: ssh root@node, partition 3 mounted on /). */
  isDeployed?: (t: SshTarget) => Promise<boolean>;
  /** SSH reachability (default: `ssh ... true`). */
  sshCheck?: (t: SshTarget) => Promise<boolean>;
  /** Inside Grid'5000 (default: this machine's name ends in grid5000.fr). */
  inside?: boolean;
  deployPollSeconds?: number;
  /** How long to wait for SSH after deployment, s. */
  sshWaitSeconds?: number;
}

export class G5kContext {
  readonly o: G5kPlatformOptions;
  readonly inside: boolean;

  constructor(opts: G5kPlatformOptions = {}) {
    this.o = opts;
    this.inside = opts.inside ?? insideGrid5000();
  }

  /**
   * The API client: the injected one, else one with the user's credentials (none needed inside
   * Grid'5000), stopped by `signal` (Ctrl-C), measuring the server's clock against `now` and waiting
   * between retries with `sleep` (the reservation's clock, so a scaled clock scales them too).
   */
  api(
    url: string,
    timeoutSeconds: number,
    log: (l: string) => void,
    extra: { signal?: AbortSignal; now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
  ): G5kApi {
    if (this.o.api) return this.o.api(url, timeoutSeconds, log);
    const credentials = loadCredentials({ inside: this.inside });
    return new G5kApi({ baseUrl: url, timeoutMs: timeoutSeconds * 1000, log, ...extra, ...(credentials ? { credentials } : {}) });
  }

  /** The Grid'5000 login whose jobs these are: `g5k.user`, else the API username, else $USER. */
  login(configured: string | undefined, api: G5kApi): string {
    const user = configured ?? api.username ?? process.env.USER;
    if (!user)
      throw new ConfigError('config.invalid', "platform.g5k.user: no Grid'5000 login known (no API credentials, $USER unset); set platform.g5k.user", {
        path: 'platform.g5k.user',
      });
    return user;
  }

  /** `user@gateway` when nodes are reached through the access gateway, else undefined. */
  jumpFor(jump: 'auto' | 'always' | 'never', user: string, gateway: string): string | undefined {
    const use = jump === 'always' || (jump === 'auto' && !this.inside);
    return use ? `${user}@${gateway}` : undefined;
  }

  /** SSH reachability of one node within `timeoutSeconds`. */
  sshCheck(t: SshTarget, timeoutSeconds: number): Promise<boolean> {
    return this.o.sshCheck ? this.o.sshCheck(t) : sshRun(t, 'true', timeoutSeconds).then((code) => code === 0);
  }
}

export function defaultPublicKey(): string | undefined {
  for (const f of ['id_ed25519.pub', 'id_rsa.pub', 'id_ecdsa.pub']) {
    const p = join(homedir(), '.ssh', f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function privateKeyFor(publicKey: string | undefined): string | undefined {
  if (!publicKey?.endsWith('.pub')) return undefined;
  const k = publicKey.slice(0, -4);
  return existsSync(k) ? k : undefined;
}
