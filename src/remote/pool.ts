import { connect, type SshConnection } from './connect.js';
import type { ConnectionSource } from './exec.js';
import type { SshTarget } from './target.js';

const keyOf = (t: SshTarget): string =>
  `${t.user}@${t.address}:${t.port}|${t.keyFile ?? ''}|${t.jump ? `${t.jump.user}@${t.jump.address}:${t.jump.port}` : ''}`;

/**
 * Connections kept open between commands (the interactive shell): the second `sh()` on a host
 * skips the handshake. A connection that closes is dropped and reopened on next use.
 */
export class SshPool implements ConnectionSource {
  private readonly conns = new Map<string, Promise<SshConnection>>();

  async get(target: SshTarget, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<SshConnection> {
    const key = keyOf(target);
    let p = this.conns.get(key);
    if (!p) {
      p = connect(target, opts);
      this.conns.set(key, p);
      p.then(
        (c) => c.closed.then(() => this.conns.get(key) === p && this.conns.delete(key)),
        () => this.conns.get(key) === p && this.conns.delete(key),
      );
    }
    const c = await p;
    // The cached connection may carry another host's name (same address); keep the caller's.
    return c.target.name === target.name ? c : { ...c, target };
  }

  release(): void {
    /* kept open */
  }

  get size(): number {
    return this.conns.size;
  }

  /** Close every connection (on shell exit). */
  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(
      all.map(async (p) => {
        try {
          const c = await p;
          c.close();
        } catch {
          /* never opened */
        }
      }),
    );
  }
}
