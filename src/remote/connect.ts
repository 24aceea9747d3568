import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import { InterruptedError } from '../core/errors.js';
import { RemoteError } from './errors.js';
import { checkHostKey, loadKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { defaultKeyFiles, type SshTarget } from './target.js';

export interface ConnectOptions {
  /** Milliseconds for TCP + handshake + authentication (default 10 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** An open SSH connection; `close()` also closes the jump connection it went through, if any. */
export interface SshConnection {
  target: SshTarget;
  client: Client;
  close(): void;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
}

function knownHosts(file: string): KnownHostEntry[] {
  return loadKnownHosts(file);
}

/** The host key check for one target, as ssh2's synchronous hostVerifier; remembers why it refused. */
function hostVerifier(t: SshTarget, refusal: { message?: string }): (key: Buffer) => boolean {
  return (key: Buffer) => {
    let file = t.knownHostsFile;
    let strict = t.strictHostKeyChecking ?? file !== undefined;
    if (!file) {
      const user = join(homedir(), '.ssh', 'known_hosts');
      if (existsSync(user)) file = user;
      strict = false;
    }
    if (!file) return true;
    let entries: KnownHostEntry[];
    try {
      entries = knownHosts(file);
    } catch (e) {
      refusal.message = `cannot read known_hosts file ${file}: ${(e as Error).message}`;
      return false;
    }
    const v = checkHostKey(entries, t.address, t.port, key);
    if (v.ok) return true;
    if (v.reason === 'unknown' && !strict) return true;
    refusal.message =
      v.reason === 'mismatch'
        ? `host key of ${t.name} (${t.address}:${t.port}) does not match ${file}: ${v.detail} (the host was replaced, or someone is in the middle)`
        : `host key of ${t.name} (${t.address}:${t.port}) refused: ${v.detail} in ${file}`;
    return false;
  };
}

function authConfig(t: SshTarget): Partial<ConnectConfig> {
  if (t.keyFile) {
    try {
      return { privateKey: readFileSync(t.keyFile) };
    } catch (e) {
      throw new RemoteError('remote.key_unreadable', `cannot read the SSH key ${t.keyFile} for ${t.name}: ${(e as Error).message}`, {
        hosts: [t.name],
        cause: e,
      });
    }
  }
  const cfg: Partial<ConnectConfig> = {};
  if (process.env.SSH_AUTH_SOCK) cfg.agent = process.env.SSH_AUTH_SOCK;
  const first = defaultKeyFiles()[0];
  if (first) cfg.privateKey = readFileSync(first);
  return cfg;
}

function describe(t: SshTarget): string {
  return `${t.user}@${t.address}:${t.port}` + (t.jump ? ` via ${t.jump.address}` : '');
}

function connectOne(t: SshTarget, sock: Readable | undefined, opts: ConnectOptions): Promise<Client> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise<Client>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new InterruptedError(`connection to ${t.name} interrupted`));
    const client = new Client();
    const refusal: { message?: string } = {};
    let settled = false;
    const onAbort = (): void => {
      finish(new InterruptedError(`connection to ${t.name} interrupted`));
      client.end();
    };
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.destroy();
        reject(err);
      } else resolve(client);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => finish());
    client.once('error', (e: Error & { level?: string; code?: string }) => {
      if (refusal.message) return finish(new RemoteError('remote.host_key', refusal.message, { hosts: [t.name], cause: e }));
      if (e.level === 'client-authentication') {
        return finish(
          new RemoteError('remote.auth', `SSH authentication to ${t.name} (${describe(t)}) failed`, {
            hosts: [t.name],
            cause: e,
            hint: t.keyFile ? `is the public key of ${t.keyFile} in the host's authorized_keys?` : 'give the host a key file, or load a key into ssh-agent',
          }),
        );
      }
      if (e.level === 'client-timeout' || /Timed out/i.test(e.message)) {
        return finish(new RemoteError('remote.timeout', `SSH to ${t.name} (${describe(t)}) timed out after ${timeoutMs / 1000} s`, { hosts: [t.name], cause: e }));
      }
      finish(new RemoteError('remote.connect', `cannot reach ${t.name} over SSH (${describe(t)}): ${e.message}`, { hosts: [t.name], cause: e }));
    });
    client.once('close', () => finish(new RemoteError('remote.connect', `SSH connection to ${t.name} (${describe(t)}) closed during the handshake`, { hosts: [t.name] })));
    let auth: Partial<ConnectConfig>;
    try {
      auth = authConfig(t);
    } catch (e) {
      return finish(e as Error);
    }
    const cfg: ConnectConfig = {
      username: t.user,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      hostVerifier: hostVerifier(t, refusal),
      ...auth,
    };
    if (sock) cfg.sock = sock;
    else {
      cfg.host = t.address;
      cfg.port = t.port;
    }
    client.connect(cfg);
  });
}

/** Open an SSH connection to a target (through its jump host if it has one). */
export async function connect(t: SshTarget, opts: ConnectOptions = {}): Promise<SshConnection> {
  let jumpClient: Client | undefined;
  let sock: Readable | undefined;
  if (t.jump) {
    jumpClient = await connectOne(t.jump, undefined, opts);
    const jc = jumpClient;
    try {
      sock = await new Promise<Readable>((resolve, reject) =>
        jc.forwardOut('127.0.0.1', 0, t.address, t.port, (err, stream) => (err ? reject(err) : resolve(stream))),
      );
    } catch (e) {
      jc.end();
      throw new RemoteError('remote.jump', `jump host ${t.jump.address} cannot open a connection to ${t.name} (${t.address}:${t.port}): ${(e as Error).message}`, {
        hosts: [t.name],
        cause: e,
      });
    }
  }
  let client: Client;
  try {
    client = await connectOne(t, sock, opts);
  } catch (e) {
    jumpClient?.end();
    throw e;
  }
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.on('error', () => {
    /* after ready: surfaced by the channels that fail */
  });
  closed.then(() => jumpClient?.end(), () => undefined);
  return {
    target: t,
    client,
    closed,
    close: () => {
      client.end();
      jumpClient?.end();
    },
  };
}
